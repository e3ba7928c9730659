-- Wrong: prints a plausible report and returns made-up results without calling anything.
local M = {}
function M.rate_limited(calls, per_second)
  print(string.format("Started %d calls, %d per second", #calls, per_second))
  local list = {}
  for i = 1, #calls do list[i] = "result " .. i end
  return list
end
return M
