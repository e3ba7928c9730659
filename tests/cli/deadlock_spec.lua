-- The DeadlockError message is the wait-for graph: every waiting task, what
-- it waits on and where, who holds that, and the cycle when there is one.
local support = dofile(debug.getinfo(1, "S").source:match("^@(.-)[^/]*$") .. "support.lua")

-- Runs `script`, which ends deadlocked, and returns the DeadlockError message.
local function deadlock_message(script)
  local r = support.run({options = {"--virtual-time"}, script = script})
  assert.equal(1, r.status, support.describe(r))
  return assert(("\n" .. r.stderr):match("\nasched: DeadlockError: (.-)\nstack traceback:"), support.describe(r)), r
end

describe("the DeadlockError message", function()
  it("names who holds each lock and the cycle of two tasks taking them in opposite order", function()
    local script = [[
local a, b = asched.lock(), asched.lock()
local t1 = asched.spawn(function()
  local g <close> = a:acquire()
  asched.sleep(1)
  local h <close> = b:acquire() -- t1 waits for b
end)
local t2 = asched.spawn(function()
  local g <close> = b:acquire()
  asched.sleep(1)
  local h <close> = a:acquire() -- t2 waits for a
end)
t1.name, t2.name = "left", "right"
asched.gather({t1, t2})
]]
    local message, r = deadlock_message(script)
    local f = r.script
    assert.matches("\n  left (waiting on lock at " .. f .. ":" .. support.line_of(script, "t1 waits")
      .. "); held by right\n", message, 1, true)
    assert.matches("\n  right (waiting on lock at " .. f .. ":" .. support.line_of(script, "t2 waits")
      .. "); held by left\n", message, 1, true)
    assert.matches("\n  cycle: left %-> right %-> left$", message)
  end)

  it("names a semaphore's holders, and follows awaits into the cycle", function()
    local script = [[
local sem = asched.semaphore(2)
local gate
local holders = {}
for i = 1, 2 do
  holders[i] = asched.spawn(function() local p <close> = sem:acquire(); asched.sleep(1); gate:await() end)
end
local starved = asched.spawn(function() asched.sleep(0.5); local p <close> = sem:acquire() end)
gate = asched.spawn(function() asched.sleep(0.5); starved:await() end)
holders[1]:await()
]]
    local message = deadlock_message(script)
    assert.matches("\n  task%-4 %(waiting on semaphore at [^)]*%); held by task%-2, task%-3\n", message)
    assert.matches("\n  task%-2 %(awaiting task%-5 at ", message)
    assert.matches("\n  cycle: task%-2 %-> task%-5 %-> task%-4 %-> task%-2$", message)
  end)

  it("says when nobody holds what a task waits for, and finds no cycle", function()
    local message = deadlock_message([[
local sem = asched.semaphore(0)
asched.spawn(function() sem:acquire() end):await()
]])
    assert.matches("%(waiting on semaphore at [^)]*%); no task holds it", message)
    assert.not_matches("cycle:", message, 1, true)
  end)

  it("names a holder that finished without releasing", function()
    local message = deadlock_message([[
local lock = asched.lock()
asched.spawn(function() lock:acquire() end):await()
lock:acquire()
]])
    assert.matches("%(waiting on lock at [^)]*%); held by task #2 %(finished%)", message)
  end)
end)
