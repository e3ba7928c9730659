-- web_service.lua -- a small web service on asched.http.listen. Each request
-- runs its handler in a task of its own; a semaphore lets at most three
-- "reports" be computed at once, so a burst of requests queues up instead of
-- overloading the machine, while cheap requests are served meanwhile.
--
--   asched scripts/examples/web_service.lua            a demo: serve, send a burst, stop
--   asched scripts/examples/web_service.lua serve 8080  serve until Ctrl-C
--     (then try: curl http://127.0.0.1:8080/report?n=7)
--   asched scripts/examples/web_service.lua serve 8080 reuseport
--     several processes on one port, the kernel spreading connections over them

local slots = asched.semaphore(3)   -- at most 3 reports computed at once
local busy, most = 0, 0

local function report(n)
  local permit <close> = slots:acquire()     -- released however the handler ends
  busy = busy + 1
  most = math.max(most, busy)
  asched.sleep(0.5)                          -- the expensive part
  busy = busy - 1
  return string.format("report %d: %d squared is %d\n", n, n, n * n)
end

local function handler(req)
  if req.path == "/health" then return 200, "ok\n" end
  if req.path == "/report" then
    local n = tonumber((req.query or ""):match("n=(%d+)"))
    if not n then return 400, "say which report: /report?n=7\n" end
    return 200, report(n), {["Content-Type"] = "text/plain"}
  end
  return 404, "no such page: " .. req.path .. "\n"
end

if arg[1] == "serve" then
  local server <close> = asched.http.listen("127.0.0.1", tonumber(arg[2]) or 8080, handler,
                                            {reuseport = arg[3] == "reuseport"})
  print("serving on http://127.0.0.1:" .. server.port .. "/  (Ctrl-C stops)")
  asched.event():wait()                      -- until Ctrl-C cancels the main task
end

-- The demo: the server and its clients in one script, on the same loop.
local server <close> = asched.http.listen(nil, 0, handler)
local base = "http://127.0.0.1:" .. server.port
print("serving on " .. base)

local start = asched.now()
local clients = {}
for n = 1, 6 do
  clients[n] = function() return asched.http.get(base .. "/report?n=" .. n).body end
end
clients[7] = function()
  local r = asched.http.get(base .. "/health")
  return string.format("health answered in %.1f s, while reports waited: %s", asched.now() - start, r.body)
end
local results = asched.gather(clients)
for i = 1, results.n do io.write(results[i]) end
print(string.format("6 reports took %.1f s: at most %d at once, as the semaphore allows", asched.now() - start, most))
print("not found: " .. asched.http.get(base .. "/nowhere").status)
