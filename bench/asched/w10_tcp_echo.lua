-- W10 TCP echo server: asched.tcp.listen on 127.0.0.1 (any free port); each
-- connection's task writes back whatever it reads (stream:read() takes what
-- is there, up to 64 KiB) until the client closes. Prints port=<port> once
-- listening; once CONNECTIONS connections have come and gone it closes and
-- prints the bytes it echoed. bench/run drives it with bench/echo_client.c.
-- Usage: asched w10_tcp_echo.lua [CONNECTIONS]
local connections = tonumber(arg[1]) or 100
local echoed, finished = 0, 0
local all_done = asched.event()

local function pump(stream)
  local data = stream:read()
  while data do
    echoed = echoed + #data
    stream:write(data)
    data = stream:read()
  end
end

local function echo(stream)
  local ok, err = pcall(pump, stream)
  finished = finished + 1
  if finished == connections then all_done:set() end
  if not ok then error(err, 0) end
end

local server = asched.tcp.listen("127.0.0.1", 0, echo)
print("port=" .. server.port)
io.stdout:flush()
all_done:wait()
server:close()
print("result=" .. echoed)
