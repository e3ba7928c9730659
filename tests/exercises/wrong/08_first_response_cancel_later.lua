-- Wrong: returns at once, but only cancels the losers one second later.
local M = {}
function M.first_response(mirrors)
  local tasks = {}
  for i, mirror in ipairs(mirrors) do tasks[i] = asched.spawn(mirror) end
  local done = asched.wait(tasks, {return_when = "first_completed"})
  asched.spawn(function()
    asched.sleep(1)
    for _, task in ipairs(tasks) do task:cancel() end
  end)
  return done[1]:result()
end
return M
