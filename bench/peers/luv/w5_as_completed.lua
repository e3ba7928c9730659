-- W5 as_completed on Lua 5.4 + luv: N tasks sleeping spread over 0.2 s,
-- consumed in completion order; prints how many came.
-- Usage: lua5.4 w5_as_completed.lua [N]
local dir = (arg and arg[0] or ""):match("^(.*)/") or "."
local sched = dofile(dir .. "/scheduler.lua")
local N = tonumber(arg[1]) or 100000

sched.run(function()
  local tasks = {}
  for i = 1, N do tasks[i] = sched.spawn(sched.sleep, (i % 1000) / 1000 * 0.2) end
  local count = 0
  for _ in sched.as_completed(tasks) do count = count + 1 end
  print("result=" .. count)
end)
