-- Calls that need a task or a loop, made where there is none: each fails with
-- a clear Lua error and leaves nothing broken behind.
local asched = require("asched")

local function error_of(fn, ...)
  local ok, err = pcall(fn, ...)
  assert.is_false(ok, "expected an error")
  return tostring(err)
end

describe("a suspending function outside a task", function()
  it("asched.sleep with no loop running raises 'asched.sleep: not inside a task'", function()
    assert.matches("asched.sleep: not inside a task", error_of(asched.sleep, 1), 1, true)
  end)

  it("task:await with no loop running raises 'asched.await: not inside a task'", function()
    local task = asched.run(function() return asched.spawn(function() return 1 end) end)
    assert.matches("asched.await: not inside a task", error_of(task.await, task), 1, true)
  end)

  it("asched.await with no loop running raises 'asched.await: not inside a task'", function()
    local task = asched.run(function() return asched.spawn(function() return 1 end) end)
    assert.matches("asched.await: not inside a task", error_of(asched.await, task), 1, true)
  end)

  it("asched.sleep in a done callback (the loop runs, no task does) says it is not inside a task", function()
    local message = asched.run({virtual_time = true}, function()
      local seen
      local t = asched.spawn(function() end)
      t:add_done_callback(function() seen = error_of(asched.sleep, 1) end)
      t:await()
      asched.sleep(0)
      return seen
    end)
    assert.matches("asched.sleep: not inside a task", message, 1, true)
  end)

  it("asched.sleep in a plain coroutine inside a task says it is not inside a task", function()
    local message = asched.run(function()
      local co = coroutine.create(function() asched.sleep(0) end)
      local _, err = coroutine.resume(co)
      return tostring(err)
    end)
    assert.matches("asched.sleep: not inside a task", message, 1, true)
  end)
end)

describe("asched.spawn outside a loop", function()
  it("raises an error instead of creating a task", function()
    local called = false
    local ok = pcall(asched.spawn, function() called = true end)
    assert.is_false(ok)
    asched.run(function() asched.sleep(0) end)
    assert.is_false(called)
  end)
end)

describe("suspending across a C-call boundary", function()
  it("asched.sleep in a table.sort comparator raises an error naming the C-call boundary", function()
    local message = asched.run(function()
      local ok, err = pcall(table.sort, {3, 1, 2}, function(a, b)
        asched.sleep(0)
        return a < b
      end)
      assert(not ok)
      return tostring(err)
    end)
    assert.matches("C-call boundary", message, 1, true)
  end)

  it("leaves the task able to suspend normally afterwards", function()
    local now = asched.run({virtual_time = true}, function()
      pcall(table.sort, {3, 1, 2}, function(a, b)
        asched.sleep(0)
        return a < b
      end)
      asched.sleep(3)
      return asched.now()
    end)
    assert.equal(3, now)
  end)
end)
