-- W4 semaphore pool: N tasks each acquire a semaphore(100), sleep(0) and
-- release; all gathered; prints how many ran. Usage: asched w4_semaphore.lua [N]
local N = tonumber(arg[1]) or 1000000
local pool = asched.semaphore(100)
local done = 0

local function worker()
  local permit <close> = pool:acquire()
  asched.sleep(0)
  done = done + 1
end

local tasks = {}
for i = 1, N do tasks[i] = asched.spawn(worker) end
asched.gather(tasks)
print("result=" .. done)
