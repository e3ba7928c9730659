-- io_udp_spec.lua -- asched.udp: sockets bound on loopback that send and
-- receive datagrams; what arrives while nobody receives is queued; a
-- cancelled or closed receiver leaves nothing open (issue 20). Loopback only.
local helpers = require("spec.helpers")
local error_of, assert_error_named = helpers.error_of, helpers.assert_error_named
local udp = asched.udp

local function open_fds() return #asched.fs.list_dir("/proc/self/fd") end

-- A socket on ::1, or nil when this machine has no IPv6 loopback.
local function bind_ipv6()
  local ok, sock = pcall(udp.bind, "::1", 0)
  if ok then return sock end
  assert_error_named("IOError", sock)
  return nil
end

-- Receives on `sock` within `seconds` (virtual), or raises TimeoutError.
local function recv_within(sock, seconds)
  return asched.timeout(seconds, sock.recv, sock)
end

describe("asched.udp", function()
  after_each(helpers.cancel_leftovers)

  it("binds 127.0.0.1 when host is nil, on a free port for port 0", function()
    local a <close> = udp.bind(nil, 0)
    local b <close> = udp.bind("127.0.0.1", 0)
    assert.is_true(math.type(a.port) == "integer" and a.port > 0)
    assert.is_true(b.port > 0 and b.port ~= a.port)
    assert.equal("Socket (port " .. a.port .. ")", tostring(a))
    -- Only 127.0.0.1 is taken, not every address: 127.0.0.2 binds the same port.
    local other <close> = udp.bind("127.0.0.2", a.port)
    assert.equal(a.port, other.port)
  end)

  it("sends a datagram and receives it with its sender's address, both ways", function()
    local a <close> = udp.bind(nil, 0)
    local b <close> = udp.bind(nil, 0)
    a:send("ping", "127.0.0.1", b.port)
    local data, host, port = recv_within(b, 1)
    assert.same({"ping", "127.0.0.1", a.port}, {data, host, port})
    b:send("pong", host, port)
    assert.same({"pong", "127.0.0.1", b.port}, {recv_within(a, 1)})
  end)

  it("works on the IPv6 loopback ::1", function()
    local a = bind_ipv6()
    if not a then pending("this machine has no IPv6 loopback (::1)") end
    local b <close> = udp.bind("::1", 0)
    a:send("six", "::1", b.port)
    assert.same({"six", "::1", a.port}, {recv_within(b, 1)})
    b:send("back", "::1", a.port)
    assert.same({"back", "::1", b.port}, {recv_within(a, 1)})
    a:close()
  end)

  it("sends to a host name, resolved in the socket's family", function()
    local a <close> = udp.bind(nil, 0)
    local b <close> = udp.bind(nil, 0)
    a:send("by name", "localhost", b.port)
    assert.same({"by name", "127.0.0.1", a.port}, {recv_within(b, 1)})
  end)

  it("moves an empty datagram and a 60,000-byte one intact", function()
    local a <close> = udp.bind(nil, 0)
    local b <close> = udp.bind(nil, 0)
    local big = string.rep("0123456789", 6000)
    a:send("", "127.0.0.1", b.port)
    a:send(big, "127.0.0.1", b.port)
    assert.equal("", (recv_within(b, 1)))
    assert.equal(big, (recv_within(b, 1)))
  end)

  it("raises an IOError for a datagram too large for UDP", function()
    local a <close> = udp.bind(nil, 0)
    local err = error_of(a.send, a, string.rep("x", 70000), "127.0.0.1", a.port)
    assert_error_named("IOError", err)
    assert.equal("EMSGSIZE", err.code)
    assert.matches("socket.send 127.0.0.1:" .. a.port .. ": message too long", err.message, 1, true)
  end)

  it("raises an IOError naming the address when the port is taken", function()
    local a <close> = udp.bind(nil, 0)
    local err = error_of(udp.bind, nil, a.port)
    assert_error_named("IOError", err)
    assert.equal("EADDRINUSE", err.code)
    assert.matches("udp.bind 127.0.0.1:" .. a.port .. ": address already in use", err.message, 1, true)
  end)

  it("queues datagrams that arrive while nobody receives, in order", function()
    local a <close> = udp.bind(nil, 0)
    local b <close> = udp.bind(nil, 0)
    for i = 1, 5 do a:send("d" .. i, "127.0.0.1", b.port) end
    asched.sleep(1)                  -- no task in recv() meanwhile
    for i = 1, 5 do assert.equal("d" .. i, (recv_within(b, 1))) end
  end)

  it("past 1,024 queued datagrams leaves the rest to the kernel, and receives them after", function()
    local a <close> = udp.bind(nil, 0)
    local b <close> = udp.bind(nil, 0)
    for i = 1, 1100 do a:send(tostring(i), "127.0.0.1", b.port) end
    asched.sleep(1)
    for i = 1, 1100 do assert.equal(tostring(i), (recv_within(b, 1))) end
  end)

  it("serves tasks waiting in recv() in the order they came", function()
    local a <close> = udp.bind(nil, 0)
    local b <close> = udp.bind(nil, 0)
    local receivers = {}
    for i = 1, 3 do receivers[i] = asched.spawn(function() return (b:recv()) end) end
    asched.sleep(0)
    for i = 1, 3 do a:send("n" .. i, "127.0.0.1", b.port) end
    local got = asched.timeout(1, asched.gather, receivers)
    assert.same({"n1", "n2", "n3"}, {got[1], got[2], got[3]})
  end)

  it("gives a datagram handed to a receiver cancelled before it ran to the next receiver", function()
    local a <close> = udp.bind(nil, 0)
    local b <close> = udp.bind(nil, 0)
    local first = asched.spawn(function() return (b:recv()) end)
    local second = asched.spawn(function() return (b:recv()) end)
    asched.sleep(0)
    a:send("only one", "127.0.0.1", b.port)
    -- The send's completion and the datagram's arrival wake this task and
    -- `first` in the same loop pass, this task first: `first` holds the
    -- datagram but has not run.
    assert.is_true(first:cancel())
    assert_error_named("CancelledError", error_of(first.await, first))
    assert.equal("only one", asched.wait_for(second, 1))
  end)

  it("still delivers a datagram handed to a receiver before the socket closed", function()
    -- The datagram reaches the socket in the loop pass that ends this task's
    -- send, so `first` holds it when this task closes the socket; should it
    -- come a pass later, `first` gets an IOError and the case is tried again.
    local delivered = false
    for _ = 1, 20 do
      local a <close> = udp.bind(nil, 0)
      local b = udp.bind(nil, 0)
      local first = asched.spawn(function() return (b:recv()) end)
      local second = asched.spawn(function() return (b:recv()) end)
      asched.sleep(0)
      a:send("held", "127.0.0.1", b.port)
      b:close()
      local err = error_of(asched.wait_for, second, 1)
      assert_error_named("IOError", err)
      assert.equal("EBADF", err.code)
      local ok, got = pcall(asched.wait_for, first, 1)
      if ok then
        assert.equal("held", got)
        delivered = true
        break
      end
      assert_error_named("IOError", got)
    end
    assert.is_true(delivered, "the datagram never reached the socket in the same loop pass")
  end)

  it("frees a datagram held by a cancelled receiver when the socket closes", function()
    local a <close> = udp.bind(nil, 0)
    local b = udp.bind(nil, 0)
    local first = asched.spawn(function() return (b:recv()) end)
    local second = asched.spawn(function() return (b:recv()) end)
    asched.sleep(0)
    a:send("dropped", "127.0.0.1", b.port)
    first:cancel()
    b:close()
    assert_error_named("CancelledError", error_of(asched.wait_for, first, 1))
    assert_error_named("IOError", error_of(asched.wait_for, second, 1))
  end)

  it("drops what was queued when the socket closes", function()
    local a <close> = udp.bind(nil, 0)
    local b = udp.bind(nil, 0)
    for i = 1, 3 do a:send("q" .. i, "127.0.0.1", b.port) end
    asched.sleep(1)
    b:close()
    assert_error_named("IOError", error_of(b.recv, b))
  end)

  it("lets a recv go when asched.timeout expires, and receives on afterwards", function()
    local before = open_fds()
    do
      local a <close> = udp.bind(nil, 0)
      local b <close> = udp.bind(nil, 0)
      assert_error_named("TimeoutError", error_of(recv_within, b, 0.5))
      a:send("after", "127.0.0.1", b.port)
      assert.equal("after", (recv_within(b, 1)))
    end
    assert.equal(before, open_fds())
  end)

  it("lets a cancelled receiver go and leaves no descriptor open", function()
    local before = open_fds()
    do
      local b <close> = udp.bind(nil, 0)
      local receiver = asched.spawn(b.recv, b)
      asched.sleep(0)
      receiver:cancel()
      assert_error_named("CancelledError", error_of(receiver.await, receiver))
      local a <close> = udp.bind(nil, 0)
      a:send("still there", "127.0.0.1", b.port)
      assert.equal("still there", (recv_within(b, 1)))
    end
    assert.equal(before, open_fds())
  end)

  it("never sends a datagram whose sender was cancelled while its destination resolved", function()
    local a <close> = udp.bind(nil, 0)
    local b <close> = udp.bind(nil, 0)
    assert_error_named("TimeoutError",
      error_of(asched.timeout, 0, a.send, a, "cancelled", "localhost", b.port))
    a:send("sent", "127.0.0.1", b.port)
    assert.equal("sent", (recv_within(b, 1)))
    assert_error_named("TimeoutError", error_of(recv_within, b, 0.5))
  end)

  it("never sends for a sender cancelled before its name resolved, even if it resolves before the sender runs", function()
    local a <close> = udp.bind(nil, 0)
    local b <close> = udp.bind(nil, 0)
    local sender = asched.spawn(a.send, a, "late", "localhost", b.port)
    local busy = {}
    for i = 1, 100 do
      busy[i] = asched.spawn(function() for _ = 1, 3 do asched.sleep(0) end end)
    end
    asched.sleep(0)                  -- the sender waits for its name; the busy tasks are ready
    sender:cancel()                  -- the sender is ready, with its cancellation pending
    os.execute("sleep 0.2")          -- the name resolves on the pool meanwhile
    -- The busy tasks run in this pass, which then polls I/O: the resolution
    -- comes in before the sender runs again.
    assert_error_named("CancelledError", error_of(asched.wait_for, sender, 1))
    asched.timeout(1, asched.gather, busy)
    assert_error_named("TimeoutError", error_of(recv_within, b, 0.5))
  end)

  it("ends a recv waiting on a socket another task closes with an IOError", function()
    local b = udp.bind(nil, 0)
    local receiver = asched.spawn(b.recv, b)
    asched.sleep(0)
    b:close()
    local err = error_of(asched.wait_for, receiver, 1)
    assert_error_named("IOError", err)
    assert.equal("EBADF", err.code)
    assert.matches("socket.recv: the socket is closed", err.message, 1, true)
  end)

  it("raises IOError on a closed socket; close is idempotent", function()
    local before = open_fds()
    local b = udp.bind(nil, 0)
    b:close()
    b:close()
    assert.equal(before, open_fds())
    assert.equal("Socket (closed)", tostring(b))
    local err = error_of(b.recv, b)
    assert_error_named("IOError", err)
    assert.equal("EBADF", err.code)
    err = error_of(b.send, b, "x", "127.0.0.1", 9)
    assert_error_named("IOError", err)
    assert.equal("EBADF", err.code)
  end)

  it("closes a socket held in a <close> variable when it goes out of scope", function()
    local before = open_fds()
    local kept
    do
      local b <close> = udp.bind(nil, 0)
      kept = b
      assert.equal(before + 1, open_fds())
    end
    assert.equal(before, open_fds())
    assert_error_named("IOError", error_of(kept.recv, kept))
  end)

  it("closes every socket when the run ends, even with a task waiting in recv()", function()
    -- In a child asched whose main task returns with the socket open; a
    -- finalizer made after the socket's runs first in lua_close, after the
    -- run: by then the socket's close callback has run.
    local script = [[
      local s = asched.udp.bind(nil, 0)
      asched.spawn(s.recv, s)
      asched.sleep(0)
      print(tostring(s))
      after_the_run = setmetatable({}, {__gc = function() print(tostring(s)) end})
    ]]
    local r = asched.process.run({"/proc/self/exe", "-e", script})
    assert.equal(0, r.code)
    assert.matches("^Socket %(port %d+%)\nSocket %(closed%)\n$", r.stdout)
  end)

  it("rejects bad arguments in Lua's style, before anything is opened", function()
    local before = open_fds()
    assert.matches("bad argument #1 to 'bind' %(a numeric IPv4 or IPv6 address expected%)",
      error_of(function() udp.bind("localhost", 0) end))
    assert.matches("bad argument #1 to 'bind' %(string expected, got number%)",
      error_of(function() udp.bind(127, 0) end))
    assert.matches("bad argument #1 to 'bind' %(host name contains a zero byte%)",
      error_of(function() udp.bind("127.0.0.1\0junk", 0) end))
    assert.matches("bad argument #2 to 'bind' %(port out of range%)",
      error_of(function() udp.bind(nil, 70000) end))
    assert.matches("bad argument #2 to 'bind' %(number expected, got no value%)",
      error_of(function() udp.bind(nil) end))
    assert.equal(before, open_fds())
    local s <close> = udp.bind(nil, 0)
    assert.matches("bad argument #1 to 'send' %(string expected, got number%)",
      error_of(function() s:send(5, "127.0.0.1", s.port) end))
    assert.matches("bad argument #2 to 'send' %(string expected, got nil%)",
      error_of(function() s:send("x", nil, s.port) end))
    assert.matches("bad argument #3 to 'send' %(port out of range%)",
      error_of(function() s:send("x", "127.0.0.1", -1) end))
    assert.matches("bad argument #3 to 'send' %(number has no integer representation%)",
      error_of(function() s:send("x", "127.0.0.1", 1.5) end))
    local impostor = setmetatable({}, {__index = {recv = s.recv}})
    assert.matches("calling 'recv' on bad self %(asched.Socket expected, got table%)",
      error_of(function() impostor:recv() end))
    assert.matches("bad argument #1 to 'recv' %(asched.Socket expected, got table%)",
      error_of(function() local recv = s.recv; recv({}) end))
  end)
end)
