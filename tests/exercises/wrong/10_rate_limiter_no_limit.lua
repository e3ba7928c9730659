-- Wrong: starts every call at once, ignoring the limit.
local M = {}
function M.rate_limited(calls, per_second)
  local r = asched.gather(calls)
  local list = {}
  for i = 1, r.n do list[i] = r[i] end
  return list
end
return M
