-- io_http_server_spec.lua -- asched.http.listen (issue 20): an HTTP/1.1 server
-- with a task per request, keep-alive and pipelining answered in order,
-- chunked bodies, 400/413/500/503, a client that disconnects cancels its
-- handler, close() lets requests in flight finish; no descriptor left open.
-- Clients: asched.http (libcurl) and raw TCP streams. Loopback only.
local helpers = require("spec.helpers")
local error_of, assert_error_named = helpers.error_of, helpers.assert_error_named
local http, tcp = asched.http, asched.tcp

local function open_fds() return #asched.fs.list_dir("/proc/self/fd") end

local function url(server, path) return "http://127.0.0.1:" .. server.port .. (path or "/") end

-- Reads one HTTP response from a raw stream: status, headers (lower-cased
-- names), body (by Content-Length).
local function read_response(s)
  local status_line = s:read_line()
  if status_line == nil then return nil end
  local status = tonumber(status_line:match("^HTTP/1%.1 (%d+)"))
  local headers = {}
  for line in function() return s:read_line() end do
    if line == "" then break end
    local name, value = line:match("^([^:]+):%s*(.*)$")
    headers[name:lower()] = value
  end
  local want, parts, got = tonumber(headers["content-length"] or 0), {}, 0
  while got < want do
    local chunk = assert(s:read(want - got))
    parts[#parts + 1] = chunk
    got = got + #chunk
  end
  return status, headers, table.concat(parts)
end

local function echo_handler(req)
  local names = {}
  for name in pairs(req.headers) do names[#names + 1] = name end
  table.sort(names)
  return 200, req.method .. " " .. req.path .. " " .. tostring(req.query) .. " [" .. req.body .. "]",
         {["Content-Type"] = "text/plain", ["X-Names"] = table.concat(names, ",")}
end

describe("asched.http.listen", function()
  after_each(helpers.cancel_leftovers)

  it("runs the handler with method, path, query, lower-cased headers and body", function()
    local server <close> = http.listen(nil, 0, echo_handler)
    local r = http.get(url(server, "/a/b?x=1&y=2"), {headers = {["X-Custom"] = "v"}})
    assert.equal(200, r.status)
    assert.equal("GET /a/b x=1&y=2 []", r.body)
    assert.equal("text/plain", r.headers["content-type"])
    assert.matches("x-custom", r.headers["x-names"], 1, true)
    r = http.post(url(server, "/p"), "payload")
    assert.equal("POST /p nil [payload]", r.body)
  end)

  it("keeps a connection alive and answers pipelined requests in order, handlers running concurrently", function()
    local server <close> = http.listen(nil, 0, function(req)
      asched.sleep(req.path == "/slow" and 0.2 or 0)
      return 200, req.path
    end)
    local s <close> = tcp.connect("127.0.0.1", server.port)
    local start = asched.now()
    s:write("GET /slow HTTP/1.1\r\nHost: x\r\n\r\nGET /fast HTTP/1.1\r\nHost: x\r\n\r\n")
    local status, headers, body = read_response(s)
    assert.same({200, "keep-alive", "/slow"}, {status, headers.connection, body})
    status, headers, body = read_response(s)
    assert.same({200, "/fast"}, {status, body})
    s:write("GET /again HTTP/1.1\r\nHost: x\r\n\r\n")
    assert.equal("/again", select(3, read_response(s)))
    assert.is_true(asched.now() - start < 0.4, "the pipelined handlers ran one after the other")
  end)

  it("decodes a chunked request body", function()
    local server <close> = http.listen(nil, 0, echo_handler)
    local s <close> = tcp.connect("127.0.0.1", server.port)
    s:write("POST /c HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n")
    local status, _, body = read_response(s)
    assert.equal(200, status)
    assert.equal("POST /c nil [hello world]", body)
  end)

  it("answers 413 to a body over max_body, by Content-Length or chunked, and goes on serving", function()
    local server <close> = http.listen(nil, 0, echo_handler, {max_body = 10})
    local s <close> = tcp.connect("127.0.0.1", server.port)
    s:write("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 11\r\n\r\nhello world")
    assert.equal(413, (read_response(s)))
    assert.is_nil(s:read())                       -- and the connection closed
    local c <close> = tcp.connect("127.0.0.1", server.port)
    c:write("POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n6\r\nhello \r\n6\r\nworld!\r\n0\r\n\r\n")
    assert.equal(413, (read_response(c)))
    assert.equal(200, http.post(url(server), "0123456789").status)
  end)

  it("answers 400 to malformed requests, closes that connection, and keeps serving", function()
    local server <close> = http.listen(nil, 0, echo_handler)
    for _, bad in ipairs({"NONSENSE\r\n\r\n", "GET / HTTP/1.1\r\nBad Header\r\n\r\n",
                          "GET / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab", "GET /\0x HTTP/1.1\r\n\r\n",
                          "POST / HTTP/1.1\r\nContent-Length: -5\r\n\r\n"}) do
      local s <close> = tcp.connect("127.0.0.1", server.port)
      s:write(bad)
      assert.equal(400, (read_response(s)), string.format("%q", bad))
      assert.is_nil(s:read())
    end
    assert.equal(200, http.get(url(server)).status)
  end)

  it("answers 500 when the handler fails or returns no status, and reports it", function()
    local server <close> = http.listen(nil, 0, function(req)
      if req.path == "/error" then error("handler broke") end
      if req.path == "/nothing" then return end
      return "two hundred"
    end)
    assert.equal(500, http.get(url(server, "/error")).status)
    assert.equal(500, http.get(url(server, "/nothing")).status)
    assert.equal(500, http.get(url(server, "/word")).status)
  end)

  it("answers 503 once a handler runs past opts.timeout, and cancels it", function()
    local cancelled = false
    local server <close> = http.listen(nil, 0, function()
      local ok, err = pcall(asched.sleep, 10)
      cancelled = not ok and err.name == "CancelledError"
      error(err, 0)
    end, {timeout = 1})
    local start = asched.now()
    assert.equal(503, http.get(url(server)).status)
    assert.is_true(asched.now() - start >= 1 - 1e-9)
    asched.sleep(0)
    assert.is_true(cancelled)
  end)

  it("answers 408 to a client that stalls mid-request, and closes an idle keep-alive connection, after opts.timeout", function()
    local server <close> = http.listen(nil, 0, echo_handler, {timeout = 2})
    local s <close> = tcp.connect("127.0.0.1", server.port)
    local start = asched.now()
    s:write("GET / HTTP/1.1\r\nHost: x\r\nX-Half")
    assert.equal(408, (read_response(s)))
    assert.is_nil(s:read())
    assert.is_true(asched.now() - start >= 2 - 1e-9)
    local idle <close> = tcp.connect("127.0.0.1", server.port)
    idle:write("GET / HTTP/1.1\r\nHost: x\r\n\r\n")
    assert.equal(200, (read_response(idle)))
    start = asched.now()
    assert.is_nil(idle:read())                    -- closed by the server, quietly
    assert.is_true(asched.now() - start >= 2 - 1e-9)
  end)

  it("counts a request's deadline from its first byte: a client trickling bytes in gets 408 at opts.timeout", function()
    local server <close> = http.listen(nil, 0, echo_handler, {timeout = 2})
    local s <close> = tcp.connect("127.0.0.1", server.port)
    local request = "GET / HTTP/1.1\r\nHost: x\r\n\r\n"   -- whole only after 14 s at a byte per 0.5 s
    asched.sleep(1.5)                             -- idle first: the idle deadline must give way to the request's
    local start = asched.now()
    local writer = asched.spawn(function()
      pcall(function()
        for i = 1, #request do
          s:write(request:sub(i, i))
          asched.sleep(0.5)
        end
      end)
    end)
    local status = read_response(s)
    writer:cancel()
    assert.equal(408, status)
    local elapsed = asched.now() - start
    assert.is_true(elapsed >= 2 - 1e-9 and elapsed < 2.5, "answered after " .. elapsed .. " s")
  end)

  it("cancels the handler of a client that disconnects", function()
    local started, closed = asched.event(), asched.event()
    local server <close> = http.listen(nil, 0, function()
      local guard <close> = setmetatable({}, {__close = function() closed:set() end})
      started:set()
      asched.sleep(1000)
      return 200, "never"
    end)
    local s = tcp.connect("127.0.0.1", server.port)
    s:write("GET / HTTP/1.1\r\nHost: x\r\n\r\n")
    started:wait()
    s:close()
    asched.wait_for(function() closed:wait() end, 5)
  end)

  it("still cancels the handler of a client that disconnects once close() was called", function()
    -- close() used to stop reading busy connections, so a client that went
    -- away was noticed only when its handler ended (up to opts.timeout).
    local started, closed = asched.event(), asched.event()
    local server = http.listen(nil, 0, function()
      local guard <close> = setmetatable({}, {__close = function() closed:set() end})
      started:set()
      asched.sleep(1000)
      return 200, "never"
    end)
    local s = tcp.connect("127.0.0.1", server.port)
    s:write("GET / HTTP/1.1\r\nHost: x\r\n\r\n")
    started:wait()
    server:close()
    s:close()
    asched.wait_for(function() closed:wait() end, 5)
  end)

  it("close() refuses new connections but lets a request in flight finish", function()
    local server = http.listen(nil, 0, function() asched.sleep(0.2) return 200, "finished" end)
    local port = server.port
    local s <close> = tcp.connect("127.0.0.1", port)
    s:write("GET / HTTP/1.1\r\nHost: x\r\n\r\n")
    asched.sleep(0.05)
    server:close()
    server:close()                                -- idempotent
    local status, headers, body = read_response(s)
    assert.same({200, "close", "finished"}, {status, headers.connection, body})
    assert.is_nil(s:read())
    assert_error_named("IOError", error_of(tcp.connect, "127.0.0.1", port))
  end)

  it("sends the headers alone for HEAD, and its own framing whatever the handler says", function()
    local server <close> = http.listen(nil, 0, function()
      return 200, "body", {["Content-Length"] = "999", ["Connection"] = "upgrade"}
    end)
    local s <close> = tcp.connect("127.0.0.1", server.port)
    s:write("HEAD / HTTP/1.1\r\nHost: x\r\n\r\n")
    local status_line = s:read_line()
    assert.equal("HTTP/1.1 200 OK", status_line)
    local headers = {}
    for line in function() return s:read_line() end do
      if line == "" then break end
      headers[#headers + 1] = line
    end
    assert.same({"Content-Length: 4", "Connection: keep-alive"}, headers)
    s:write("GET / HTTP/1.1\r\nHost: x\r\n\r\n")
    assert.equal("body", select(3, read_response(s)))   -- no stray body bytes before this response
  end)

  it("refuses a header with a line break (response splitting) with 500", function()
    local server <close> = http.listen(nil, 0, function() return 200, "x", {["X-A"] = "1\r\nSet-Cookie: evil"} end)
    assert.equal(500, http.get(url(server)).status)
  end)

  it("shares a port between servers with reuseport, the kernel spreading connections over them", function()
    local hits = {0, 0}
    local function server(i, port)
      return http.listen(nil, port, function() hits[i] = hits[i] + 1 return 200, "server " .. i end,
                         {reuseport = true})
    end
    local a <close> = server(1, 0)
    local b <close> = server(2, a.port)
    assert.equal(a.port, b.port)
    assert_error_named("IOError", error_of(http.listen, nil, a.port, echo_handler))   -- without reuseport: in use
    for _ = 1, 60 do
      local s <close> = tcp.connect("127.0.0.1", a.port)   -- a new connection (a new source port) each time
      s:write("GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
      assert.equal(200, (read_response(s)))
    end
    assert.equal(60, hits[1] + hits[2])
    assert.is_true(hits[1] > 0 and hits[2] > 0, "one server got every connection: " .. hits[1] .. "/" .. hits[2])
  end)

  it("serves IPv6 loopback when the machine has it", function()
    local ok, server = pcall(http.listen, "::1", 0, echo_handler)
    if not ok then return pending("no IPv6 loopback here") end
    local s <close> = tcp.connect("::1", server.port)
    s:write("GET /six HTTP/1.1\r\nHost: x\r\n\r\n")
    assert.equal("GET /six nil []", select(3, read_response(s)))
    server:close()
  end)

  it("leaves no descriptor open after many requests, disconnects and cancelled clients", function()
    local server <close> = http.listen(nil, 0, function(req)
      if req.path == "/slow" then asched.sleep(10) end
      return 200, "ok"
    end)
    assert.equal(200, http.get(url(server)).status)       -- libuv's reserve descriptor, once
    local before = open_fds()
    for i = 1, 20 do
      assert.equal(200, http.get(url(server, "/" .. i)).status)
      local s = tcp.connect("127.0.0.1", server.port)
      s:write("GET /slow HTTP/1.1\r\nHost: x\r\n\r\n")
      s:close()
      pcall(asched.wait_for, http.get, 0.01, url(server, "/slow"))
    end
    asched.sleep(0.1)
    assert.equal(before, open_fds())
  end)

  it("checks its arguments: host, port, handler, options (an unknown key, a bad tls)", function()
    assert.matches("bad argument #1 to 'listen'", error_of(http.listen, "localhost", 0, echo_handler))
    assert.matches("bad argument #2 to 'listen'", error_of(http.listen, nil, 70000, echo_handler))
    assert.matches("bad argument #3 to 'listen'", error_of(http.listen, nil, 0, 42))
    assert.matches("unknown", error_of(http.listen, nil, 0, echo_handler, {max_bdy = 1}))
    assert.matches("max_body", error_of(http.listen, nil, 0, echo_handler, {max_body = -1}))
    assert.matches("timeout", error_of(http.listen, nil, 0, echo_handler, {timeout = 0}))
    assert.matches("option 'tls' must be a table", error_of(http.listen, nil, 0, echo_handler, {tls = true}))
    assert.matches("unknown option 'tls.ca'",
                   error_of(http.listen, nil, 0, echo_handler, {tls = {cert = "c", key = "k", ca = "x"}}))
    local err = error_of(http.listen, nil, 0, echo_handler, {tls = {cert = "/nonexistent.pem", key = "k"}})
    assert.equals("IOError", err.name)
    assert.equals("ENOENT", err.code)
  end)
end)
