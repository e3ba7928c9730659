-- Wrong: returns the first answer but leaves the other mirrors running.
local M = {}
function M.first_response(mirrors)
  local tasks = {}
  for i, mirror in ipairs(mirrors) do tasks[i] = asched.spawn(mirror) end
  for task in asched.as_completed(tasks) do
    return task:result()
  end
end
return M
