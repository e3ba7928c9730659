-- W2 spawn-yield: N tasks each yield once with sleep(0) and return i; all
-- gathered; prints the sum. Usage: asched w2_spawn_yield.lua [N]
local N = tonumber(arg[1]) or 1000000

local function yielder(i)
  asched.sleep(0)
  return i
end

local tasks = {}
for i = 1, N do tasks[i] = asched.spawn(yielder, i) end
local results = asched.gather(tasks)
local sum = 0
for i = 1, results.n do sum = sum + results[i] end
print("result=" .. sum)
