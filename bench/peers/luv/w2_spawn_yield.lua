-- W2 spawn-yield on Lua 5.4 + luv: N tasks each yield once with sleep(0) and
-- return i; all gathered; prints the sum. Usage: lua5.4 w2_spawn_yield.lua [N]
local dir = (arg and arg[0] or ""):match("^(.*)/") or "."
local sched = dofile(dir .. "/scheduler.lua")
local N = tonumber(arg[1]) or 1000000

local function yielder(i)
  sched.sleep(0)
  return i
end

sched.run(function()
  local tasks = {}
  for i = 1, N do tasks[i] = sched.spawn(yielder, i) end
  local results = sched.gather(tasks)
  local sum = 0
  for i = 1, results.n do sum = sum + results[i] end
  print("result=" .. sum)
end)
