-- cancel_spec.lua -- Task:cancel and CancelledError: where it lands, catching it,
-- cancelling before start, cancelling an awaiting task, and the cleanup that runs.
local helpers = require("spec.helpers")
local error_of, assert_error_named = helpers.error_of, helpers.assert_error_named

-- A <close>-able value that records the error it is closed with in `log`.
local function closer(log, name)
  return setmetatable({}, {__close = function(_, err)
    log[#log + 1] = {name = name, err = err}
  end})
end

describe("Task:cancel", function()
  after_each(helpers.cancel_leftovers)

  it("returns true when a cancellation was requested of a pending task", function()
    local t = asched.spawn(function() asched.sleep(10) end)
    asched.sleep(0)
    assert.is_true(t:cancel())
  end)

  it("raises CancelledError at the task's suspension point, carrying the given message", function()
    local t0 = asched.now()
    local t = asched.spawn(function()
      local ok, err = pcall(asched.sleep, 10)
      return ok, err, asched.now()
    end)
    asched.sleep(0)
    t:cancel("shutting down")
    local ok, err, at = t:await()
    assert.is_false(ok)
    assert_error_named("CancelledError", err)
    assert.equals("shutting down", err.message)
    assert.equals(t0, at, "the cancelled sleep waited for its timer")
  end)

  it("raises CancelledError at the next suspension point of a task that is ready but not yet resumed", function()
    local t = asched.spawn(function()
      local ok, err = pcall(asched.sleep, 0)
      return ok, err
    end)
    asched.sleep(0)    -- t has run and yielded; it is ready again
    t:cancel("now")
    local ok, err = t:await()
    assert.is_false(ok)
    assert_error_named("CancelledError", err)
    assert.equals("now", err.message)
  end)

  it("still lands in a task whose sleep has ended but which has not resumed yet", function()
    local victim
    asched.spawn(function()
      asched.sleep(1)
      victim:cancel("too late to finish")   -- victim's timer fired in this same deadline
    end)
    victim = asched.spawn(function()
      local ok, err = pcall(asched.sleep, 1)
      return ok, err
    end)
    local ok, err = victim:await()
    assert.is_false(ok)
    assert_error_named("CancelledError", err)
    assert.equals("too late to finish", err.message)
  end)

  it("leaves a task that does not catch it cancelled, and awaiting it raises CancelledError", function()
    local t = asched.spawn(function() asched.sleep(10) end)
    asched.sleep(0)
    t:cancel("bye")
    local err = error_of(t.await, t)
    assert_error_named("CancelledError", err)
    assert.equals("bye", err.message)
    assert.is_true(t:done())
    assert.is_true(t:cancelled())
  end)

  it("lets a task catch CancelledError, clean up and go on suspending", function()
    local t0 = asched.now()
    local t = asched.spawn(function()
      local ok, err = pcall(asched.sleep, 10)
      assert(not ok and err.name == "CancelledError")
      asched.sleep(0.5)     -- the cancellation was delivered once; this sleep is normal
      return "cleaned up"
    end)
    asched.sleep(0)
    t:cancel()
    assert.equals("cleaned up", t:await())
    helpers.assert_elapsed(0.5, t0)
  end)

  it("lets a task that swallows it and returns complete normally", function()
    local t = asched.spawn(function()
      pcall(asched.sleep, 10)
      return "swallowed", nil, 3
    end)
    asched.sleep(0)
    assert.is_true(t:cancel())
    assert.same({n = 3, "swallowed", nil, 3}, table.pack(t:await()))
    assert.is_false(t:cancelled())
    assert.is_nil(t:exception())
  end)

  it("no longer wakes a task at the deadline of the sleep it cancelled", function()
    local t0 = asched.now()
    local t = asched.spawn(function()
      pcall(asched.sleep, 1)     -- cancelled at once: its timer must go
      asched.sleep(2)            -- so this is the only wake-up, at t0+2
      return asched.now()
    end)
    asched.sleep(0)
    t:cancel()
    helpers.assert_elapsed(2, t0, t:await())
  end)

  it("never runs the function of a task cancelled before it started", function()
    local ran = false
    local t = asched.spawn(function() ran = true end)
    assert.is_true(t:cancel("never mind"))
    local err = error_of(t.await, t)
    assert.is_false(ran)
    assert_error_named("CancelledError", err)
    assert.equals("never mind", err.message)
    assert.is_true(t:cancelled())
  end)

  it("returns false for a task that has finished", function()
    local t = asched.spawn(function() return 1 end)
    t:await()
    assert.is_false(t:cancel())
    assert.is_false(t:cancelled())
    assert.equals(1, t:result())
  end)

  it("returns false for a task that failed or was already cancelled", function()
    local failed = asched.spawn(function() error("x") end)
    local cancelled = asched.spawn(function() asched.sleep(1) end)
    assert.is_true(cancelled:cancel())
    pcall(failed.await, failed)
    pcall(cancelled.await, cancelled)
    assert.is_false(failed:cancel())
    assert.is_false(cancelled:cancel())
    assert.is_false(failed:cancelled())
  end)

  it("returns true again for a task whose earlier cancellation has not landed yet", function()
    local t = asched.spawn(function() asched.sleep(10) end)
    asched.sleep(0)
    assert.is_true(t:cancel())
    assert.is_true(t:cancel())
    assert_error_named("CancelledError", error_of(t.await, t))
  end)

  it("of a task awaiting another task cancels the awaited task too", function()
    local inner_err
    local inner = asched.spawn(function()
      local ok, err = pcall(asched.sleep, 10)
      inner_err = err
      if not ok then error(err, 0) end
    end)
    local outer = asched.spawn(function() return inner:await() end)
    asched.sleep(0)
    outer:cancel("stop all")
    assert_error_named("CancelledError", error_of(outer.await, outer))
    assert_error_named("CancelledError", error_of(inner.await, inner))
    assert_error_named("CancelledError", inner_err)
    assert.is_true(outer:cancelled())
    assert.is_true(inner:cancelled())
  end)

  it("cancels a whole chain of awaiting tasks down to the innermost", function()
    local innermost = asched.spawn(asched.sleep, 10)
    local middle = asched.spawn(function() return innermost:await() end)
    local outer = asched.spawn(function() return middle:await() end)
    asched.sleep(0)
    outer:cancel()
    pcall(outer.await, outer)
    pcall(innermost.await, innermost)
    assert.is_true(middle:cancelled())
    assert.is_true(innermost:cancelled())
  end)

  it("of an awaiting task that catches it still cancels the awaited task", function()
    local inner = asched.spawn(asched.sleep, 10)
    local outer = asched.spawn(function()
      local ok, err = pcall(inner.await, inner)
      return ok, err and err.name
    end)
    asched.sleep(0)
    outer:cancel()
    assert.same({false, "CancelledError"}, {outer:await()})
    pcall(inner.await, inner)
    assert.is_true(inner:cancelled())
  end)

  it("of an awaited task does not cancel the awaiter, which gets CancelledError to handle", function()
    local inner = asched.spawn(asched.sleep, 10)
    local outer = asched.spawn(function()
      local ok, err = pcall(inner.await, inner)
      return ok, err.name, "went on"
    end)
    asched.sleep(0)
    inner:cancel()
    assert.same({false, "CancelledError", "went on"}, {outer:await()})
    assert.is_false(outer:cancelled())
  end)

  it("by the task itself lands at its next suspension point, not at the call", function()
    local t0 = asched.now()
    local log = {}
    local t = asched.spawn(function()
      asched.current_task():cancel("self")
      log[#log + 1] = "still running after cancel"
      local ok, err = pcall(asched.sleep, 5)
      log[#log + 1] = err.message
      return ok, asched.now()
    end)
    local ok, at = t:await()
    assert.is_false(ok)
    assert.same({"still running after cancel", "self"}, log)
    assert.equals(t0, at, "the self-cancelled sleep waited")
  end)

  it("by the task itself ends it cancelled when it returns before suspending again", function()
    local t = asched.spawn(function()
      asched.current_task():cancel()
      return "returned"
    end)
    assert_error_named("CancelledError", error_of(t.await, t))
    assert.is_true(t:cancelled())
  end)
end)

describe("cleanup of an ending task", function()
  after_each(helpers.cancel_leftovers)

  it("runs the <close> variables of a cancelled task, with the CancelledError", function()
    local log = {}
    local t = asched.spawn(function()
      local outer <close> = closer(log, "outer")
      local inner <close> = closer(log, "inner")
      asched.sleep(10)
    end)
    asched.sleep(0)
    t:cancel("cleanup please")
    pcall(t.await, t)
    assert.equals(2, #log)
    assert.same({"inner", "outer"}, {log[1].name, log[2].name})
    assert_error_named("CancelledError", log[1].err)
    assert.equals("cleanup please", log[1].err.message)
  end)

  it("runs the <close> variables of a cancelled task before its awaiter resumes", function()
    local closed = false
    local t = asched.spawn(function()
      local _ <close> = setmetatable({}, {__close = function() closed = true end})
      asched.sleep(10)
    end)
    asched.sleep(0)
    t:cancel()
    pcall(t.await, t)
    assert.is_true(closed)
  end)

  it("runs the <close> variables of a failed task, with its error value", function()
    local log = {}
    local problem = {}
    local t = asched.spawn(function()
      local _ <close> = closer(log, "resource")
      asched.sleep(0)
      error(problem)
    end)
    assert.equals(problem, error_of(t.await, t))
    assert.equals(1, #log)
    assert.equals(problem, log[1].err)
  end)

  it("runs the <close> variables of a task that finishes normally, with no error", function()
    local log = {}
    local t = asched.spawn(function()
      local _ <close> = closer(log, "resource")
      asched.sleep(0)
      return "ok"
    end)
    assert.equals("ok", t:await())
    assert.equals(1, #log)
    assert.is_nil(log[1].err)
  end)

  it("keeps the traceback of a failed task even though its coroutine was reset for cleanup", function()
    local t = asched.spawn(function()
      local _ <close> = closer({}, "resource")
      error("with cleanup")
    end)
    pcall(t.await, t)
    assert.is_truthy(t:traceback():find("with cleanup", 1, true))
    assert.is_truthy(t:traceback():find("cancel_spec.lua", 1, true))
  end)
end)

describe("cancelling the head of a long chain of awaiting tasks", function()
  after_each(require("spec.helpers").cancel_leftovers)

  it("cancels every task down the chain without exhausting the C stack", function()
    local chain = {asched.spawn(function() asched.sleep(1000) end)}
    for i = 2, 200000 do
      local awaited = chain[i - 1]
      chain[i] = asched.spawn(function() return awaited:await() end)
    end
    asched.sleep(0)                              -- every task now awaits the one before
    assert.is_true(chain[#chain]:cancel())
    asched.sleep(0)
    for _, i in ipairs({1, 2, 100000, 200000}) do
      assert.is_true(chain[i]:cancelled(), "task " .. i .. " of the chain")
    end
  end)
end)
