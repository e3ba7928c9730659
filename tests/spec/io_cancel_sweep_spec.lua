-- io_cancel_sweep_spec.lua -- the rule of API.md's I/O section, swept over the
-- I/O calls that suspend: cancelling one leaves no descriptor, no child and no
-- task behind. Each case is cancelled at its first suspension (by an expired
-- asched.timeout(0), which raises TimeoutError, and by task:cancel() right
-- after it starts waiting) and, where the call can get that far, mid-way,
-- once it has made real progress (part of the data moved, the child running,
-- the peer's handler running). Then: the call raised CancelledError (or the
-- timeout TimeoutError), closing what the case opened brings the descriptors,
-- the children of this process and asched.all_tasks() back to their count
-- before, and the same kind of call works afterwards. Loopback and local
-- children only. The children sleep 30 s, so that one left running is still
-- there when the counts are compared (settle() waits up to 5 s).
local helpers = require("spec.helpers")
local error_of, assert_error_named = helpers.error_of, helpers.assert_error_named
local tcp, udp, http, process = asched.tcp, asched.udp, asched.http, asched.process

local PID = tonumber(asched.fs.read_file("/proc/self/stat"):match("^(%d+)"))

-- This process's descriptors: number -> inode (from /proc/self/fdinfo), so
-- that a failure can name the descriptors that came and went.
local function descriptors()
  local set, n = {}, 0
  for _, fd in ipairs(asched.fs.list_dir("/proc/self/fd")) do
    local ok, info = pcall(asched.fs.read_file, "/proc/self/fdinfo/" .. fd)
    set[fd] = ok and info:match("ino:%s*(%d+)") or "?"
    n = n + 1
  end
  return set, n
end

-- (an inode "?" is the listing's own descriptor, closed by then: left out)
local function describe_change(before, after)
  local new, gone = {}, {}
  for fd, ino in pairs(after) do
    if before[fd] ~= ino and ino ~= "?" then new[#new + 1] = fd .. " (inode " .. ino .. ")" end
  end
  for fd, ino in pairs(before) do
    if after[fd] ~= ino and ino ~= "?" then gone[#gone + 1] = fd .. " (inode " .. ino .. ")" end
  end
  table.sort(new)
  table.sort(gone)
  return "new: " .. table.concat(new, ", ") .. "; gone: " .. table.concat(gone, ", ")
end

-- The processes that have this one as parent, zombies included (found as
-- io_spawn_spec.lua finds them): a list of "pid (comm) state".
local function children()
  local found = {}
  for _, name in ipairs(asched.fs.list_dir("/proc")) do
    if name:match("^%d+$") then
      local ok, stat = pcall(asched.fs.read_file, "/proc/" .. name .. "/stat")
      -- "pid (comm) state ppid ...": comm may hold spaces and parentheses
      local head, state, ppid = (ok and stat or ""):match("^(.*%)) (%a) (%d+)")
      if ppid and tonumber(ppid) == PID then found[#found + 1] = head .. " " .. state end
    end
  end
  return found
end

local function snapshot()
  local kids = children()
  local set, n = descriptors()
  return {fds = n, set = set, children = #kids, kids = table.concat(kids, ", "), tasks = #asched.all_tasks()}
end

local function same(a, b) return a.fds == b.fds and a.children == b.children and a.tasks == b.tasks end

-- Lets a few milliseconds of real time pass (a SIGCHLD, a peer's end of a
-- connection): work on a pool thread, shorter than the 0.05 s autojump
-- threshold, so that it does not move a virtual clock either.
local function real_pause()
  asched.to_thread(function()
    local t0 = os.clock()
    while os.clock() - t0 < 0.005 do end
  end)
end

-- Until the counts stop moving (what earlier calls left closing is closed).
local function settled_snapshot()
  local last, steady = snapshot(), 0
  for _ = 1, 200 do
    asched.sleep(0)
    real_pause()
    local now = snapshot()
    steady = same(now, last) and steady + 1 or 0
    if steady == 3 then return now end
    last = now
  end
  error("the descriptors, children or tasks never stopped changing")
end

-- Seconds of real time (since boot), whatever the loop clock is.
local function real_now() return tonumber(asched.fs.read_file("/proc/uptime"):match("^[%d.]+")) end

-- Gives the close callbacks, the reaping of killed children and the handler
-- tasks of closed connections their time: until the counts are back to
-- `before`, or 5 s of real time have passed.
local function settle(before)
  local t0 = real_now()
  for i = 1, math.huge do
    if same(snapshot(), before) or real_now() - t0 > 5 then return end
    asched.sleep(0)
    if i > 3 then real_pause() end
  end
end

-- Polls `pred` every 10 ms (of the loop clock) for at most 5 s of it.
local function wait_until(pred, what)
  for _ = 1, 500 do
    if pred() then return end
    asched.sleep(0.01)
  end
  error("gave up waiting until " .. what)
end

-- Runs s:read(n), turning an IOError (a reset connection) into nil; a
-- cancellation goes through.
local function read_or_nil(s, n)
  local ok, chunk = pcall(s.read, s, n)
  if ok then return chunk end
  if type(chunk) == "table" and chunk.name == "IOError" then return nil end
  error(chunk, 0)
end

-- A TCP server whose handler never sends anything: it reads until the client
-- goes, counting connections (ctx.accepted) and bytes (ctx.received).
local function silent_server(ctx)
  ctx.accepted, ctx.received = 0, 0
  return tcp.listen(nil, 0, function(s)
    ctx.accepted = ctx.accepted + 1
    for chunk in function() return read_or_nil(s) end do ctx.received = ctx.received + #chunk end
  end)
end

-- A TCP echo round trip on a fresh server and connection, all closed after.
local function tcp_round_trip(opts, server_opts)
  local server <close> = tcp.listen(nil, 0, function(s)
    local line = s:read_line()
    if line then s:write("echo: " .. line .. "\n") end
    read_or_nil(s)                         -- until the client goes
  end, server_opts)
  local s <close> = tcp.connect("127.0.0.1", server.port, opts)
  s:write("ping\n")
  assert.equal("echo: ping", s:read_line())
end

local function close_all(...)
  for i = 1, select("#", ...) do
    local x = select(i, ...)
    if x then x:close() end
  end
end

-- A self-signed certificate for the TLS round trip, made once with the
-- openssl tool in a temporary directory (removed when the file is done).
local cert
local function self_signed()
  if cert then return cert end
  local dir = process.run({"mktemp", "-d"}).stdout:gsub("%s+$", "")
  local r = process.run({"openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
                         "-nodes", "-keyout", dir .. "/key.pem", "-out", dir .. "/cert.pem", "-days", "1",
                         "-subj", "/CN=localhost"})
  assert.equal(0, r.code, r.stderr)
  cert = {dir = dir, cert = dir .. "/cert.pem", key = dir .. "/key.pem"}
  return cert
end

-- Fills the libuv pool with to_thread jobs that poll for a flag file, so
-- that a name to resolve waits for a thread. They spin between looks rather
-- than run `sleep` as io_dns_spec.lua's do: a child ending every few
-- milliseconds wakes the loop, and under virtual time each wakeup starts the
-- 0.05 s autojump wait afresh, so the sleeps of the case would not end.
-- Returns the pool: pool.status() tells what each job is doing,
-- pool.release() lets them go and returns how each ended.
local unreleased = {}                     -- pools a failed case did not release
local function block_the_pool()
  local flag = os.tmpname()
  os.remove(flag)
  local jobs, pool = {}, {}
  for i = 1, tonumber(os.getenv("UV_THREADPOOL_SIZE")) or 4 do
    jobs[i] = asched.spawn(asched.to_thread, function(path)
      local give_up = os.time() + 30
      while os.time() < give_up do
        local f = io.open(path)
        if f then f:close() return true end
        local t0 = os.clock()
        while os.clock() - t0 < 0.001 do end
      end
      return false
    end, flag)
  end
  asched.sleep(0)
  function pool.status()
    local parts = {}
    for i, job in ipairs(jobs) do
      parts[i] = "job " .. i .. (job:done() and " ended: " .. tostring(select(2, pcall(job.result, job))) or " waits")
    end
    return table.concat(parts, ", ")
  end
  function pool.release()
    unreleased[pool] = nil
    local f = assert(io.open(flag, "w"))  -- not asched.fs: it needs the pool
    f:close()
    local ended = {}
    for i, job in ipairs(jobs) do ended[i] = select(2, pcall(job.await, job)) end
    os.remove(flag)
    return ended
  end
  unreleased[pool] = true
  return pool
end

-- Releases a pool whose every job waited until then (so it stayed full).
local function release_full_pool(pool)
  for i, ended in ipairs(pool.release()) do assert.is_true(ended, "pool job " .. i .. " ended before its release") end
end

-- libcurl keeps up to 4 idle connections open after their requests, even to
-- servers closed since (as earlier specs leave them), and closes the dead
-- ones only when a new connection is made at least 1 s after it last
-- looked: during a case, that would take descriptors away. So, once: wait a
-- second, and make a connection (its request, with "Connection: close",
-- leaves nothing in the cache; neither do the cases' requests).
local curl_flushed = false
local function flush_curl_cache()
  if curl_flushed then return end
  asched.to_thread(function() os.execute("sleep 1.1") end)
  local server <close> = http.listen(nil, 0, function() return 200, "ok" end)
  assert.equal(200, http.get("http://127.0.0.1:" .. server.port .. "/", {headers = {Connection = "close"}}).status)
  curl_flushed = true
end

local BIG = string.rep("0123456789abcdef", 4 * 1024 * 1024)   -- 64 MiB
local MIB = 1024 * 1024

-- Each case: setup(moment) → ctx (what it opened); call(ctx), which suspends;
-- teardown(ctx) closes what setup opened; again() is the ordinary call of the
-- same kind (run before, as a warm-up, and after, to show the loop healthy);
-- midway = {what, progress(ctx)} when the call can be caught mid-way;
-- check(ctx) for what else the case must show.
local CASES = {
  {
    name = "tcp.connect",
    setup = function(ctx) ctx.server = silent_server(ctx) end,
    call = function(ctx) ctx.stream = tcp.connect("127.0.0.1", ctx.server.port) end,
    teardown = function(ctx) close_all(ctx.stream, ctx.server) end,
    again = function() tcp_round_trip() end,
    -- (on loopback the connection is made at once: there is no mid-way)
  },
  {
    name = "stream:read",
    setup = function(ctx)
      ctx.server = silent_server(ctx)
      ctx.stream = tcp.connect("127.0.0.1", ctx.server.port)
      wait_until(function() return ctx.accepted == 1 end, "the server took the connection")
    end,
    call = function(ctx) return ctx.stream:read() end,
    teardown = function(ctx) close_all(ctx.stream, ctx.server) end,
    again = function() tcp_round_trip() end,
    midway = {what = "after 0.05 s of waiting for a peer that sends nothing", progress = function() return true end},
  },
  {
    name = "stream:read_line",
    setup = function(ctx)
      ctx.server = tcp.listen(nil, 0, function(s)
        s:write("part of a line")
        ctx.sent = true
        read_or_nil(s)
      end)
      ctx.stream = tcp.connect("127.0.0.1", ctx.server.port)
    end,
    call = function(ctx) return ctx.stream:read_line() end,
    teardown = function(ctx) close_all(ctx.stream, ctx.server) end,
    again = function() tcp_round_trip() end,
    midway = {what = "once the peer has sent part of a line",
              progress = function(ctx) return ctx.sent end},
  },
  {
    name = "stream:write of 64 MiB",
    setup = function(ctx)
      ctx.received, ctx.release = 0, asched.event()
      ctx.server = tcp.listen(nil, 0, function(s)
        while ctx.received < MIB do                -- takes 1 MiB, then stops reading
          local chunk = read_or_nil(s)
          if not chunk then return end
          ctx.received = ctx.received + #chunk
        end
        ctx.release:wait()
        while read_or_nil(s) do end
      end)
      ctx.stream = tcp.connect("127.0.0.1", ctx.server.port)
    end,
    call = function(ctx) return ctx.stream:write(BIG) end,
    teardown = function(ctx)
      close_all(ctx.stream, ctx.server)
      ctx.release:set()
    end,
    again = function() tcp_round_trip() end,
    midway = {what = "once the peer has read 1 MiB of it and stopped reading",
              progress = function(ctx) return ctx.received >= MIB end},
  },
  {
    name = "tcp.connect with TLS, to a server that never answers the handshake",
    setup = function(ctx) ctx.server = silent_server(ctx) end,
    call = function(ctx) ctx.stream = tcp.connect("127.0.0.1", ctx.server.port, {tls = {verify = false}}) end,
    teardown = function(ctx) close_all(ctx.stream, ctx.server) end,
    again = function()
      local c = self_signed()
      tcp_round_trip({tls = {verify = false}}, {tls = {cert = c.cert, key = c.key}})
    end,
    midway = {what = "once its ClientHello has reached the server",
              progress = function(ctx) return ctx.received > 0 end},
  },
  {
    name = "udp socket:recv",
    setup = function(ctx) ctx.sock = udp.bind(nil, 0) end,
    call = function(ctx) return ctx.sock:recv() end,
    teardown = function(ctx) ctx.sock:close() end,
    again = function()
      local a <close> = udp.bind(nil, 0)
      local b <close> = udp.bind(nil, 0)
      a:send("ping", "127.0.0.1", b.port)
      assert.equal("ping", (asched.timeout(1, b.recv, b)))
    end,
    midway = {what = "after 0.05 s of waiting for a datagram", progress = function() return true end},
  },
  {
    name = "udp socket:send to a host name",
    setup = function(ctx, moment)
      ctx.a, ctx.b = udp.bind(nil, 0), udp.bind(nil, 0)
      if moment == "midway" then ctx.pool = block_the_pool() end
    end,
    call = function(ctx) return ctx.a:send("by name", "localhost", ctx.b.port) end,
    teardown = function(ctx)
      if ctx.pool then release_full_pool(ctx.pool) end
      close_all(ctx.a, ctx.b)
    end,
    again = function()
      local a <close> = udp.bind(nil, 0)
      local b <close> = udp.bind(nil, 0)
      a:send("by name", "localhost", b.port)
      assert.equal("by name", (asched.timeout(1, b.recv, b)))
    end,
    midway = {what = "after 0.05 s of its name waiting for a pool thread", progress = function() return true end},
  },
  {
    name = "dns.resolve",
    setup = function(ctx, moment)
      if moment == "midway" then ctx.pool = block_the_pool() end
    end,
    call = function() return asched.dns.resolve("localhost") end,
    teardown = function(ctx)
      if ctx.pool then release_full_pool(ctx.pool) end
    end,
    again = function()
      local found = false
      for _, address in ipairs(asched.dns.resolve("localhost")) do found = found or address == "127.0.0.1" end
      assert.is_true(found)
    end,
    midway = {what = "after 0.05 s of waiting for a pool thread", progress = function() return true end},
  },
  {
    name = "process.run",
    setup = function(ctx) ctx.children = #children() end,
    call = function() return process.run({"sleep", "30"}) end,
    teardown = function() end,
    again = function() assert.equal(0, process.run({"true"}).code) end,
    midway = {what = "once its child runs",
              progress = function(ctx) return #children() > ctx.children end},
  },
  {
    name = "Process:wait",
    setup = function(ctx) ctx.proc = process.spawn({"sleep", "30"}) end,
    call = function(ctx) return ctx.proc:wait() end,
    teardown = function(ctx)
      assert.is_true(ctx.proc:kill("SIGKILL"))
      assert.same({nil, "SIGKILL"}, {ctx.proc:wait()})
    end,
    again = function() assert.same({0, nil}, {process.spawn({"true"}):wait()}) end,
    midway = {what = "after 0.05 s of its child running", progress = function() return true end},
  },
  {
    name = "Process stdout:read",
    setup = function(ctx) ctx.proc = process.spawn({"sleep", "30"}, {stdout = "pipe"}) end,
    call = function(ctx) return ctx.proc.stdout:read() end,
    teardown = function(ctx)
      assert.is_true(ctx.proc:kill("SIGKILL"))
      assert.same({nil, "SIGKILL"}, {ctx.proc:wait()})
      ctx.proc.stdout:close()
    end,
    again = function()
      local p <close> = process.spawn({"printf", "out"}, {stdout = "pipe"})
      assert.equal("out", p.stdout:read())
      assert.equal(0, p:wait())
    end,
    midway = {what = "after 0.05 s of its child running, silent", progress = function() return true end},
  },
  {
    name = "signal.wait",
    setup = function() end,
    call = function() return asched.signal.wait("SIGUSR2") end,
    teardown = function() end,
    again = function()
      local waiter = asched.spawn(asched.signal.wait, "SIGUSR2")
      asched.sleep(0)                        -- waiting: SIGUSR2 is asched's now
      assert.is_false(waiter:done())
      assert.equal(0, process.run({"kill", "-USR2", tostring(PID)}).code)
      assert.equal("SIGUSR2", asched.wait_for(waiter, 5))
    end,
    midway = {what = "after 0.05 s of waiting", progress = function() return true end},
  },
  {
    name = "http.get, to a server whose handler sleeps 5 s",
    setup = function(ctx)
      ctx.handled, ctx.ended = 0, 0
      ctx.server = http.listen(nil, 0, function()
        local guard <close> = setmetatable({}, {__close = function() ctx.ended = ctx.ended + 1 end})
        ctx.handled = ctx.handled + 1
        asched.sleep(5)
        ctx.answered = true
        return 200, "late"
      end)
    end,
    call = function(ctx) return http.get("http://127.0.0.1:" .. ctx.server.port .. "/") end,
    teardown = function(ctx)
      -- The server sees the client go only while it is open: server:close()
      -- stops reading from busy connections, so closing it at once would leave
      -- the handler (and its connection) to the end of its 5 s sleep.
      wait_until(function() return ctx.ended == ctx.handled end, "the handler was cancelled")
      ctx.server:close()
    end,
    again = function()
      flush_curl_cache()
      local server <close> = http.listen(nil, 0, function() return 200, "ok" end)
      local r = http.get("http://127.0.0.1:" .. server.port .. "/", {headers = {Connection = "close"}})
      assert.same({200, "ok"}, {r.status, r.body})
    end,
    midway = {what = "once the server's handler runs",
              progress = function(ctx) return ctx.handled > 0 end},
    -- the client's going cancelled the handler, rather than its sleep ending
    check = function(ctx) assert.is_nil(ctx.answered, "the handler ran to its end") end,
  },
  {
    name = "asched.to_thread of a function that sleeps 0.2 s",
    setup = function() end,
    call = function()
      return asched.to_thread(function() os.execute("sleep 0.2") return true end)
    end,
    teardown = function() end,
    again = function() assert.equal(42, asched.to_thread(function(x) return x + 1 end, 41)) end,
    -- (mid-way is the same for a thread: the caller lets go, the thread runs on)
  },
}

-- Starts case.call(ctx) in a task and returns it once the call waits; the
-- call's own outcome lands in ctx.outcome.
local function start(case, ctx)
  local t = asched.spawn(function()
    ctx.entered = true
    ctx.outcome = table.pack(pcall(case.call, ctx))
    if not ctx.outcome[1] then error(ctx.outcome[2], 0) end
    return table.unpack(ctx.outcome, 2, ctx.outcome.n)
  end)
  repeat asched.sleep(0) until ctx.entered
  return t
end

local function cancel_and_check(t, ctx)
  if t:done() then
    local outcome = ctx.outcome or {}
    error("the call was over before it was cancelled: " .. (outcome[1] and "it returned " or "it raised ")
          .. tostring(outcome[2]) .. (ctx.pool and " (the pool: " .. ctx.pool.status() .. ")" or ""), 2)
  end
  t:cancel()
  assert_error_named("CancelledError", error_of(t.await, t))
  assert.is_false(ctx.outcome[1], "the call returned")
  assert_error_named("CancelledError", ctx.outcome[2])
end

local MOMENTS = {
  timeout = function(case, ctx)
    assert_error_named("TimeoutError", error_of(asched.timeout, 0, case.call, ctx))
  end,
  at_start = function(case, ctx)
    cancel_and_check(start(case, ctx), ctx)
  end,
  midway = function(case, ctx)
    local t = start(case, ctx)
    wait_until(function() return t:done() or case.midway.progress(ctx) end, case.midway.what)
    asched.sleep(0.05)
    cancel_and_check(t, ctx)
  end,
}

local function sweep(case, moment)
  case.again()                                 -- warm-up: what the kind opens once and keeps
  local before = settled_snapshot()
  local ctx = {}
  case.setup(ctx, moment)
  MOMENTS[moment](case, ctx)
  case.teardown(ctx)
  settle(before)
  local after = snapshot()
  assert.equal(before.fds, after.fds,
               "descriptors open before and after (" .. describe_change(before.set, after.set) .. ")")
  assert.equal(before.children, after.children,
               "children of this process before and after (now: " .. after.kids .. ")")
  assert.equal(before.tasks, after.tasks, "tasks not done before and after")
  if case.check then case.check(ctx) end
  case.again()                                 -- and the same kind of call still works
end

describe("cancelling a suspending I/O call leaves no descriptor, no child and no task behind:", function()
  after_each(function()
    for pool in pairs(unreleased) do pool.release() end
    helpers.cancel_leftovers()
  end)
  teardown(function()
    if cert then process.run({"rm", "-rf", cert.dir}) end
  end)

  for _, case in ipairs(CASES) do
    describe(case.name, function()
      it("cancelled at its first suspension by an expired asched.timeout(0)", function()
        sweep(case, "timeout")
      end)
      it("cancelled by task:cancel() right after it starts waiting", function()
        sweep(case, "at_start")
      end)
      if case.midway then
        it("cancelled mid-way, " .. case.midway.what, function()
          sweep(case, "midway")
        end)
      end
    end)
  end
end)
