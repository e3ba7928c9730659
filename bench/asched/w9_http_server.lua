-- W9 HTTP server under wrk: asched.http.listen on 127.0.0.1 (any free port,
-- keep-alive) answers every request with 200 "Hello, World!" (text/plain).
-- Prints port=<port> once listening, serves for SECONDS, closes, and prints
-- how many requests it answered. bench/run points wrk at it meanwhile.
-- Usage: asched w9_http_server.lua [SECONDS]
local seconds = tonumber(arg[1]) or 10
local answered = 0

local server = asched.http.listen("127.0.0.1", 0, function()
  answered = answered + 1
  return 200, "Hello, World!", {["Content-Type"] = "text/plain"}
end)
print("port=" .. server.port)
io.stdout:flush()
asched.sleep(seconds)
server:close()
print("result=" .. answered)
