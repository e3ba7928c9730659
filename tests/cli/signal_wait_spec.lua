-- asched.signal.wait in the asched program, signalled from outside (issue 20):
-- a task waiting for a signal gets it; while a task waits for SIGINT or SIGTERM
-- the signal is that task's instead of cancelling the main task, and once no
-- task waits any more the program handles it as before (exit 130 or 143), or
-- the system does (a default action). Each script creates a marker file when it
-- is ready, and only then is the signal sent.
local support = dofile(debug.getinfo(1, "S").source:match("^@(.-)[^/]*$") .. "support.lua")

-- Every script gets its directory as arg[1] and marks readiness with mark(name);
-- mark_when_waiting(name) marks it once every task has reached its wait (a task
-- spawned now runs only after the tasks already ready have suspended).
local PRELUDE = support.MARKING .. [[
local function mark_when_waiting(name)
  asched.spawn(function() asched.sleep(0) mark(name) end)
end
]]

describe("asched.signal.wait", function()
  it("returns the signal's name when it arrives", function()
    local r = support.interrupt(PRELUDE .. [[
mark_when_waiting("ready")
print("got " .. asched.signal.wait("SIGUSR1"))
]], {"ready"}, "USR1")
    assert.equal(0, r.status, support.describe(r))
    assert.equal("got SIGUSR1\n", r.stdout)
  end)

  it("wakes every task waiting for the signal with one arrival", function()
    local r = support.interrupt(PRELUDE .. [[
local a = asched.spawn(function() return "a " .. asched.signal.wait("SIGUSR1") end)
local b = asched.spawn(function() return "b " .. asched.signal.wait("SIGUSR1") end)
asched.sleep(0)
mark_when_waiting("ready")
print(a:await())
print(b:await())
]], {"ready"}, "USR1")
    assert.equal(0, r.status, support.describe(r))
    assert.equal("a SIGUSR1\nb SIGUSR1\n", r.stdout)
  end)

  it("gets Ctrl-C while it waits for SIGINT; the next Ctrl-C cancels the main task (exit 130)", function()
    local r = support.interrupt(PRELUDE .. [[
local guard <close> = setmetatable({}, {__close = function() print("main closed") end})
mark_when_waiting("ready")
print("got " .. asched.signal.wait("SIGINT"))
mark("again")
asched.sleep(1000)
print("sleep returned")
]], {"ready", "again"}, "INT")
    assert.equal(130, r.status, support.describe(r))
    assert.equal("got SIGINT\nmain closed\n", r.stdout)
  end)

  it("gets Ctrl-C while it waits for SIGINT: the script goes on and exits 0", function()
    local r = support.interrupt(PRELUDE .. [[
mark_when_waiting("ready")
print("got " .. asched.signal.wait("SIGINT"))
asched.sleep(0.01)
print("done")
]], {"ready"}, "INT")
    assert.equal(0, r.status, support.describe(r))
    assert.equal("got SIGINT\ndone\n", r.stdout)
    assert.equal("", r.stderr)
  end)

  it("gets SIGTERM while it waits for it; the next SIGTERM cancels the main task (exit 143)", function()
    local r = support.interrupt(PRELUDE .. [[
local guard <close> = setmetatable({}, {__close = function() print("main closed") end})
local waiter = asched.spawn(asched.signal.wait, "SIGTERM")
asched.sleep(0)
mark_when_waiting("ready")
print("got " .. waiter:await())
mark("again")
asched.sleep(1000)
]], {"ready", "again"}, "TERM")
    assert.equal(143, r.status, support.describe(r))
    assert.equal("got SIGTERM\nmain closed\n", r.stdout)
  end)

  it("leaves the other signals to the program: Ctrl-C still cancels the main task", function()
    local r = support.interrupt(PRELUDE .. [[
local waiter = asched.spawn(function()
  local guard <close> = setmetatable({}, {__close = function() print("waiter closed") end})
  asched.signal.wait("SIGUSR1")
end)
asched.sleep(0)
mark_when_waiting("ready")
asched.sleep(1000)
]], {"ready"}, "INT")
    assert.equal(130, r.status, support.describe(r))
    assert.equal("waiter closed\n", r.stdout)
  end)

  it("gives Ctrl-C back to the program once the wait for SIGINT is cancelled (exit 130)", function()
    local r = support.interrupt(PRELUDE .. [[
local waiter = asched.spawn(asched.signal.wait, "SIGINT")
asched.sleep(0)
waiter:cancel()
print(pcall(waiter.await, waiter))
local guard <close> = setmetatable({}, {__close = function() print("main closed") end})
mark_when_waiting("ready")
asched.sleep(1000)
]], {"ready"}, "INT")
    assert.equal(130, r.status, support.describe(r))
    assert.matches("^false\tCancelledError: [^\n]*\nmain closed\n$", r.stdout)
  end)

  it("gives the signal its default action again once the wait is cancelled (SIGUSR1 ends the program)", function()
    local r = support.interrupt(PRELUDE .. [[
local waiter = asched.spawn(asched.signal.wait, "SIGUSR1")
asched.sleep(0)
waiter:cancel()
pcall(waiter.await, waiter)
mark_when_waiting("ready")
asched.sleep(1000)
print("sleep returned")
]], {"ready"}, "USR1")
    assert.equal(128 + 10, r.status, support.describe(r))   -- killed by SIGUSR1, as without asched
    assert.equal("", r.stdout)
  end)

  it("is not a deadlock: the main task may wait for a signal alone", function()
    local r = support.interrupt(PRELUDE .. [[
asched.spawn(function() asched.sleep(0.05) mark("ready") end)
print("got " .. asched.signal.wait("SIGHUP"))
]], {"ready"}, "HUP")
    assert.equal(0, r.status, support.describe(r))
    assert.equal("got SIGHUP\n", r.stdout)
  end)
end)
