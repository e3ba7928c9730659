-- W8 tail latency under load: while the loop holds N other tasks, a ticker
-- sleeps 1 ms in a loop for 2 s and records how late each wake-up is.
-- Variant `sleepers` (default): the N tasks are parked on a 3 s sleep.
-- Variant `pingpong`: N/2 pairs (N even) pass a counter through two queues of
-- size 1 without pause until the ticker is done.
-- Prints the lateness in ms (median, p99, max; index ceil(q*k) of the k sorted
-- ticks) and how many of the N tasks finished (N).
-- Usage: asched w8_latency.lua [N] [sleepers|pingpong]
local N = tonumber(arg[1]) or 100000
local variant = arg[2] or "sleepers"
local stop = false

local function sleeper()
  asched.sleep(3)
  return 1
end

-- Pairs stop promptly: ping checks the flag after each exchange, then sends
-- pong a `false` sentinel (pong is waiting in get by then).
local function ping(to_pong, to_ping)
  local counter = 0
  while not stop do
    to_pong:put(counter)
    counter = to_ping:get()
  end
  to_pong:put(false)
  return 1
end

local function pong(to_pong, to_ping)
  while true do
    local v = to_pong:get()
    if v == false then return 1 end
    to_ping:put(v + 1)
  end
end

local tasks = {}
if variant == "sleepers" then
  for i = 1, N do tasks[i] = asched.spawn(sleeper) end
elseif variant == "pingpong" then
  for i = 1, N // 2 do
    local to_pong, to_ping = asched.queue(1), asched.queue(1)
    tasks[2 * i - 1] = asched.spawn(ping, to_pong, to_ping)
    tasks[2 * i] = asched.spawn(pong, to_pong, to_ping)
  end
else
  error("variant must be sleepers or pingpong, got " .. variant)
end
asched.sleep(0) -- every task has run up to its first wait

-- The ticker (this main task).
local late, start = {}, asched.now()
while asched.now() - start < 2 do
  local t0 = asched.now()
  asched.sleep(0.001)
  late[#late + 1] = (asched.now() - (t0 + 0.001)) * 1000
end
stop = true

local results = asched.gather(tasks)
local finished = 0
for i = 1, results.n do finished = finished + results[i] end
table.sort(late)
local k = #late
print(string.format("lateness_ms median=%.3f p99=%.3f max=%.3f ticks=%d",
                    late[(k + 1) // 2], late[(99 * k + 99) // 100], late[k], k))
print("result=" .. finished)
