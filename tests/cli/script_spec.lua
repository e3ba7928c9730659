-- The asched program running a script as a user does: exit status, what an
-- uncaught or unretrieved error prints, what happens to tasks still pending at
-- the end, and deadlock. Every run is a subprocess under `timeout`.
local support = dofile(debug.getinfo(1, "S").source:match("^@(.-)[^/]*$") .. "support.lua")

local function run_virtual(script, extra)
  local spec = extra or {}
  spec.script = script
  spec.options = {"--virtual-time"}
  return support.run(spec)
end

describe("a script that returns normally", function()
  it("exits with status 0 and prints nothing on stderr", function()
    local r = run_virtual([[
asched.sleep(1)
print("done")
]])
    assert.equal(0, r.status, support.describe(r))
    assert.equal("done\n", r.stdout)
    assert.equal("", r.stderr)
  end)

  it("may call suspending functions at top level and await tasks it spawned", function()
    local r = run_virtual([[
local t = asched.spawn(function(x) asched.sleep(2) return x * 2 end, 21)
print(t:await(), asched.now())
]])
    assert.equal(0, r.status, support.describe(r))
    assert.equal("42\t2.0\n", r.stdout)
  end)
end)

describe("a script's uncaught error", function()
  local script = [[
local function inner()
  error("boom")
end
asched.sleep(1)
inner()
]]

  it("exits with status 1", function()
    local r = run_virtual(script)
    assert.equal(1, r.status, support.describe(r))
  end)

  it("prints 'asched: <message>' as the first line of stderr", function()
    local r = run_virtual(script)
    local first = support.lines(r.stderr)[1]
    assert.equal("asched: " .. r.script .. ":2: boom", first)
  end)

  it("prints a traceback naming the script's file and the line of each call", function()
    local r = run_virtual(script)
    assert.matches("stack traceback:", r.stderr, 1, true)
    assert.matches(r.script .. ":2:", r.stderr, 1, true)   -- where error() was called
    assert.matches(r.script .. ":5:", r.stderr, 1, true)   -- where inner() was called
  end)

  it("prints an error table through its __tostring", function()
    local r = run_virtual([[
error(setmetatable({}, {__tostring = function() return "custom failure" end}))
]])
    assert.equal(1, r.status, support.describe(r))
    assert.equal("asched: custom failure", support.lines(r.stderr)[1])
  end)

  it("prints an asched error object as 'Name: message'", function()
    local r = run_virtual([[
local stuck = asched.spawn(function() asched.sleep(math.huge) end)
local ok, err = pcall(stuck.await, stuck)
error(err)
]])
    assert.equal(1, r.status, support.describe(r))
    assert.matches("\nasched: DeadlockError: ", "\n" .. r.stderr)
  end)
end)

describe("an error through asched.timeout", function()
  it("an uncaught expiry prints 'asched: TimeoutError: ...' and where the timeout hit", function()
    local r = run_virtual([[
local function slow() asched.sleep(5) end
asched.timeout(1, slow)
]])
    assert.equal(1, r.status, support.describe(r))
    local lines = support.lines(r.stderr)
    assert.equal("asched: TimeoutError: timed out after 1 s", lines[1])
    assert.matches(r.script .. ":1:", r.stderr, 1, true)   -- in slow(), where it slept
    assert.matches(r.script .. ":2:", r.stderr, 1, true)   -- the call of asched.timeout
    assert.not_matches("[asched", r.stderr, 1, true)       -- no internal frames
  end)

  it("an error raised inside keeps the traceback of where it was raised", function()
    local r = run_virtual([[
local function fails()
  asched.sleep(0.5)
  error("inside the timeout")
end
asched.timeout(10, fails)
]])
    assert.equal(1, r.status, support.describe(r))
    assert.equal("asched: " .. r.script .. ":3: inside the timeout", support.lines(r.stderr)[1])
    assert.matches(r.script .. ":3: in ", r.stderr, 1, true)   -- the frame of fails(), kept
    assert.matches(r.script .. ":5:", r.stderr, 1, true)
    assert.not_matches("[asched", r.stderr, 1, true)
  end)
end)

describe("an error nobody retrieved", function()
  local script = [[
local t = asched.spawn(function()
  error("lost in task")
end)
asched.sleep(1)
print("main finished")
]]

  it("is printed on stderr with its message at the end of the run", function()
    local r = run_virtual(script)
    assert.matches(r.script .. ":2: lost in task", r.stderr, 1, true)
  end)

  it("is printed with a traceback naming the script's line", function()
    local r = run_virtual(script)
    local at = r.stderr:find("lost in task", 1, true)
    assert.is_truthy(at, support.describe(r))
    local after = r.stderr:sub(at)
    assert.matches("stack traceback:", after, 1, true)
    assert.matches(r.script .. ":2:", after:sub(after:find("stack traceback:", 1, true) or 1), 1, true)
  end)

  it("does not change the exit status of a script that succeeds", function()
    local r = run_virtual(script)
    assert.equal(0, r.status, support.describe(r))
    assert.equal("main finished\n", r.stdout)
  end)

  it("does not change the exit status of a script that fails", function()
    local r = run_virtual([[
asched.spawn(function() error("lost in task") end)
asched.sleep(1)
error("main failed")
]])
    assert.equal(1, r.status, support.describe(r))
    assert.matches("lost in task", r.stderr, 1, true)
    assert.matches("main failed", r.stderr, 1, true)
  end)

  it("is reported even when the task failed long before the end", function()
    local r = run_virtual([[
asched.spawn(function() error("early failure") end)
asched.sleep(1000)
]])
    assert.equal(0, r.status, support.describe(r))
    assert.matches("early failure", r.stderr, 1, true)
  end)

  it("is not reported once the script retrieved it with await", function()
    local r = run_virtual([[
local t = asched.spawn(function() error("handled failure") end)
local ok, err = pcall(t.await, t)
print(ok)
]])
    assert.equal(0, r.status, support.describe(r))
    assert.equal("false\n", r.stdout)
    assert.equal("", r.stderr)
  end)

  it("is not reported once the script retrieved it with exception()", function()
    local r = run_virtual([[
local t = asched.spawn(function() error("handled failure") end)
asched.sleep(1)
print(t:exception() ~= nil)
]])
    assert.equal(0, r.status, support.describe(r))
    assert.equal("true\n", r.stdout)
    assert.equal("", r.stderr)
  end)
end)

describe("tasks still pending when the script ends", function()
  local script = [[
local sleeper = asched.spawn(function()
  local guard <close> = setmetatable({}, {__close = function() print("sleeper closed") end})
  asched.sleep(1000) -- sleeper waits here
end)
sleeper.name = "sleeper"
local waiter = asched.spawn(function()
  local guard <close> = setmetatable({}, {__close = function() print("waiter closed") end})
  sleeper:await() -- waiter waits here
end)
waiter.name = "waiter"
asched.sleep(1)
print("main done")
]]

  it("are named on stderr one line each, with where they were waiting", function()
    local r = run_virtual(script)
    local sleeper_line = support.line_of(script, "-- sleeper waits here")
    local waiter_line = support.line_of(script, "-- waiter waits here")
    local lines = support.lines(r.stderr)
    assert.equal(2, #lines, support.describe(r))
    local by_name = {}
    for _, line in ipairs(lines) do
      local name = line:match("task (%a+) %(")
      assert.is_truthy(name, "a line naming no pending task: " .. line)
      assert.is_nil(by_name[name], "two lines for " .. name)
      by_name[name] = line
    end
    assert.matches(r.script .. ":" .. sleeper_line, by_name.sleeper, 1, true)
    assert.matches(r.script .. ":" .. waiter_line, by_name.waiter, 1, true)
  end)

  it("are not named when their cancellation was already requested", function()
    local r = run_virtual([[
local t = asched.spawn(function() asched.sleep(1000) end)
asched.sleep(1)
t:cancel()
]])
    assert.equal(0, r.status, support.describe(r))
    assert.equal("", r.stderr)
  end)

  it("run their <close> variables before the program exits with status 0", function()
    local r = run_virtual(script)
    assert.equal(0, r.status, support.describe(r))
    local out = support.lines(r.stdout)
    table.sort(out)
    assert.same({"main done", "sleeper closed", "waiter closed"}, out)
  end)

  it("may catch CancelledError and sleep during their cleanup before the program exits", function()
    local r = run_virtual([[
asched.spawn(function()
  local ok, err = pcall(asched.sleep, 1000)
  print("caught " .. err.name)
  asched.sleep(5)
  print("cleaned up at " .. asched.now())
end)
asched.sleep(1)
]])
    assert.equal(0, r.status, support.describe(r))
    assert.equal("caught CancelledError\ncleaned up at 6.0\n", r.stdout)
  end)

  it("are cancelled and cleaned up also when the script fails, which still exits 1", function()
    local r = run_virtual([[
asched.spawn(function()
  local guard <close> = setmetatable({}, {__close = function() print("closed") end})
  asched.sleep(1000)
end)
asched.sleep(1)
error("main failed")
]])
    assert.equal(1, r.status, support.describe(r))
    assert.equal("closed\n", r.stdout)
  end)
end)

describe("a deadlocked script", function()
  local script = [[
local stuck = asched.spawn(function()
  asched.sleep(math.huge)
end)
stuck.name = "stuck"
local watcher = asched.spawn(function() stuck:await() end)
watcher.name = "watcher"
asched.current_task().name = "main"
stuck:await()
print("unreachable")
]]

  it("gets DeadlockError in the main task, uncaught: exit status 1, never a hang", function()
    local r = support.run({script = script}) -- real time: no timer could ever fire
    assert.equal(1, r.status, support.describe(r))
    assert.equal("", r.stdout)
    assert.matches("\nasched: DeadlockError: ", "\n" .. r.stderr)
  end)

  it("names every waiting task in the DeadlockError message", function()
    local r = support.run({script = script})
    local message = ("\n" .. r.stderr):match("\nasched: DeadlockError: (.-)\nstack traceback:")
    assert.is_truthy(message, support.describe(r))
    assert.matches("main", message, 1, true)
    assert.matches("stuck", message, 1, true)
    assert.matches("watcher", message, 1, true)
  end)

  it("can catch DeadlockError, clean up and exit 0", function()
    local r = support.run({script = [[
local stuck = asched.spawn(function() asched.sleep(math.huge) end)
local ok, err = pcall(stuck.await, stuck)
print(err.name)
]]})
    assert.equal(0, r.status, support.describe(r))
    assert.equal("DeadlockError\n", r.stdout)
  end)

  it("under --virtual-time, is not declared while a timer can still fire, and is once none can", function()
    local r = run_virtual([[
local far = asched.spawn(function() asched.sleep(500) return "woke" end)
print(far:await(), asched.now())
local stuck = asched.spawn(function() asched.sleep(math.huge) end)
local ok, err = pcall(stuck.await, stuck)
print(err.name)
]])
    assert.equal(0, r.status, support.describe(r))
    assert.equal("woke\t500.0\nDeadlockError\n", r.stdout)
  end)
end)

describe("a ready queue that never empties (real time)", function()
  -- 2,000 tasks that keep yielding make every pass over the ready queue take
  -- far more than 50 microseconds, so a 10 ms sleep is due after a few dozen
  -- passes: the scheduler must look at the clock between passes, not only
  -- when the queue runs dry (it never does here) or after a fixed, large count.
  it("does not keep a due timer from firing", function()
    local r = support.run({script = [[
local passes, stop = 0, false
for i = 1, 2000 do
  asched.spawn(function()
    while not stop do
      if i == 1 then passes = passes + 1 end
      asched.sleep(0)
    end
  end)
end
asched.sleep(0.01)
stop = true
print(passes < 500 and "fired in time" or ("fired after " .. passes .. " passes"))
]]})
    assert.equal(0, r.status, support.describe(r))
    assert.equal("fired in time\n", r.stdout)
  end)
end)
