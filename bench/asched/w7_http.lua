-- W7 loopback HTTP: an HTTP/1.1 server on 127.0.0.1 (asched.tcp.listen, any
-- free port, keep-alive) answers GET /i with the body "i"; N GETs by the
-- runtime's HTTP client (asched.http.get), at most 100 in flight; prints the
-- sum of the bodies. Usage: asched w7_http.lua [N]
local N = tonumber(arg[1]) or 10000

-- One task per connection: serves requests until the client closes. The
-- connections the client still keeps open at the end are cancelled then.
local connections = {}

local function serve(stream)
  local me, s <close> = asched.current_task(), stream
  connections[me] = true
  local request = stream:read_line()
  while request do
    local close, length = false, 0
    local header = stream:read_line()
    while header and header ~= "" do
      local name, value = header:match("^([^:]+):%s*(.-)%s*$")
      if name then
        name = name:lower()
        if name == "content-length" then length = tonumber(value) or 0
        elseif name == "connection" and value:lower() == "close" then close = true end
      end
      header = stream:read_line()
    end
    while length > 0 do                    -- a GET has no body; skip any
      local chunk = stream:read(length)
      if not chunk then break end
      length = length - #chunk
    end
    local body = request:match("^%u+ /(%d+)") or "0"
    stream:write("HTTP/1.1 200 OK\r\nContent-Length: " .. #body .. "\r\nContent-Type: text/plain\r\n\r\n" .. body)
    if close or header == nil or request:match("HTTP/1%.0$") then break end
    request = stream:read_line()
  end
  connections[me] = nil
end

local server = asched.tcp.listen("127.0.0.1", 0, serve)
local base = "http://127.0.0.1:" .. server.port .. "/"
local pool = asched.semaphore(100)
local sum = 0

local function fetch(i)
  local permit <close> = pool:acquire()
  local response = asched.http.get(base .. i)
  if response.status ~= 200 then error("GET /" .. i .. ": status " .. tostring(response.status)) end
  sum = sum + tonumber(response.body)
end

local tasks = {}
for i = 1, N do tasks[i] = asched.spawn(function() fetch(i) end) end
asched.gather(tasks)
server:close()
local open = {}
for task in pairs(connections) do task:cancel(); open[#open + 1] = task end
asched.gather(open, {return_exceptions = true})
print("result=" .. sum)
