-- Wrong: starts a group of per_second calls, then waits for the whole group
-- to finish before starting the next group.
local M = {}
function M.rate_limited(calls, per_second)
  local list = {}
  for first = 1, #calls, per_second do
    local group = {}
    for i = first, math.min(first + per_second - 1, #calls) do group[#group + 1] = calls[i] end
    local r = asched.gather(group)
    for k = 1, r.n do list[first + k - 1] = r[k] end
    asched.sleep(1)
  end
  return list
end
return M
