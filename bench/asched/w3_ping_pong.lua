-- W3 ping-pong: two tasks pass a counter N times through two queues of size
-- 1; prints the final counter (N). Usage: asched w3_ping_pong.lua [N]
local N = tonumber(arg[1]) or 1000000
local to_pong, to_ping = asched.queue(1), asched.queue(1)

local pong = asched.spawn(function()
  for _ = 1, N do to_ping:put(to_pong:get() + 1) end
end)

local counter = 0
for _ = 1, N do
  to_pong:put(counter)
  counter = to_ping:get()
end
pong:await()
print("result=" .. counter)
