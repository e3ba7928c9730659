-- W4 semaphore pool on Lua 5.4 + luv: N tasks each acquire a semaphore(100),
-- sleep(0) and release; all gathered; prints how many ran.
-- Usage: lua5.4 w4_semaphore.lua [N]
local dir = (arg and arg[0] or ""):match("^(.*)/") or "."
local sched = dofile(dir .. "/scheduler.lua")
local N = tonumber(arg[1]) or 1000000
local pool = sched.semaphore(100)
local done = 0

local function worker()
  local permit <close> = pool:acquire()
  sched.sleep(0)
  done = done + 1
end

sched.run(function()
  local tasks = {}
  for i = 1, N do tasks[i] = sched.spawn(worker) end
  sched.gather(tasks)
  print("result=" .. done)
end)
