-- io_tcp_spec.lua -- asched.tcp: a server on 127.0.0.1 running a task per
-- connection, clients, streams read/read_line/write/close; cancellation and
-- closing leave no descriptor open (issue 9). Loopback only.
local helpers = require("spec.helpers")
local error_of, assert_error_named = helpers.error_of, helpers.assert_error_named
local tcp = asched.tcp

local function open_fds() return #asched.fs.list_dir("/proc/self/fd") end

-- An echo server: each line comes back prefixed with "echo: ".
local function echo_server()
  return tcp.listen("127.0.0.1", 0, function(s)
    for line in function() return s:read_line() end do s:write("echo: " .. line .. "\n") end
    s:close()
  end)
end

describe("asched.tcp", function()
  after_each(helpers.cancel_leftovers)

  it("connects to a server that runs a task per connection", function()
    local server <close> = echo_server()
    local s <close> = tcp.connect("127.0.0.1", server.port)
    s:write("hello\nworld\r\n")
    assert.equal("echo: hello", s:read_line())
    assert.equal("echo: world", s:read_line())
  end)

  it("reads at most n bytes, any available bytes, and nil at the end", function()
    local server <close> = tcp.listen(nil, 0, function(s) s:write("abcdef"); s:close() end)
    local s <close> = tcp.connect("localhost", server.port)
    assert.equal("ab", s:read(2))
    local rest = {}
    for chunk in function() return s:read() end do rest[#rest + 1] = chunk end
    assert.equal("cdef", table.concat(rest))
    assert.is_nil(s:read())
    assert.is_nil(s:read_line())
  end)

  it("returns a last line that has no newline", function()
    local server <close> = tcp.listen(nil, 0, function(s) s:write("one\ntwo"); s:close() end)
    local s <close> = tcp.connect("127.0.0.1", server.port)
    assert.equal("one", s:read_line())
    assert.equal("two", s:read_line())
    assert.is_nil(s:read_line())
  end)

  it("moves a large payload intact", function()
    local payload = string.rep("0123456789abcdef", 100000)
    local server <close> = tcp.listen(nil, 0, function(s) s:write(payload); s:close() end)
    local s <close> = tcp.connect("127.0.0.1", server.port)
    local parts = {}
    for chunk in function() return s:read() end do parts[#parts + 1] = chunk end
    assert.equal(payload, table.concat(parts))
  end)

  it("serves 50 concurrent clients", function()
    local server <close> = echo_server()
    local clients = {}
    for i = 1, 50 do
      clients[i] = asched.spawn(function()
        local s <close> = tcp.connect("127.0.0.1", server.port)
        s:write("client " .. i .. "\n")
        return s:read_line()
      end)
    end
    local replies = asched.gather(clients)
    for i = 1, 50 do assert.equal("echo: client " .. i, replies[i]) end
  end)

  it("raises an IOError when the connection is refused", function()
    local server = echo_server()
    local port = server.port
    server:close()
    local err = error_of(tcp.connect, "127.0.0.1", port)
    assert_error_named("IOError", err)
    assert.matches("tcp.connect 127.0.0.1:" .. port .. ": connection refused", err.message, 1, true)
    assert.equal("ECONNREFUSED", err.code)
  end)

  it("lets a cancelled reader go, and the stream reads on afterwards", function()
    local release = asched.event()
    local server <close> = tcp.listen(nil, 0, function(s) release:wait(); s:write("late\n"); s:close() end)
    local s <close> = tcp.connect("127.0.0.1", server.port)
    local reader = asched.spawn(s.read_line, s)
    asched.sleep(0)
    reader:cancel()
    assert_error_named("CancelledError", error_of(reader.await, reader))
    release:set()
    assert.equal("late", s:read_line())
  end)

  it("raises IOError on a closed stream; close is idempotent", function()
    local server <close> = echo_server()
    local s = tcp.connect("127.0.0.1", server.port)
    s:close()
    s:close()
    assert_error_named("IOError", error_of(s.read, s))
    assert_error_named("IOError", error_of(s.write, s, "x"))
  end)

  it("ends a read waiting on a stream another task closes", function()
    local server <close> = tcp.listen(nil, 0, function(s) asched.sleep(1e9) end)
    local s = tcp.connect("127.0.0.1", server.port)
    local reader = asched.spawn(s.read, s)
    asched.sleep(0)
    s:close()
    assert_error_named("IOError", error_of(reader.await, reader))
  end)

  it("leaves no descriptor open once streams and servers are closed", function()
    local before = open_fds()
    do
      local server <close> = echo_server()
      for i = 1, 20 do
        local s <close> = tcp.connect("127.0.0.1", server.port)
        s:write("x\n")
        s:read_line()
      end
      local idle = tcp.connect("127.0.0.1", server.port)
      local reader = asched.spawn(idle.read, idle)
      asched.sleep(0)
      reader:cancel()
      pcall(reader.await, reader)
      idle:close()
    end
    for _ = 1, 100 do             -- the handler tasks close their ends
      if open_fds() == before then break end
      asched.sleep(0)
      asched.process.run({"true"})
    end
    assert.equal(before, open_fds())
  end)

  it("closes a handler's stream when the handler returns, closed or not (no collection needed)", function()
    collectgarbage()                   -- streams earlier specs dropped: closed now, not below
    collectgarbage()
    asched.sleep(0)
    local before = open_fds()
    local handled, closed_after = 0, {}
    collectgarbage("stop")
    do
      local server <close> = tcp.listen("127.0.0.1", 0, function(s)
        s:write("hi\n")                  -- and returns without s:close()
        handled = handled + 1
        asched.spawn(function()          -- the stream outlives the handler only closed
          asched.sleep(0)
          asched.sleep(0)
          closed_after[#closed_after + 1] = select(2, pcall(s.write, s, "more"))
        end)
      end)
      for _ = 1, 20 do
        local c <close> = tcp.connect("127.0.0.1", server.port)
        assert.equals("hi", c:read_line())
      end
    end
    for _ = 1, 100 do
      if open_fds() == before then break end
      asched.sleep(0)
      asched.process.run({"true"})     -- lets real time pass for the closes
    end
    collectgarbage("restart")
    assert.equals(20, handled)
    assert.equal(before, open_fds())
    assert.equals(20, #closed_after)
    assert.equals("EBADF", closed_after[1].code)
  end)

  it("rejects bad arguments in Lua's style", function()
    assert.matches("bad argument #2 to '[%w.]*connect' %(port out of range%)",
      error_of(function() tcp.connect("127.0.0.1", 70000) end))
    assert.matches("bad argument #1 to '[%w.]*listen' %(a numeric IPv4 or IPv6 address expected%)",
      error_of(function() tcp.listen("localhost", 0, print) end))
    assert.matches("bad argument #3 to '[%w.]*listen' %(function expected, got no value%)",
      error_of(function() tcp.listen(nil, 0) end))
  end)
  it("shares a port between servers with reuseport, the kernel spreading connections over them", function()
    local hits = {0, 0}
    local function server(i, port)
      return tcp.listen(nil, port, function(s) hits[i] = hits[i] + 1 s:write("server " .. i .. "\n") end,
                        {reuseport = true})
    end
    local a <close> = server(1, 0)
    local b <close> = server(2, a.port)
    assert.equal(a.port, b.port)
    assert_error_named("IOError", error_of(tcp.listen, nil, a.port, function() end))   -- without it: in use
    for _ = 1, 60 do
      local s <close> = tcp.connect("127.0.0.1", a.port)
      assert.matches("^server %d$", s:read_line())
    end
    assert.equal(60, hits[1] + hits[2])
    assert.is_true(hits[1] > 0 and hits[2] > 0, "one server got every connection: " .. hits[1] .. "/" .. hits[2])
    assert.matches("unknown option 'reuse'", error_of(tcp.listen, nil, 0, function() end, {reuse = true}), 1, true)
  end)
end)
