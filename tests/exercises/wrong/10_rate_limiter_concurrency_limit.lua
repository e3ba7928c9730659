-- Wrong: a semaphore held while each call runs limits how many RUN at once,
-- not how many START per second: slow calls hold up the next starts.
local M = {}
function M.rate_limited(calls, per_second)
  local permits = asched.semaphore(per_second)
  local fns = {}
  for i, call in ipairs(calls) do
    fns[i] = function()
      local permit <close> = permits:acquire()
      return call()
    end
  end
  local r = asched.gather(fns)
  local list = {}
  for i = 1, r.n do list[i] = r[i] end
  return list
end
return M
