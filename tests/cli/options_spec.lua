-- asched's command line: lua5.4's options and `arg` conventions, so it can
-- stand in for lua5.4, plus --virtual-time and --seed. Where lua5.4 defines the
-- behaviour, the spec runs both programs and compares.
local support = dofile(debug.getinfo(1, "S").source:match("^@(.-)[^/]*$") .. "support.lua")

-- Prints arg (from its lowest index) and ..., with the interpreter's own path
-- replaced so asched and lua5.4 can be compared.
local SHOW_ARGS = [[
local low = 0
while arg[low - 1] ~= nil do low = low - 1 end
for i = low, #arg do
  print("arg[" .. i .. "] = " .. (i == low and "<interpreter>" or tostring(arg[i])))
end
print("... = " .. select("#", ...) .. ": " .. table.concat({...}, ","))
]]

local function compare_with_lua(spec)
  spec.keep = false
  local ours = support.run(spec)
  spec.program = "lua5.4"
  local theirs = support.run(spec)
  -- the script path differs per run (a fresh directory each): name it alike
  local function normalise(r)
    return (r.stdout:gsub(r.dir:gsub("%p", "%%%0"), "<dir>"))
  end
  return ours, theirs, normalise(ours), normalise(theirs)
end

describe("the arg table and ...", function()
  it("are set as lua5.4 sets them for a script with arguments", function()
    local ours, theirs, a, b = compare_with_lua({script = SHOW_ARGS, args = {"one", "two words", ""}})
    assert.equal(0, ours.status, support.describe(ours))
    assert.equal(0, theirs.status, support.describe(theirs))
    assert.equal(b, a)
    assert.matches("arg[0] = <dir>/script.lua", a, 1, true)
    assert.matches("... = 3: one,two words,", a, 1, true)
  end)

  it("put options before the script at negative indices, as lua5.4 does", function()
    local ours, _, a, b = compare_with_lua({script = SHOW_ARGS, options = {"-e", "x = 1", "-W"}, args = {"a"}})
    assert.equal(0, ours.status, support.describe(ours))
    assert.equal(b, a)
    assert.matches("arg[-3] = -e\narg[-2] = x = 1\narg[-1] = -W\narg[0] = <dir>/script.lua\n", a, 1, true)
  end)

  it("keep --virtual-time among the options at a negative index", function()
    local r = support.run({script = SHOW_ARGS, options = {"--virtual-time"}, args = {"a"}})
    assert.equal(0, r.status, support.describe(r))
    assert.matches("arg[-1] = --virtual-time\narg[0] = " .. r.script .. "\narg[1] = a\n", r.stdout, 1, true)
  end)
end)

describe("-e stat", function()
  it("runs the statement", function()
    local r = support.run({no_script = true, options = {"-e", "print('hello from -e')"}})
    assert.equal(0, r.status, support.describe(r))
    assert.equal("hello from -e\n", r.stdout)
  end)

  it("runs before the script, which sees what it defined", function()
    local r = support.run({options = {"-e", "greeting = 'hi'"}, script = "print(greeting)"})
    assert.equal(0, r.status, support.describe(r))
    assert.equal("hi\n", r.stdout)
  end)

  it("may call asched.sleep: each chunk runs as a main task", function()
    local r = support.run({no_script = true,
      options = {"--virtual-time", "-e", "asched.sleep(5) print(asched.now() == 5)"}})
    assert.equal(0, r.status, support.describe(r))
    assert.equal("true\n", r.stdout)
  end)

  it("reports an error in the statement as 'asched: <message>' and exits 1", function()
    local r = support.run({no_script = true, options = {"-e", "error('bad stat')"}})
    assert.equal(1, r.status, support.describe(r))
    assert.equal("asched: (command line):1: bad stat", support.lines(r.stderr)[1])
  end)
end)

describe("-l mod", function()
  it("requires the module into the global of its name before the script runs", function()
    local r = support.run({
      options = {"-l", "greeter"},
      script = "print(greeter.greeting)",
      files = {["greeter.lua"] = "return {greeting = 'hello from greeter'}"},
      env = {LUA_PATH = "./?.lua"},
    })
    assert.equal(0, r.status, support.describe(r))
    assert.equal("hello from greeter\n", r.stdout)
  end)

  it("fails with exit status 1 when the module does not exist", function()
    local r = support.run({options = {"-l", "no_such_module_here"}, script = "print('ran')",
      env = {LUA_PATH = "./?.lua"}})
    assert.equal(1, r.status, support.describe(r))
    assert.equal("", r.stdout)
    assert.matches("^asched: .*no_such_module_here", r.stderr)
  end)
end)

describe("-v", function()
  it("prints asched's version and Lua's version and exits 0", function()
    local version = support.run({no_script = true, options = {"-e", "io.write(asched.version)"}}).stdout
    assert.matches("^%d+%.%d+%.%d+", version)
    local r = support.run({no_script = true, options = {"-v"}})
    assert.equal(0, r.status, support.describe(r))
    assert.matches("asched " .. version, r.stdout, 1, true)
    assert.matches("Lua 5.4", r.stdout, 1, true)
  end)
end)

describe("- as the script", function()
  it("reads the script from stdin, with the following words as its arguments", function()
    local ours, theirs, a, b = compare_with_lua({script_arg = "-", stdin = SHOW_ARGS, args = {"x", "y"}})
    assert.equal(0, ours.status, support.describe(ours))
    assert.equal(0, theirs.status, support.describe(theirs))
    assert.equal(b, a)
    assert.matches("arg[0] = -\narg[1] = x\narg[2] = y\n... = 2: x,y", a, 1, true)
  end)

  it("lets the script from stdin suspend", function()
    local r = support.run({options = {"--virtual-time"}, script_arg = "-",
      stdin = "asched.sleep(3) print(asched.now() == 3)"})
    assert.equal(0, r.status, support.describe(r))
    assert.equal("true\n", r.stdout)
  end)
end)

describe("--", function()
  it("stops option handling: a script named like an option runs", function()
    local r = support.run({script_name = "-v", script_arg = "-v", options = {"--"},
      script = "print('ran the file named -v')", args = {"-e"}})
    assert.equal(0, r.status, support.describe(r))
    assert.equal("ran the file named -v\n", r.stdout)
  end)

  it("passes the words after the script to it untouched", function()
    local r = support.run({options = {"--"}, script = "print(...)", args = {"-v", "--virtual-time"}})
    assert.equal(0, r.status, support.describe(r))
    assert.equal("-v\t--virtual-time\n", r.stdout)
  end)
end)

describe("an unknown option", function()
  it("prints a usage message naming the option and exits 1 without running the script", function()
    local r = support.run({options = {"--no-such-option"}, script = "print('ran')"})
    assert.equal(1, r.status, support.describe(r))
    assert.equal("", r.stdout)
    assert.matches("--no-such-option", r.stderr, 1, true)
    assert.matches("usage:", r.stderr, 1, true)
  end)
end)

describe("--virtual-time", function()
  local script = [[
asched.sleep(100)
print(asched.now() == 100)
]]

  it("makes asched.sleep(100) return at once with asched.now() == 100", function()
    -- Under real time this run would outlast the timeout.
    local r = support.run({options = {"--virtual-time"}, script = script})
    assert.equal(0, r.status, support.describe(r))
    assert.equal("true\n", r.stdout)
  end)

  it("is also switched on by ASCHED_VIRTUAL_TIME=1 in the environment", function()
    local r = support.run({env = {ASCHED_VIRTUAL_TIME = "1"}, script = script})
    assert.equal(0, r.status, support.describe(r))
    assert.equal("true\n", r.stdout)
  end)

  -- A server task sleeps while its client reads over loopback: the read holds
  -- the clock only up to the autojump threshold, then the clock jumps to the
  -- server's timer (it used to wait for the read for ever).
  local LOOPBACK = [[
local s <close> = asched.tcp.listen("127.0.0.1", 0, function(st)
  asched.sleep(0.1)
  st:write("x\n")
  st:close()
end)
local c <close> = asched.tcp.connect("127.0.0.1", s.port)
print(c:read_line(), asched.now())
]]

  it("does not hang while a server task sleeps and its client reads over loopback", function()
    local r = support.run({options = {"--virtual-time"}, script = LOOPBACK})
    assert.equal(0, r.status, support.describe(r))
    assert.equal("x\t0.1\n", r.stdout)
  end)

  it("waits for pending I/O ASCHED_AUTOJUMP seconds of real time before it jumps", function()
    local function wall_ms()
      local p = io.popen("date +%s%N")
      local ns = tonumber(p:read("l"))
      p:close()
      return ns / 1e6
    end
    local t0 = wall_ms()
    local r = support.run({options = {"--virtual-time"}, env = {ASCHED_AUTOJUMP = "0.6"}, script = LOOPBACK})
    local elapsed = wall_ms() - t0
    assert.equal(0, r.status, support.describe(r))
    assert.equal("x\t0.1\n", r.stdout)
    assert.is_true(elapsed >= 600, "the run took " .. elapsed .. " ms")
  end)

  it("jumps at once with ASCHED_AUTOJUMP=0, even while a read waits under a deadline", function()
    -- A 0 ms wake-up timer used to fire before libuv's poll, which then
    -- blocked for ever with no timer left.
    local r = support.run({options = {"--virtual-time"}, env = {ASCHED_AUTOJUMP = "0"}, script = LOOPBACK .. [[
local late <close> = asched.tcp.listen("127.0.0.1", 0, function(st) asched.sleep(5) st:write("late\n") end)
local d <close> = asched.tcp.connect("127.0.0.1", late.port)
local ok, err = pcall(asched.timeout, 1, d.read_line, d)
print(ok, err.name)
]]})
    assert.equal(0, r.status, support.describe(r))
    assert.equal("x\t0.1\nfalse\tTimeoutError\n", r.stdout)
  end)

  it("jumps after the threshold even while thread work keeps waking the loop", function()
    -- Each wakeup that made no task ready (here the EINTR a worker's
    -- os.execute causes) used to restart the 0.05 s threshold: a 0.05 s
    -- sleep took as long as the threads ran.
    local r = support.run({options = {"--virtual-time"}, script = [[
local function uptime() local f = io.open("/proc/uptime") local v = f:read("n") f:close() return v end
local jobs = {}
for i = 1, 4 do   -- every thread of the pool
  jobs[i] = asched.spawn(asched.to_thread, function()
    local started = os.time()
    while os.time() - started < 4 do os.execute("sleep 0.01") end
  end)
end
asched.sleep(0)
local t0 = uptime()
asched.sleep(0.05)
print(string.format("%.3f", asched.now()), uptime() - t0 < 1)
]]})
    assert.equal(0, r.status, support.describe(r))
    assert.equal("0.050\ttrue\n", r.stdout)
  end)

  it("refuses an ASCHED_AUTOJUMP that is not a number of seconds", function()
    local r = support.run({options = {"--virtual-time"}, env = {ASCHED_AUTOJUMP = "soon"}, script = script})
    assert.equal(1, r.status, support.describe(r))
    assert.matches("ASCHED_AUTOJUMP must be a number of seconds from 0 to 86400, got 'soon'", r.stderr, 1, true)
  end)

  it("is off by default: sleeps take real time", function()
    local r = support.run({script = [[
local t0 = asched.now()
asched.sleep(0.05)
local elapsed = asched.now() - t0
print(elapsed >= 0.05 and elapsed ~= 0.05)
]]})
    assert.equal(0, r.status, support.describe(r))
    assert.equal("true\n", r.stdout)
  end)
end)

describe("--seed N", function()
  -- Six tasks woken by the same deadline print their number as they run.
  local SAME_INSTANT = [[
local tasks = {}
for i = 1, 6 do tasks[i] = asched.spawn(function() asched.sleep(1); io.write(i, " ") end) end
asched.gather(tasks)
]]

  it("leaves FIFO order alone when absent", function()
    local r = support.run({options = {"--virtual-time"}, script = SAME_INSTANT})
    assert.equal(0, r.status, support.describe(r))
    assert.equal("1 2 3 4 5 6 ", r.stdout)
  end)

  it("runs same-instant tasks in a seeded order, the same for the option and ASCHED_SEED", function()
    local a = support.run({options = {"--virtual-time", "--seed", "3"}, script = SAME_INSTANT})
    local b = support.run({options = {"--virtual-time"}, env = {ASCHED_SEED = "3"}, script = SAME_INSTANT})
    assert.equal(0, a.status, support.describe(a))
    assert.not_equal("1 2 3 4 5 6 ", a.stdout)
    assert.equal(a.stdout, b.stdout)
  end)

  it("keeps --seed N among the options at negative indices", function()
    local r = support.run({script = SHOW_ARGS, options = {"--seed", "5"}, args = {"a"}})
    assert.equal(0, r.status, support.describe(r))
    assert.matches("arg[-2] = --seed\narg[-1] = 5\narg[0] = " .. r.script, r.stdout, 1, true)
  end)

  for _, bad in ipairs({"x", "1.5", "", "12abc"}) do
    it("rejects '" .. bad .. "' with a usage message and status 1", function()
      local r = support.run({options = {"--seed", bad}, script = "print('ran')"})
      assert.equal(1, r.status, support.describe(r))
      assert.equal("", r.stdout)
      assert.matches("asched: '--seed' needs an integer argument", r.stderr, 1, true)
    end)
  end

  it("rejects a bad ASCHED_SEED instead of ignoring it", function()
    local r = support.run({env = {ASCHED_SEED = "soon"}, script = "print('ran')"})
    assert.equal(1, r.status, support.describe(r))
    assert.equal("", r.stdout)
    assert.matches("asched: ASCHED_SEED must be an integer", r.stderr, 1, true)
  end)
end)

describe("a script with a syntax error", function()
  it("exits 1 with lua's own message after 'asched: ', running nothing", function()
    local script = "print('ran')\nprint(1\n"
    local ours = support.run({script = script})
    local theirs = support.run({script = script, program = "lua5.4"})
    local message = theirs.stderr:match("^lua5.4: (.-)\n")
    assert.is_truthy(message, support.describe(theirs))
    assert.equal(1, ours.status, support.describe(ours))
    assert.equal("", ours.stdout)
    assert.equal("asched: " .. message:gsub(theirs.dir:gsub("%p", "%%%0"), ours.dir),
      support.lines(ours.stderr)[1])
  end)
end)
