-- representative.lua -- one of each kind of work, for the allocation failure
-- sweep (tests/alloc/sweep): spawn, gather, a queue, a timeout, a to_thread
-- call and a TCP round trip. Prints "ok" when every result is right. Run it
-- as `asched --virtual-time representative.lua`.

-- Calls fn(...) and expects it to raise the asched error `name`; any other
-- error (a memory error above all) goes on unchanged.
local function expect_error(name, fn, ...)
  local ok, err = pcall(fn, ...)
  if ok then error("expected " .. name .. ", got none", 0) end
  if type(err) ~= "table" or err.name ~= name then error(err, 0) end
end

-- spawn and gather
local function square(i)
  asched.sleep(i / 10)
  return i * i
end
local three = asched.spawn(square, 3)
local r = asched.gather({three, function() return square(1) end, function() return square(2) end})
assert(r.n == 3 and r[1] == 9 and r[2] == 1 and r[3] == 4, "gather")

-- a bounded queue between a producer and this task, shut down at the end
local q = asched.queue(2)
local producer = asched.spawn(function()
  for i = 1, 5 do q:put(i) end
  q:shutdown()
end)
local sum = 0
while true do
  local ok, v = pcall(q.get, q)
  if not ok then
    if type(v) ~= "table" or v.name ~= "QueueShutDown" then error(v, 0) end
    break
  end
  sum = sum + v
end
producer:await()
assert(sum == 15, "queue")

-- a timeout that expires, and one that does not
expect_error("TimeoutError", asched.wait_for, function() asched.sleep(10) end, 1)
assert(asched.timeout(5, square, 1) == 1, "timeout")

-- a to_thread call
local total = asched.to_thread(function(n)
  local s = 0
  for i = 1, n do s = s + i end
  return s
end, 1000)
assert(total == 500500, "to_thread")

-- a TCP round trip over loopback
do
  local server <close> = asched.tcp.listen("127.0.0.1", 0, function(stream)
    local line = stream:read_line()
    stream:write(line:upper() .. "\n")
  end)
  local client <close> = asched.tcp.connect("127.0.0.1", server.port)
  client:write("hello over loopback\n")
  local answer = client:read_line()
  assert(answer == "HELLO OVER LOOPBACK", "tcp: " .. tostring(answer))
end

print("ok")
