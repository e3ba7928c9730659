-- Exercise 08: the first response wins -- a reference solution.

local M = {}

function M.first_response(mirrors)
  local tasks = {}
  for i, mirror in ipairs(mirrors) do
    tasks[i] = asched.spawn(mirror)
  end
  local done = asched.wait(tasks, {return_when = "first_completed"})
  for _, task in ipairs(tasks) do
    task:cancel()             -- returns false, harmlessly, for the winner
  end
  return done[1]:result()
end

return M
