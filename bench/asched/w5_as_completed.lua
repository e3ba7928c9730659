-- W5 as_completed: N tasks sleeping spread over 0.2 s, consumed in completion
-- order; prints how many came. Usage: asched w5_as_completed.lua [N]
local N = tonumber(arg[1]) or 100000

local tasks = {}
for i = 1, N do tasks[i] = asched.spawn(asched.sleep, (i % 1000) / 1000 * 0.2) end
local count = 0
for _ in asched.as_completed(tasks) do count = count + 1 end
print("result=" .. count)
