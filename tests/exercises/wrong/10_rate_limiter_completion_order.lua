-- Wrong: the timing is right, but results are listed in the order the calls finished.
local M = {}
function M.rate_limited(calls, per_second)
  local tasks = {}
  for i, call in ipairs(calls) do
    tasks[i] = asched.spawn(call)
    if i % per_second == 0 and i < #calls then asched.sleep(1) end
  end
  local list = {}
  for task in asched.as_completed(tasks) do list[#list + 1] = task:result() end
  return list
end
return M
