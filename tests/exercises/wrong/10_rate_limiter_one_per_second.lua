-- Wrong: one start per second, whatever per_second says: safe, but far too slow.
local M = {}
function M.rate_limited(calls, per_second)
  local tasks = {}
  for i, call in ipairs(calls) do
    tasks[i] = asched.spawn(call)
    if i < #calls then asched.sleep(1) end
  end
  local r = asched.gather(tasks)
  local list = {}
  for i = 1, r.n do list[i] = r[i] end
  return list
end
return M
