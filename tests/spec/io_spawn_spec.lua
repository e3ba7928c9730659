-- io_spawn_spec.lua -- asched.process.spawn: a child process the script talks
-- to through pipes that are Streams, waits for, signals and kills; a Process
-- in a <close> variable is killed and reaped; cancelling a read, write or wait
-- leaves no descriptor, handle or child behind (issue 20).
local helpers = require("spec.helpers")
local error_of, assert_error_named = helpers.error_of, helpers.assert_error_named
local spawn = asched.process.spawn

local PID = tonumber(asched.fs.read_file("/proc/self/stat"):match("^(%d+)"))

local function open_fds() return #asched.fs.list_dir("/proc/self/fd") end

-- The processes whose parent is this one, zombies included: pid -> state.
local function children()
  local found = {}
  for _, name in ipairs(asched.fs.list_dir("/proc")) do
    if name:match("^%d+$") then
      local ok, stat = pcall(asched.fs.read_file, "/proc/" .. name .. "/stat")
      -- "pid (comm) state ppid ...": comm may hold spaces and parentheses
      local state, ppid = (ok and stat or ""):match("%) (%a) (%d+)")
      if ppid and tonumber(ppid) == PID then found[tonumber(name)] = state end
    end
  end
  return found
end

-- A child of this process that runs (or sleeps): not gone, not a zombie.
local function running(pid)
  local state = children()[pid]
  return state ~= nil and state ~= "Z"
end

local function count(set)
  local n = 0
  for _ in pairs(set) do n = n + 1 end
  return n
end

-- Everything a Stream gives until its end.
local function read_all(stream)
  local parts = {}
  for chunk in function() return stream:read() end do parts[#parts + 1] = chunk end
  return table.concat(parts)
end

-- What `readlink` says about descriptor `fd` of this process.
local function our_fd_target(fd)
  local p <close> = spawn({"readlink", "/proc/" .. PID .. "/fd/" .. fd}, {stdout = "pipe"})
  return p.stdout:read_line()
end

describe("asched.process.spawn", function()
  after_each(helpers.cancel_leftovers)

  it("echoes lines through cat, over its stdin and stdout pipes", function()
    local cat <close> = spawn({"cat"}, {stdin = "pipe", stdout = "pipe"})
    cat.stdin:write("hello\nworld\r\n")
    assert.equal("hello", cat.stdout:read_line())
    assert.equal("world", cat.stdout:read_line())
    cat.stdin:write("last, without a newline")
    cat.stdin:close()
    assert.equal("last, without a newline", cat.stdout:read_line())
    assert.is_nil(cat.stdout:read_line())
    assert.is_nil(cat.stdout:read())
    assert.same({0, nil}, {cat:wait()})
  end)

  it("reads at most n bytes, then what is left, then nil at the end", function()
    local p <close> = spawn({"printf", "abcdef"}, {stdout = "pipe"})
    assert.equal("ab", p.stdout:read(2))
    assert.equal("cdef", read_all(p.stdout))
    assert.is_nil(p.stdout:read(1))
    assert.equal(0, p:wait())
  end)

  it("moves a large payload through cat in both directions at once", function()
    local payload = string.rep("0123456789abcdef", 65536)   -- 1 MiB: more than a pipe holds
    local cat <close> = spawn({"cat"}, {stdin = "pipe", stdout = "pipe"})
    local writer = asched.spawn(function()
      cat.stdin:write(payload)
      cat.stdin:close()
    end)
    assert.equal(payload, read_all(cat.stdout))
    writer:await()
    assert.equal(0, cat:wait())
  end)

  it("gives stdout and stderr pipes of their own", function()
    local p <close> = spawn({"sh", "-c", "echo out; echo err >&2; exit 3"}, {stdout = "pipe", stderr = "pipe"})
    assert.equal("out", p.stdout:read_line())
    assert.equal("err", p.stderr:read_line())
    assert.same({3, nil}, {p:wait()})
  end)

  it("has a Stream only for the streams that are pipes; inherit is the default", function()
    local p <close> = spawn({"true"})
    assert.is_nil(p.stdin)
    assert.is_nil(p.stdout)
    assert.is_nil(p.stderr)
    assert.is_number(p.pid)
    local q <close> = spawn({"true"}, {stdin = "pipe", stderr = "pipe"})
    assert.equal("asched.Stream", getmetatable(q.stdin).__name)
    assert.is_nil(q.stdout)
    assert.equal("asched.Stream", getmetatable(q.stderr).__name)
    p:wait()
    q:wait()
  end)

  it("inherits this process's descriptors, or gives /dev/null", function()
    local ours = our_fd_target(2)
    local inherit <close> = spawn({"sh", "-c", "readlink /proc/self/fd/2"}, {stdout = "pipe"})
    assert.equal(ours, inherit.stdout:read_line())
    local null <close> = spawn({"sh", "-c", "readlink /proc/self/fd/0; readlink /proc/self/fd/2"},
                               {stdin = "null", stdout = "pipe", stderr = "null"})
    assert.equal("/dev/null", null.stdout:read_line())
    assert.equal("/dev/null", null.stdout:read_line())
  end)

  it("sets the working directory and the environment", function()
    local pwd <close> = spawn({"pwd"}, {cwd = "/", stdout = "pipe"})
    assert.equal("/\n", read_all(pwd.stdout))
    local env <close> = spawn({"/usr/bin/env"}, {env = {ONLY = "1"}, stdout = "pipe"})
    assert.equal("ONLY=1\n", read_all(env.stdout))
  end)

  it("returns nil and the signal's name for a child a signal ended", function()
    local p <close> = spawn({"sleep", "1000"})
    assert.is_true(p:kill("SIGKILL"))
    assert.same({nil, "SIGKILL"}, {p:wait()})
    local q <close> = spawn({"sh", "-c", "kill -USR1 $$"})
    assert.same({nil, "SIGUSR1"}, {q:wait()})
  end)

  it("kills with SIGTERM by default, and not once the child has exited", function()
    local p <close> = spawn({"sleep", "1000"})
    assert.is_true(p:kill())
    assert.same({nil, "SIGTERM"}, {p:wait()})
    assert.is_false(p:kill())
    assert.is_false(p:kill("SIGKILL"))
  end)

  it("wakes every task waiting for the child, and answers later waits at once", function()
    local p <close> = spawn({"sh", "-c", "read line; exit 7"}, {stdin = "pipe"})
    local waiters = {}
    for i = 1, 3 do waiters[i] = asched.spawn(function() return {p:wait()} end) end
    asched.sleep(0)
    p.stdin:write("go\n")
    for i = 1, 3 do assert.same({7, nil}, waiters[i]:await()) end
    local t0 = asched.now()
    assert.same({7, nil}, {p:wait()})
    assert.equal(t0, asched.now())
  end)

  it("raises an IOError naming a program that does not exist, leaving no descriptor open", function()
    local before = open_fds()
    local err = error_of(spawn, {"/nonexistent/program"}, {stdin = "pipe", stdout = "pipe", stderr = "pipe"})
    assert_error_named("IOError", err)
    assert.equal("ENOENT", err.code)
    assert.matches("process.spawn /nonexistent/program: no such file or directory", err.message, 1, true)
    asched.sleep(0)                              -- the handles' close callbacks
    assert.equal(before, open_fds())
  end)

  it("raises an IOError when writing to a child that has exited", function()
    local p <close> = spawn({"true"}, {stdin = "pipe"})
    p:wait()
    local err = error_of(p.stdin.write, p.stdin, "nobody reads this\n")
    assert_error_named("IOError", err)
    assert.equal("EPIPE", err.code)
  end)

  it("kills and reaps a child in a <close> variable, leaving no child or zombie", function()
    spawn({"true"}):wait()                       -- libuv's child watcher is set up
    local before_children, before_fds = count(children()), open_fds()
    local pid
    do
      local p <close> = spawn({"sleep", "1000"}, {stdin = "pipe", stdout = "pipe", stderr = "pipe"})
      pid = p.pid
      assert.is_true(running(pid))
    end
    assert.is_nil(children()[pid], "the child is still there (or a zombie)")
    assert.equal(before_children, count(children()))
    asched.sleep(0)                              -- the handles' close callbacks
    assert.equal(before_fds, open_fds())
  end)

  it("gives the end of a child killed by <close> to the tasks waiting for it", function()
    local waiter
    do
      local p <close> = spawn({"sleep", "1000"})
      waiter = asched.spawn(function() return {p:wait()} end)
      asched.sleep(0)
    end
    assert.same({nil, "SIGKILL"}, waiter:await())
  end)

  it("closes the pipes of a child in a <close> variable: a waiting reader gets an IOError", function()
    local reader
    do
      local p <close> = spawn({"sleep", "1000"}, {stdout = "pipe"})
      reader = asched.spawn(p.stdout.read, p.stdout)
      asched.sleep(0)
    end
    assert_error_named("IOError", error_of(reader.await, reader))
  end)

  it("lets a cancelled reader, writer and waiter go, leaving no descriptor or child behind", function()
    spawn({"true"}):wait()                       -- libuv's child watcher is set up
    local before_children, before_fds = count(children()), open_fds()
    local cat = spawn({"cat"}, {stdin = "pipe", stdout = "pipe"})
    local reader = asched.spawn(cat.stdout.read_line, cat.stdout)
    local waiter = asched.spawn(cat.wait, cat)
    asched.sleep(0)
    for _, t in ipairs({reader, waiter}) do
      t:cancel()
      assert_error_named("CancelledError", error_of(t.await, t))
    end
    -- Nobody reads cat's output now, so a write of more than the pipes hold waits.
    local writer = asched.spawn(cat.stdin.write, cat.stdin, string.rep("x", 4 * 1024 * 1024))
    asched.sleep(0)
    assert.is_false(writer:done())
    writer:cancel()
    assert_error_named("CancelledError", error_of(writer.await, writer))
    -- The child and its pipes go on: the stream reads on, the process is waited for.
    assert.equal("xxxxx", cat.stdout:read(5))
    assert.is_true(cat:kill())
    assert.same({nil, "SIGTERM"}, {cat:wait()})
    cat.stdin:close()
    cat.stdout:close()
    asched.sleep(0)                              -- the handles' close callbacks
    assert.equal(before_fds, open_fds())
    assert.equal(before_children, count(children()))
  end)

  it("lets a cancelled wait go while the child keeps running, unwaited", function()
    local p <close> = spawn({"sleep", "5"})
    local t = asched.spawn(p.wait, p)
    asched.sleep(0)
    t:cancel()
    assert_error_named("CancelledError", error_of(t.await, t))
    helpers.idle_clock()     -- nobody waits for the child now: it keeps nothing alive
    assert.is_true(running(p.pid), "the deadlock was only seen once the child had exited")
  end)

  it("does not hide a deadlock behind a child nobody waits for", function()
    local p <close> = spawn({"sleep", "5"})
    helpers.idle_clock()     -- raises unless the run sees that nothing can wake a task
    assert.is_true(running(p.pid), "the deadlock was only seen once the child had exited")
  end)

  it("rejects bad arguments in Lua's style, before anything starts", function()
    local before = count(children())
    assert.matches("bad argument #1 to 'spawn' %(table expected, got string%)", error_of(spawn, "ls"))
    assert.matches("bad argument #1 to 'spawn' %(argv must name a program%)", error_of(spawn, {}))
    assert.matches("bad argument #1 to 'spawn' %(argv%[2%] is a number, not a string%)", error_of(spawn, {"ls", 2}))
    assert.matches("bad argument #2 to 'spawn' %(table of options expected, got string%)", error_of(spawn, {"ls"}, "x"))
    assert.matches("bad argument #2 to 'spawn' %(unknown option 'stdn'%)", error_of(spawn, {"ls"}, {stdn = "pipe"}))
    assert.matches("bad argument #2 to 'spawn' %(unknown option 'timeout'%)", error_of(spawn, {"ls"}, {timeout = 1}))
    assert.matches("bad argument #2 to 'spawn' %(option 'stdout' must be \"pipe\", \"inherit\" or \"null\", got \"pip\"%)",
      error_of(spawn, {"ls"}, {stdout = "pip"}))
    assert.matches("bad argument #2 to 'spawn' %(option 'stderr' must be a string, got boolean%)",
      error_of(spawn, {"ls"}, {stderr = true}))
    assert.matches("bad argument #2 to 'spawn' %(option 'cwd' must be a string, got 1%)",
      error_of(spawn, {"ls"}, {cwd = 1}))
    assert.matches("bad argument #2 to 'spawn' %(option 'env' must be a table, got string%)",
      error_of(spawn, {"ls"}, {env = "A=1"}))
    assert.matches("bad argument #2 to 'spawn' %(option 'env' must map names to strings%)",
      error_of(spawn, {"ls"}, {env = {A = {}}}))
    assert.matches("bad argument #2 to 'spawn' %(option 'env' must map names to strings%)",
      error_of(spawn, {"ls"}, {env = {["A=B"] = "1"}}))
    assert.matches("bad argument #1 to 'spawn' %(argv%[2%] holds a zero byte%)", error_of(spawn, {"ls", "a\0b"}))
    assert.matches("bad argument #2 to 'spawn' %(option 'cwd' holds a zero byte%)", error_of(spawn, {"ls"}, {cwd = "/\0tmp"}))
    -- argv is read with # and indexing, once
    local reads = 0
    local proxy = setmetatable({}, {__len = function() return 1 end,
                                    __index = function(_, i) reads = reads + 1 return i == 1 and "true" or nil end})
    local p <close> = spawn(proxy)
    assert.equal(1, reads)
    assert.equal(0, p:wait())
    assert.equal(before, count(children()))
  end)

  it("rejects an unknown signal name and a signal that is not a name", function()
    local p <close> = spawn({"sleep", "1000"})
    assert.matches("bad argument #1 to 'kill' %(unknown signal 'SIGNOPE'%)", error_of(function() p:kill("SIGNOPE") end))
    assert.matches("bad argument #1 to 'kill' %(unknown signal 'TERM'%)", error_of(function() p:kill("TERM") end))
    assert.matches("bad argument #1 to 'kill' %(signal name expected, got number%)", error_of(function() p:kill(9) end))
    assert.matches("bad argument #1 to 'wait' %(asched.Process expected, got table%)", error_of(p.wait, {}))
    assert.is_true(p:kill("SIGKILL"))
  end)
end)
