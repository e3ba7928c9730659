-- W6 wait_for on Lua 5.4 + luv: N tasks, even ones sleep 0.1 s and odd ones
-- 0.3 s, each under a 0.2 s wait_for; prints how many timed out (N / 2).
-- Usage: lua5.4 w6_wait_for.lua [N]
local dir = (arg and arg[0] or ""):match("^(.*)/") or "."
local sched = dofile(dir .. "/scheduler.lua")
local N = tonumber(arg[1]) or 100000

local function bounded(i)
  local seconds = i % 2 == 0 and 0.1 or 0.3
  local ok = pcall(sched.wait_for, function() sched.sleep(seconds) end, 0.2)
  return ok and 0 or 1
end

sched.run(function()
  local tasks = {}
  for i = 1, N do tasks[i] = sched.spawn(bounded, i) end
  local results = sched.gather(tasks)
  local timeouts = 0
  for i = 1, results.n do timeouts = timeouts + results[i] end
  print("result=" .. timeouts)
end)
