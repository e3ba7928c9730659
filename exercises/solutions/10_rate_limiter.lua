-- Exercise 10: a rate limiter -- a reference solution.
--
-- per_second permits; each start takes one, and gives it back one second
-- later, whenever the call itself ends. So at most per_second starts fall in
-- any one second, and a call may start as soon as the limit allows it.
-- (Simpler, and as good here: start per_second calls, asched.sleep(1), start
-- the next per_second, and so on.)

local M = {}

function M.rate_limited(calls, per_second)
  local permits = asched.semaphore(per_second)
  local tasks = {}
  for i, call in ipairs(calls) do
    permits:acquire()   -- waits while per_second calls started in the last second
    asched.spawn(function()
      asched.sleep(1)
      permits:release()
    end)
    tasks[i] = asched.spawn(call)
  end
  local results = asched.gather(tasks)
  local list = {}
  for i = 1, results.n do list[i] = results[i] end
  return list
end

return M
