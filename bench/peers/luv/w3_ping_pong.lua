-- W3 ping-pong on Lua 5.4 + luv: two tasks pass a counter N times through two
-- queues of size 1; prints the final counter (N). Usage: lua5.4 w3_ping_pong.lua [N]
local dir = (arg and arg[0] or ""):match("^(.*)/") or "."
local sched = dofile(dir .. "/scheduler.lua")
local N = tonumber(arg[1]) or 1000000

sched.run(function()
  local to_pong, to_ping = sched.queue(1), sched.queue(1)
  local pong = sched.spawn(function()
    for _ = 1, N do to_ping:put(to_pong:get() + 1) end
  end)
  local counter = 0
  for _ = 1, N do
    to_pong:put(counter)
    counter = to_ping:get()
  end
  pong:await()
  print("result=" .. counter)
end)
