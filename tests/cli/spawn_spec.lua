-- asched.process.spawn in the asched program (issue 20): however the run ends
-- -- Ctrl-C while the main task waits for the child, SIGTERM, os.exit in a
-- task, an error in the script -- no spawned child is left running, and none
-- is left a zombie (the run's end kills and reaps; os.exit kills from the
-- atexit list).
local support = dofile(debug.getinfo(1, "S").source:match("^@(.-)[^/]*$") .. "support.lua")

local PRELUDE = support.MARKING

-- The pids of the processes running `sleep <seconds>` (however they are
-- parented by now).
local function sleepers(seconds)
  local p = io.popen("pgrep -f '^sleep " .. seconds .. "$'")
  local found = p:read("a")
  p:close()
  return found
end

describe("a spawned child in the asched program", function()
  it("is killed and reaped when Ctrl-C ends a run waiting for it (exit 130)", function()
    local r = support.interrupt(PRELUDE .. [[
local p <close> = asched.process.spawn({"sleep", "31401"}, {stdout = "pipe"})
local guard <close> = setmetatable({}, {__close = function() print("main closed") end})
asched.spawn(function() asched.sleep(0.05) mark("ready") end)
p:wait()
print("the wait returned")
]], {"ready"})
    assert.equal(130, r.status, support.describe(r))
    assert.equal("main closed\n", r.stdout)
    assert.equal("", sleepers(31401), "a child was left running")
  end)

  it("is killed and reaped when the run ends with a child nobody closed or waited for", function()
    local r = support.interrupt(PRELUDE .. [[
asched.process.spawn({"sleep", "31402"}, {stdin = "pipe", stdout = "pipe", stderr = "pipe"})
local reader = asched.process.spawn({"sleep", "31402"}, {stdout = "pipe"})
asched.spawn(reader.stdout.read, reader.stdout)     -- left waiting: cancelled at the end
asched.spawn(function() asched.sleep(0.05) mark("ready") end)
asched.sleep(1000)
]], {"ready"}, "TERM")
    assert.equal(143, r.status, support.describe(r))
    assert.equal("", sleepers(31402), "a child was left running")
  end)

  it("is killed by os.exit in a task", function()
    local r = support.run{script = [[
asched.process.spawn({"sleep", "31403"})
asched.spawn(function() asched.sleep(0.05) os.exit(3) end)
asched.sleep(1000)
]]}
    assert.equal(3, r.status, support.describe(r))
    os.execute("sleep 0.1")     -- SIGKILL is sent at exit; the kernel needs a moment
    assert.equal("", sleepers(31403), "a child was left running")
  end)

  it("is killed and reaped when the script fails", function()
    local r = support.run{script = [[
asched.process.spawn({"sleep", "31404"})
asched.sleep(0.01)
error("the script failed")
]]}
    assert.equal(1, r.status, support.describe(r))
    assert.matches("the script failed", r.stderr, 1, true)
    assert.equal("", sleepers(31404), "a child was left running")
  end)
end)
