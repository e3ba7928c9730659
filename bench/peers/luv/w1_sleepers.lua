-- W1 sleepers on Lua 5.4 + luv: N tasks, task i sleeps ((i % 1000) / 1000) * 0.5 s
-- and returns i; all gathered; prints the sum. Usage: lua5.4 w1_sleepers.lua [N]
local dir = (arg and arg[0] or ""):match("^(.*)/") or "."
local sched = dofile(dir .. "/scheduler.lua")
local N = tonumber(arg[1]) or 1000000

local function sleeper(i)
  sched.sleep(((i % 1000) / 1000) * 0.5)
  return i
end

sched.run(function()
  local tasks = {}
  for i = 1, N do tasks[i] = sched.spawn(sleeper, i) end
  local results = sched.gather(tasks)
  local sum = 0
  for i = 1, results.n do sum = sum + results[i] end
  print("result=" .. sum)
end)
