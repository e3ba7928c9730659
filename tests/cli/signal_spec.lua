-- Ctrl-C: SIGINT cancels the main task so its cleanup runs, then asched exits
-- 130; a second SIGINT exits at once. No sleep-and-hope: each script creates a
-- marker file when it is ready, and the signal is sent only after that.
local support = dofile(debug.getinfo(1, "S").source:match("^@(.-)[^/]*$") .. "support.lua")

-- Every script gets its directory as arg[1] and marks readiness with mark(name).
local PRELUDE = [[
local dir = ...
local function mark(name)
  local f = assert(io.open(dir .. "/" .. name, "w"))
  f:close()
end
]]

describe("SIGINT", function()
  it("runs the main task's <close> variables and exits with status 130", function()
    local r = support.interrupt(PRELUDE .. [[
local guard <close> = setmetatable({}, {__close = function() print("main closed") end})
mark("ready")
asched.sleep(1000)
print("sleep returned")
]], {"ready"})
    assert.equal(130, r.status, support.describe(r))
    assert.equal("main closed\n", r.stdout)
  end)

  it("raises CancelledError in the main task, which may catch it and sleep during cleanup before exiting 130", function()
    local r = support.interrupt(PRELUDE .. [[
local guard <close> = setmetatable({}, {__close = function() print("main closed") end})
local ok, err = pcall(function()
  mark("ready")
  asched.sleep(1000)
end)
print("caught " .. tostring(not ok and err.name))
asched.sleep(0.01)
print("cleaned up")
error(err, 0)
]], {"ready"})
    assert.equal(130, r.status, support.describe(r))
    assert.equal("caught CancelledError\ncleaned up\nmain closed\n", r.stdout)
  end)

  it("exits 130 even when the main task swallows the cancellation and returns normally", function()
    local r = support.interrupt(PRELUDE .. [[
local ok = pcall(function()
  mark("ready")
  asched.sleep(1000)
end)
print("swallowed")
]], {"ready"})
    assert.equal(130, r.status, support.describe(r))
    assert.equal("swallowed\n", r.stdout)
  end)

  it("cancels the other pending tasks too, running their <close> variables", function()
    local r = support.interrupt(PRELUDE .. [[
asched.spawn(function()
  local guard <close> = setmetatable({}, {__close = function() print("child closed") end})
  asched.sleep(1000)
end)
asched.sleep(0)
mark("ready")
asched.sleep(1000)
]], {"ready"})
    assert.equal(130, r.status, support.describe(r))
    assert.equal("child closed\n", r.stdout)
  end)

  it("a second SIGINT while the cleanup sleeps exits at once with status 130", function()
    -- The cleanup sleeps 1000 s: only the second SIGINT can end it within the
    -- timeout (a hang shows as status 137).
    local r = support.interrupt(PRELUDE .. [[
local ok, err = pcall(function()
  mark("ready")
  asched.sleep(1000)
end)
mark("cleaning")
asched.sleep(1000)
print("cleanup finished")
]], {"ready", "cleaning"})
    assert.equal(130, r.status, support.describe(r))
    assert.is_nil(r.stdout:find("cleanup finished", 1, true))
  end)
end)
