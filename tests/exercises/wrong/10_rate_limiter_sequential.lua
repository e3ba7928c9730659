-- Wrong: calls one at a time, each after the previous one finished.
local M = {}
function M.rate_limited(calls, per_second)
  local results = {}
  for i, call in ipairs(calls) do results[i] = call() end
  return results
end
return M
