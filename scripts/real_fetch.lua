-- real_fetch.lua -- the walkthrough of async_scheduler.lua with real sockets:
-- a small HTTP server runs in this same process (asched.tcp.listen), each
-- endpoint answering after its source's delay, and the fetches are real HTTP
-- requests (asched.http.get) over 127.0.0.1.
--
--   asched scripts/real_fetch.lua            random delays
--   asched scripts/real_fetch.lua 42         the same delays every time
--   asched scripts/real_fetch.lua 42 0.1     ... ten times shorter
--
-- Its sleeps and timeouts race real requests, so it runs in real time: under
-- --virtual-time the clock would jump past requests still in flight.

local seed = tonumber(arg and arg[1]) or os.time()
local scale = tonumber(arg and arg[2]) or 1
math.randomseed(seed)

local function random_delay()
  return (1 + math.random(0, 200) / 100) * scale
end

---------------------------------------------------------------------------
-- The server: GET /source/N?delay=D answers "Data from N" after D seconds.
-- Each connection is a task; a slow answer holds up nobody else.

local function respond(stream, status, body)
  stream:write(string.format("HTTP/1.1 %s\r\nContent-Type: text/plain\r\n"
    .. "Content-Length: %d\r\n\r\n%s", status, #body, body))
end

local connections = {}    -- the tasks serving a connection, to stop them at the end

local function serve(stream)
  local me = asched.current_task()
  connections[me] = true
  local request = stream:read_line()
  while request do
    repeat local header = stream:read_line() until header == nil or header == ""
    local id, delay = request:match("^GET /source/(%d+)%?delay=([%d.]+) HTTP/1%.%d$")
    if id then
      asched.sleep(tonumber(delay))
      respond(stream, "200 OK", "Data from " .. id)
    else
      respond(stream, "404 Not Found", "no such source")
    end
    request = stream:read_line()
  end
  stream:close()
  connections[me] = nil
end

local server = asched.tcp.listen("127.0.0.1", 0, serve)
local base = string.format("http://127.0.0.1:%d", server.port)
print(string.format("asched %s, seed %d: serving sources on %s", asched.version, seed, base))

-- The client: the same fetch_data as async_scheduler.lua, over HTTP.
local function fetch_data(source_id, delay)
  print(string.format("Starting fetch from source %d", source_id))
  local response = asched.http.get(string.format("%s/source/%d?delay=%.2f", base, source_id, delay))
  if response.status ~= 200 then
    error(string.format("source %d answered %d", source_id, response.status), 0)
  end
  print(string.format("Completed fetch from source %d", source_id))
  return {source = source_id, data = response.body}
end

---------------------------------------------------------------------------
print("\n=== 1. Fetch five sources concurrently (gather) ===")

local delays, longest, sum = {}, 0, 0
local fetches = {}
for id = 1, 5 do
  delays[id] = random_delay()
  longest = math.max(longest, delays[id])
  sum = sum + delays[id]
  fetches[id] = function() return fetch_data(id, delays[id]) end
end
local start = asched.now()
local results = asched.gather(fetches)
print(string.format("Fetched %d items in %.2f seconds (the slowest source took %.2f s, all together %.2f s)",
                    results.n, asched.now() - start, longest, sum))
for i = 1, results.n do print(string.format("  result %d: %s", i, results[i].data)) end

---------------------------------------------------------------------------
print("\n=== 2. Process as Completed (as_completed) ===")

local tasks = {}
for id = 1, 5 do tasks[id] = asched.spawn(fetch_data, id, random_delay()) end
start = asched.now()
for task in asched.as_completed(tasks) do
  print(string.format("Processed %s after %.2f s", task:result().data, asched.now() - start))
end

---------------------------------------------------------------------------
print("\n=== 3. Give up on a slow source (wait_for) ===")
-- The request is cancelled on expiry: its transfer is aborted and its
-- connection closed.

local ok, err = pcall(asched.wait_for, function() return fetch_data(99, 5 * scale) end, 2 * scale)
print(ok and "The slow source answered in time" or ("Gave up on source 99: " .. tostring(err)))

---------------------------------------------------------------------------
print("\n=== 4. A missing source is an HTTP status, not an error ===")

local response = asched.http.get(base .. "/nowhere")
print(string.format("GET /nowhere: %d %s", response.status, response.body))

---------------------------------------------------------------------------
-- Shutting down: stop listening, then stop the tasks still serving a
-- connection (the client keeps idle connections open for reuse, and the slow
-- source is still sleeping); each one's stream is closed as it ends.

server:close()
local serving = {}
for task in pairs(connections) do
  task:cancel()
  serving[#serving + 1] = task
end
asched.gather(serving, {return_exceptions = true})
print(string.format("\nServer closed; stopped %d connection tasks", #serving))
