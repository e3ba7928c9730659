-- Causal tracebacks: an error that crosses tasks (await, result, gather) says,
-- under the awaiting task's own traceback, in which task it was raised and
-- where; with --debug also where that task was spawned. And a failed task
-- nobody awaited is named, with its spawn line under --debug, exactly once.
local support = dofile(debug.getinfo(1, "S").source:match("^@(.-)[^/]*$") .. "support.lua")

local AWAITED = [[
local function inner()
  error("disk full")
end
local worker = asched.spawn(function()
  asched.sleep(1)
  inner()
end)
worker:await() -- the await
]]

local function line(script, needle) return support.line_of(script, needle) end

describe("an error raised in one task and awaited in another", function()
  it("shows the awaiter's traceback, then the task that raised it and where", function()
    local r = support.run({options = {"--virtual-time"}, script = AWAITED})
    assert.equal(1, r.status, support.describe(r))
    local f = r.script
    local expected = table.concat({
      "asched: " .. f .. ":2: disk full",
      "stack traceback:",
      "\t[C]: in method 'await'",
      "\t" .. f .. ":" .. line(AWAITED, "the await") .. ": in main chunk",
      "raised in task-2:",
      "\t[C]: in function 'error'",
      "\t" .. f .. ":2: in upvalue 'inner'",
      "\t" .. f .. ":6: in function <" .. f .. ":4>",
    }, "\n")
    assert.equal(expected, r.stderr:sub(1, #expected), support.describe(r))
  end)

  it("also names the line that spawned the task under --debug", function()
    local r = support.run({options = {"--virtual-time", "--debug"}, script = AWAITED})
    assert.equal(1, r.status, support.describe(r))
    assert.matches("\nraised in task-2 (spawned at " .. r.script .. ":4):\n", r.stderr, 1, true)
  end)

  it("follows the error through gather to the child that raised it", function()
    local script = [[
local ok_child = asched.spawn(asched.sleep, 1)
local bad_child = asched.spawn(function() asched.sleep(0.5); error("child broke") end)
asched.gather({ok_child, bad_child})
]]
    local r = support.run({options = {"--virtual-time"}, script = script})
    assert.equal(1, r.status, support.describe(r))
    assert.matches("\nraised in task-3:\n\t[C]: in function 'error'\n\t" .. r.script .. ":2:", r.stderr, 1, true)
  end)

  it("chains through every task the error crossed", function()
    local script = [[
local deepest = asched.spawn(function() error("deep") end)
local middle = asched.spawn(function() deepest:await() end)
middle:await()
]]
    local r = support.run({options = {"--virtual-time"}, script = script})
    assert.equal(1, r.status, support.describe(r))
    local middle_at = r.stderr:find("\nraised in task-3:\n", 1, true)
    local deepest_at = r.stderr:find("\nraised in task-2:\n", 1, true)
    assert.is_truthy(middle_at, support.describe(r))
    assert.is_truthy(deepest_at, support.describe(r))
    assert.is_true(middle_at < deepest_at)
  end)

  it("says nothing of a cause when the awaiter raised an error of its own", function()
    local script = [[
local worker = asched.spawn(function() error("first") end)
local ok = pcall(worker.await, worker)
error("second, not the same error")
]]
    local r = support.run({options = {"--virtual-time"}, script = script})
    assert.equal(1, r.status, support.describe(r))
    assert.not_matches("raised in", r.stderr, 1, true)
  end)
end)

describe("a failed task whose error nobody retrieves", function()
  local LOST = [[
local t = asched.spawn(function() error("lost") end) -- spawned here
asched.sleep(1)
t = nil
collectgarbage()
collectgarbage()
asched.sleep(1)
]]

  it("is reported once, when it is collected, not again at the end", function()
    local r = support.run({options = {"--virtual-time"}, script = LOST})
    assert.equal(0, r.status, support.describe(r))
    local _, count = r.stderr:gsub("was never retrieved", "")
    assert.equal(1, count, support.describe(r))
    assert.matches("asched: error in task-2 was never retrieved:\n", r.stderr, 1, true)
  end)

  it("is named with the line that spawned it under --debug", function()
    local r = support.run({options = {"--virtual-time", "--debug"}, script = LOST})
    assert.equal(0, r.status, support.describe(r))
    assert.matches("asched: error in task-2 (spawned at " .. r.script .. ":"
      .. support.line_of(LOST, "spawned here") .. ") was never retrieved:\n", r.stderr, 1, true)
  end)
end)
