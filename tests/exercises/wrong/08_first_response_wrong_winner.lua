-- Wrong: waits for the first to finish, but returns the first mirror's
-- task result (mirror 1) instead of the winner's, after waiting for it.
local M = {}
function M.first_response(mirrors)
  local tasks = {}
  for i, mirror in ipairs(mirrors) do tasks[i] = asched.spawn(mirror) end
  asched.wait(tasks, {return_when = "first_completed"})
  local result = tasks[1]:await()
  for _, task in ipairs(tasks) do task:cancel() end
  return result
end
return M
