-- cancel_state_spec.lua -- counting cancellation requests as asyncio 3.11 does:
-- Task:cancelling() and Task:uncancel(); the timeout scopes built on that count (a
-- scope's expiry is one request, taken back when it closes, so an outside
-- cancellation is never swallowed and nested scopes report only their own expiry);
-- and cancelling a task that awaits a task which has not run yet, also when the
-- cancellation was requested before the await.
local helpers = require("spec.helpers")
local error_of, assert_error_named = helpers.error_of, helpers.assert_error_named
local assert_elapsed = helpers.assert_elapsed

describe("Task:cancelling", function()
  after_each(helpers.cancel_leftovers)

  it("is 0 for a task never cancelled, the running one included", function()
    local t = asched.spawn(asched.sleep, 10)
    assert.equals(0, t:cancelling())
    asched.sleep(0)
    assert.equals(0, t:cancelling())
    assert.equals(0, asched.current_task():cancelling())
  end)

  it("counts every cancel() request, also those made before the first one lands", function()
    local t = asched.spawn(asched.sleep, 10)
    asched.sleep(0)
    for i = 1, 3 do
      assert.is_true(t:cancel())
      assert.equals(i, t:cancelling())
    end
    assert_error_named("CancelledError", error_of(t.await, t))
  end)

  it("counts a cancel() of a task that has not started yet", function()
    local t = asched.spawn(asched.sleep, 10)
    t:cancel()
    assert.equals(1, t:cancelling())
    assert_error_named("CancelledError", error_of(t.await, t))
  end)

  it("does not count a cancel() of a finished task", function()
    local t = asched.spawn(function() return "done" end)
    t:await()
    assert.is_false(t:cancel())
    assert.equals(0, t:cancelling())
  end)

  it("stays counted while the task handles the CancelledError it got", function()
    local t = asched.spawn(function()
      local ok = pcall(asched.sleep, 10)
      local during = asched.current_task():cancelling()
      asched.sleep(1)                          -- cleanup that suspends
      return ok, during, asched.current_task():cancelling()
    end)
    asched.sleep(1)
    t:cancel()
    assert.same({false, 1, 1}, {t:await()})
  end)

  it("counts the request on the awaited task that a cancel passes on", function()
    local inner = asched.spawn(asched.sleep, 10)
    local outer = asched.spawn(function() return inner:await() end)
    asched.sleep(0)
    outer:cancel()
    assert.equals(1, outer:cancelling())
    assert.equals(1, inner:cancelling())
    pcall(outer.await, outer)
  end)
end)

describe("Task:uncancel", function()
  after_each(helpers.cancel_leftovers)

  it("takes one request back and returns how many are left", function()
    local t = asched.spawn(asched.sleep, 10)
    asched.sleep(0)
    t:cancel()
    t:cancel()
    assert.equals(1, t:uncancel())
    assert.equals(1, t:cancelling())
    assert.equals(0, t:uncancel())
    assert.equals(0, t:cancelling())
    t:cancel()
  end)

  it("never goes below 0", function()
    local t = asched.spawn(asched.sleep, 10)
    assert.equals(0, t:uncancel())
    assert.equals(0, t:uncancel())
    assert.equals(0, t:cancelling())
    t:cancel()
    assert.equals(1, t:cancelling())
  end)

  it("lets a task that caught its CancelledError take it back and go on, and be cancelled again", function()
    -- asyncio's test_uncancel_basic.
    local t0 = asched.now()
    local t = asched.spawn(function()
      local ok = pcall(asched.sleep, 10)
      assert(not ok)
      asched.current_task():uncancel()
      asched.sleep(10)
    end)
    asched.sleep(1)
    assert.is_true(t:cancel())
    assert.equals(1, t:cancelling())
    assert.is_false(t:cancelled())
    asched.sleep(1)
    assert.equals(0, t:cancelling())          -- after uncancel()
    assert.is_false(t:done())
    assert.is_true(t:cancel())
    assert.equals(1, t:cancelling())
    assert_error_named("CancelledError", error_of(t.await, t))
    assert.is_true(t:cancelled())
    t:uncancel()                              -- no effect on a finished task
    assert.is_true(t:cancelled())
    assert.is_true(t:done())
    assert_elapsed(2, t0)
  end)
end)

describe("timeout scopes and the count of cancellation requests", function()
  after_each(helpers.cancel_leftovers)

  it("an expiring scope counts one request while the body handles it and takes it back when it closes", function()
    local me = asched.current_task()
    local during
    local err = error_of(asched.timeout, 1, function()
      pcall(asched.sleep, 10)
      during = me:cancelling()
      asched.sleep(0)                         -- the request stays while the body cleans up
      error("cleanup done", 0)
    end)
    assert.equals("cleanup done", err)
    assert.equals(1, during)
    assert.equals(0, me:cancelling())
  end)

  it("a scope that does not expire leaves the count as it was", function()
    local me = asched.current_task()
    asched.timeout(10, asched.sleep, 1)
    asched.move_on_after(10, asched.sleep, 1)
    asched.timeout_at(asched.now() + 10, asched.sleep, 1)
    assert.equals(0, me:cancelling())
  end)

  it("an outside cancel landing in the body's cleanup after the expiry stays a CancelledError", function()
    local t0 = asched.now()
    local caller = asched.spawn(function()
      local ok, err = pcall(asched.timeout, 1, function()
        local _, e = pcall(asched.sleep, 10)  -- the expiry, at 1
        asched.sleep(1)                       -- cleanup: the outside cancel lands here
        error(e, 0)
      end)
      return ok, err, asched.current_task():cancelling()
    end)
    asched.sleep(1.5)
    caller:cancel("outside")
    local ok, err, cancelling = caller:await()
    assert.is_false(ok)
    assert_error_named("CancelledError", err)
    assert.equals("outside", err.message)
    assert.equals(1, cancelling)               -- the outside request is still there
    assert_elapsed(1.5, t0)
  end)

  it("an expiry while the body handles an outside cancel stays a CancelledError", function()
    local caller = asched.spawn(function()
      local ok, err = pcall(asched.timeout, 2, function()
        local _, e = pcall(asched.sleep, 10)  -- the outside cancellation, at 1
        pcall(asched.sleep, 5)                -- cleanup; the deadline passes here
        error(e, 0)
      end)
      return ok, err, asched.current_task():cancelling()
    end)
    asched.sleep(1)
    caller:cancel("outside")
    local ok, err, cancelling = caller:await()
    assert.is_false(ok)
    assert_error_named("CancelledError", err)
    assert.equals("outside", err.message)
    assert.equals(1, cancelling)
  end)

  it("a request the task took back with uncancel() inside the scope does not stop its TimeoutError", function()
    local me = asched.current_task()
    local err = error_of(asched.timeout, 2, function()
      me:cancel()
      pcall(asched.sleep, 10)                 -- our own cancel, handled
      me:uncancel()
      asched.sleep(10)                        -- the expiry
    end)
    assert_error_named("TimeoutError", err)
    assert.equals(0, me:cancelling())
  end)

  it("a request the task made of itself inside the scope and kept is never turned into TimeoutError", function()
    -- asyncio's test_cancel_in_timeout_after_cancellation, inside the deadline.
    local me = asched.current_task()
    local t = asched.spawn(function()
      return pcall(asched.timeout, 1, function()
        asched.current_task():cancel("self")
        pcall(asched.sleep, 0)                -- handled, not taken back
        asched.sleep(10)                      -- the expiry
      end)
    end)
    local ok, err = t:await()
    assert.is_false(ok)
    assert_error_named("CancelledError", err)
    assert.equals(0, me:cancelling())
  end)

  it("nested scopes: the inner body sees only the outer expiry's one request, and the count ends at 0", function()
    local me = asched.current_task()
    local inner_count
    local err = error_of(asched.timeout, 1, function()
      asched.timeout(10, function()
        local _, e = pcall(asched.sleep, 5)
        inner_count = me:cancelling()
        error(e, 0)
      end)
    end)
    assert_error_named("TimeoutError", err)
    assert.equals(1, inner_count)
    assert.equals(0, me:cancelling())
  end)

  it("nested scopes: an inner expiry handled in the outer body leaves the count at 0 there", function()
    local me = asched.current_task()
    local counts = {}
    asched.timeout(10, function()
      for i = 1, 3 do
        pcall(asched.timeout, 1, asched.sleep, 5)
        counts[i] = me:cancelling()
      end
    end)
    assert.same({0, 0, 0}, counts)
  end)
end)

describe("cancelling a task that awaits a task which has not run yet", function()
  after_each(helpers.cancel_leftovers)

  it("cancels the awaited task too, which then never runs its function", function()
    local ran = false
    local inner
    local outer = asched.spawn(function()
      inner = asched.spawn(function() ran = true; asched.sleep(1) end)
      return inner:await()
    end)
    asched.sleep(0)                            -- outer awaits; inner is still queued
    assert.is_false(ran)
    assert.is_false(inner:done())
    outer:cancel("stop")
    local err = error_of(outer.await, outer)
    assert_error_named("CancelledError", err)
    assert.equals("stop", err.message)
    assert_error_named("CancelledError", error_of(inner.await, inner))
    assert.is_true(inner:cancelled())
    assert.is_false(ran)
  end)

  it("when the task cancelled itself before the await: delivered at the await, and the awaited task is cancelled", function()
    local ran = false
    local inner
    local log = {}
    local t = asched.spawn(function()
      inner = asched.spawn(function() ran = true end)
      asched.current_task():cancel("self")
      log[#log + 1] = "before await"
      local ok, err = pcall(inner.await, inner)
      log[#log + 1] = ok and "awaited" or err.message
      error(err, 0)
    end)
    local err = error_of(t.await, t)
    assert_error_named("CancelledError", err)
    assert.same({"before await", "self"}, log)
    assert.is_true(t:cancelled())
    assert.is_true(inner:cancelled())
    assert.is_false(ran)
  end)

  it("when the task cancelled itself before awaiting a task already running: that task is cancelled too", function()
    local inner = asched.spawn(asched.sleep, 10)
    asched.sleep(0)
    local t = asched.spawn(function()
      asched.current_task():cancel()
      return inner:await()
    end)
    assert_error_named("CancelledError", error_of(t.await, t))
    assert_error_named("CancelledError", error_of(inner.await, inner))
    assert.is_true(inner:cancelled())
  end)

  it("asched.shield still keeps a task that has not run yet from being cancelled", function()
    local inner
    local outer = asched.spawn(function()
      inner = asched.spawn(helpers.returns_after(1, "shielded"))
      return asched.shield(inner)
    end)
    asched.sleep(0)
    outer:cancel()
    assert_error_named("CancelledError", error_of(outer.await, outer))
    assert.equals("shielded", inner:await())
  end)
end)
