-- W1 sleepers: N tasks, task i sleeps ((i % 1000) / 1000) * 0.5 s and returns
-- i; all gathered; prints the sum. Usage: asched w1_sleepers.lua [N]
local N = tonumber(arg[1]) or 1000000

local function sleeper(i)
  asched.sleep(((i % 1000) / 1000) * 0.5)
  return i
end

local tasks = {}
for i = 1, N do tasks[i] = asched.spawn(sleeper, i) end
local results = asched.gather(tasks)
local sum = 0
for i = 1, results.n do sum = sum + results[i] end
print("result=" .. sum)
