-- combine_wait_for_spec.lua -- asched.wait_for with a task and with a function: the
-- deadline, cancelling and waiting for the item, timeout <= 0 and nil, a caller's
-- cancellation racing the result or the deadline, and its argument errors.
local helpers = require("spec.helpers")
local error_of, assert_error_named = helpers.error_of, helpers.assert_error_named
local assert_elapsed, returns_after, fails_after = helpers.assert_elapsed, helpers.returns_after, helpers.fails_after

-- A function that sleeps 10 s; when cancelled it logs, cleans up for `cleanup`
-- seconds, logs again, and then does what `then_` says: "raise" the CancelledError
-- again, "return" a value, or raise the error value `then_` itself.
local function slow_with_cleanup(log, cleanup, then_)
  return function()
    local ok, err = pcall(asched.sleep, 10)
    assert(not ok, "the sleep was not interrupted")
    log[#log + 1] = err.name
    asched.sleep(cleanup)
    log[#log + 1] = "cleaned up"
    if then_ == "raise" then error(err, 0) end
    if then_ == "return" then return "swallowed", nil, 3 end
    error(then_, 0)
  end
end

describe("asched.wait_for with a task", function()
  after_each(helpers.cancel_leftovers)

  it("returns every value of a task that finishes in time, nils included", function()
    local t0 = asched.now()
    local t = asched.spawn(returns_after(1, "a", nil, "c"))
    assert.same({n = 3, "a", nil, "c"}, table.pack(asched.wait_for(t, 2)))
    assert_elapsed(1, t0)
  end)

  it("a 0.1 s sleep inside a 0.2 s wait_for always wins", function()
    local t0 = asched.now()
    assert.equals("won", asched.wait_for(asched.spawn(returns_after(0.1, "won")), 0.2))
    assert_elapsed(0.1, t0)
  end)

  it("raises the task's own error unchanged", function()
    local boom = {reason = "boom"}
    assert.equals(boom, error_of(asched.wait_for, asched.spawn(fails_after(1, boom)), 2))
  end)

  it("on expiry cancels the task, waits until it has finished its cleanup, then raises TimeoutError", function()
    local t0 = asched.now()
    local log = {}
    local inner = asched.spawn(slow_with_cleanup(log, 0.5, "raise"))
    local err = error_of(asched.wait_for, inner, 1)
    assert_error_named("TimeoutError", err)
    assert_elapsed(1.5, t0)
    assert.same({"CancelledError", "cleaned up"}, log)
    assert.is_true(inner:cancelled())
  end)

  it("returns the values of a task that swallows the cancellation", function()
    local t0 = asched.now()
    local log = {}
    local inner = asched.spawn(slow_with_cleanup(log, 0.5, "return"))
    assert.same({n = 3, "swallowed", nil, 3}, table.pack(asched.wait_for(inner, 1)))
    assert_elapsed(1.5, t0)
    assert.same({"CancelledError", "cleaned up"}, log)
  end)

  it("raises the other error a task raises while being cancelled", function()
    local other = {reason = "cleanup failed"}
    local inner = asched.spawn(slow_with_cleanup({}, 0.5, other))
    assert.equals(other, error_of(asched.wait_for, inner, 1))
  end)

  it("returns the result of a task that finishes in the same step as the deadline", function()
    local t0 = asched.now()
    local inner = asched.spawn(returns_after(1, "just in time"))
    asched.sleep(0)     -- inner's timer is set first, for t0+1, the deadline's instant
    assert.equals("just in time", asched.wait_for(inner, 1))
    assert_elapsed(1, t0)
  end)

  it("raises CancelledError, not TimeoutError, for a task cancelled by someone else before the deadline", function()
    local inner = asched.spawn(asched.sleep, 10)
    asched.spawn(function() asched.sleep(1); inner:cancel("elsewhere") end)
    local err = error_of(asched.wait_for, inner, 5)
    assert_error_named("CancelledError", err)
    assert.equals("elsewhere", err.message)
  end)

  it("with a nil timeout waits as long as the task takes", function()
    local t0 = asched.now()
    assert.equals("eventually", asched.wait_for(asched.spawn(returns_after(1000, "eventually")), nil))
    assert_elapsed(1000, t0)
  end)

  it("with a timeout <= 0 returns the result of a task already done, without waiting", function()
    local t = asched.spawn(function() return "ready", 2 end)
    t:await()
    local t0 = asched.now()
    assert.same({n = 2, "ready", 2}, table.pack(asched.wait_for(t, 0)))
    assert.same({n = 2, "ready", 2}, table.pack(asched.wait_for(t, -1)))
    assert.equals(t0, asched.now())
  end)

  it("with a timeout <= 0 cancels a pending task, waits for it, then raises TimeoutError", function()
    local t0 = asched.now()
    local log = {}
    local inner = asched.spawn(slow_with_cleanup(log, 0.5, "raise"))
    asched.sleep(0)
    assert_error_named("TimeoutError", error_of(asched.wait_for, inner, 0))
    assert.same({"CancelledError", "cleaned up"}, log)
    assert_elapsed(0.5, t0)
    assert.is_true(inner:cancelled())
  end)

  it("with a negative timeout cancels a task that has not started, which never runs", function()
    local ran = false
    local inner = asched.spawn(function() ran = true end)
    assert_error_named("TimeoutError", error_of(asched.wait_for, inner, -1))
    assert.is_false(ran)
    assert.is_true(inner:cancelled())
  end)

  it("leaves no timer behind when the task finishes in time", function()
    local t0 = asched.now()
    asched.wait_for(asched.spawn(returns_after(1, "a")), 10)
    assert_elapsed(1, t0, helpers.idle_clock())
  end)
end)

describe("asched.wait_for with a function", function()
  after_each(helpers.cancel_leftovers)

  it("runs the function in the caller's own task", function()
    local me = asched.current_task()
    local ran_in, tasks_inside
    asched.wait_for(function()
      ran_in = asched.current_task()
      tasks_inside = #asched.all_tasks()
      asched.sleep(1)
    end, 2)
    assert.equals(me, ran_in)
    assert.equals(#asched.all_tasks(), tasks_inside)
  end)

  it("returns every value of a function that finishes in time, nils included", function()
    assert.same({n = 3, "a", nil, "c"}, table.pack(asched.wait_for(returns_after(1, "a", nil, "c"), 2)))
  end)

  it("a 0.1 s sleep inside a 0.2 s wait_for always wins", function()
    local t0 = asched.now()
    assert.equals("won", asched.wait_for(function() return asched.sleep(0.1, "won") end, 0.2))
    assert_elapsed(0.1, t0)
  end)

  it("passes the function's own error through unchanged", function()
    local boom = {reason = "boom"}
    assert.equals(boom, error_of(asched.wait_for, fails_after(1, boom), 2))
  end)

  it("on expiry cancels the function at its suspension point, lets its cleanup run, then raises TimeoutError", function()
    local t0 = asched.now()
    local log = {}
    local err = error_of(asched.wait_for, slow_with_cleanup(log, 0.5, "raise"), 1)
    assert_error_named("TimeoutError", err)
    assert_elapsed(1.5, t0)
    assert.same({"CancelledError", "cleaned up"}, log)
  end)

  it("returns the values of a function that swallows the cancellation", function()
    local log = {}
    assert.same({n = 3, "swallowed", nil, 3},
                table.pack(asched.wait_for(slow_with_cleanup(log, 0.5, "return"), 1)))
    assert.same({"CancelledError", "cleaned up"}, log)
  end)

  it("raises the other error a function raises while being cancelled", function()
    local other = {reason = "cleanup failed"}
    assert.equals(other, error_of(asched.wait_for, slow_with_cleanup({}, 0.5, other), 1))
  end)

  it("with a timeout <= 0 never calls the function and raises TimeoutError", function()
    local calls = 0
    local function fn() calls = calls + 1 end
    assert_error_named("TimeoutError", error_of(asched.wait_for, fn, 0))
    assert_error_named("TimeoutError", error_of(asched.wait_for, fn, -5))
    assert.equals(0, calls)
  end)

  it("with a nil timeout waits as long as the function takes", function()
    local t0 = asched.now()
    assert.equals("eventually", asched.wait_for(returns_after(1000, "eventually"), nil))
    assert_elapsed(1000, t0)
  end)

  it("leaves the task free to sleep normally after a handled TimeoutError", function()
    local t0 = asched.now()
    assert_error_named("TimeoutError", error_of(asched.wait_for, returns_after(10, "late"), 1))
    assert.equals("slept", asched.sleep(2, "slept"))
    assert_elapsed(3, t0)
    assert.is_false(asched.current_task():cancelled())
  end)

  it("leaves no timer behind when the function finishes in time", function()
    local t0 = asched.now()
    asched.wait_for(returns_after(1, "a"), 10)
    assert_elapsed(1, t0, helpers.idle_clock())
  end)
end)

describe("cancelling a task that waits in asched.wait_for", function()
  after_each(helpers.cancel_leftovers)

  it("with a task: the caller gets CancelledError, not TimeoutError, and the task is cancelled", function()
    local inner = asched.spawn(asched.sleep, 10)
    local caller = asched.spawn(function() return pcall(asched.wait_for, inner, 5) end)
    asched.sleep(1)
    caller:cancel("stop")
    local ok, err = caller:await()
    assert.is_false(ok)
    assert_error_named("CancelledError", err)
    assert.equals("stop", err.message)
    asched.sleep(0)
    assert.is_true(inner:cancelled())
  end)

  it("with a function: the caller gets CancelledError, not TimeoutError", function()
    local caller = asched.spawn(function() return pcall(asched.wait_for, returns_after(10), 5) end)
    asched.sleep(1)
    caller:cancel("stop")
    local ok, err = caller:await()
    assert.is_false(ok)
    assert_error_named("CancelledError", err)
    assert.equals("stop", err.message)
  end)

  it("with a nil timeout: the caller gets CancelledError and the task is cancelled, as by await", function()
    local inner = asched.spawn(asched.sleep, 10)
    local caller = asched.spawn(asched.wait_for, inner, nil)
    asched.sleep(1)
    caller:cancel("stop")
    local err = error_of(caller.await, caller)
    assert_error_named("CancelledError", err)
    assert.equals("stop", err.message)
    asched.sleep(0)
    assert.is_true(inner:cancelled())
  end)

  it("is not swallowed when it races the task's result in the same step", function()
    -- inner finishes at t0+1 and wakes the caller; the canceller, woken at the
    -- same instant just after inner, cancels the caller before it resumes.
    local inner = asched.spawn(returns_after(1, "result"))
    local caller
    asched.spawn(function() asched.sleep(1); caller:cancel("raced") end)
    caller = asched.spawn(asched.wait_for, inner, 5)
    local err = error_of(caller.await, caller)
    assert_error_named("CancelledError", err)
    assert.equals("raced", err.message)
    assert.is_true(caller:cancelled())
  end)

  it("is not swallowed when it races the function's result in the same step", function()
    local inner = asched.spawn(returns_after(1, "result"))
    local caller
    asched.spawn(function() asched.sleep(1); caller:cancel("raced") end)
    caller = asched.spawn(asched.wait_for, function() return inner:await() end, 5)
    local err = error_of(caller.await, caller)
    assert_error_named("CancelledError", err)
    assert.equals("raced", err.message)
  end)

  it("is not turned into TimeoutError when it races the deadline, with a task (canceller first)", function()
    local inner = asched.spawn(asched.sleep, 10)
    local caller
    asched.spawn(function() asched.sleep(1); caller:cancel("raced") end)
    caller = asched.spawn(asched.wait_for, inner, 1)
    local err = error_of(caller.await, caller)
    assert_error_named("CancelledError", err)
    assert.equals("raced", err.message)
  end)

  it("is not turned into TimeoutError when it races the deadline, with a task (deadline first)", function()
    local inner = asched.spawn(slow_with_cleanup({}, 0.5, "raise"))
    local caller = asched.spawn(asched.wait_for, inner, 1)
    asched.sleep(0)     -- the caller's deadline is set before the canceller's timer
    asched.spawn(function() asched.sleep(1); caller:cancel("raced") end)
    local err = error_of(caller.await, caller)
    assert_error_named("CancelledError", err)
    assert.equals("raced", err.message)
  end)

  it("is not turned into TimeoutError when it races the deadline, with a function", function()
    local caller
    asched.spawn(function() asched.sleep(1); caller:cancel("raced") end)
    caller = asched.spawn(asched.wait_for, returns_after(10), 1)
    local err = error_of(caller.await, caller)
    assert_error_named("CancelledError", err)
    assert.equals("raced", err.message)
  end)

  it("is not swallowed by a task that swallows the cancellation wait_for passed on", function()
    local inner = asched.spawn(slow_with_cleanup({}, 0.5, "return"))
    local caller = asched.spawn(asched.wait_for, inner, 5)
    asched.sleep(1)
    caller:cancel("stop")
    local err = error_of(caller.await, caller)
    assert_error_named("CancelledError", err)
    assert.equals("stop", err.message)
  end)
end)

describe("asched.wait_for argument errors", function()
  after_each(helpers.cancel_leftovers)
  local message_of = helpers.argument_error_message

  it("an item that is neither a task nor a function is an argument error", function()
    local err = message_of(error_of(function() asched.wait_for(42, 1) end))
    assert.matches("^bad argument #1 to 'wait_for' %(.*number.*%)$", err)
  end)

  it("a NaN timeout is an argument error, and the function is not called", function()
    local called = false
    local err = message_of(error_of(function() asched.wait_for(function() called = true end, 0 / 0) end))
    assert.matches("^bad argument #2 to 'wait_for' %(.+%)$", err)
    assert.is_false(called)
  end)

  it("a timeout that is not a number is an argument error", function()
    local t = asched.spawn(function() end)
    local err = message_of(error_of(function() asched.wait_for(t, "1") end))
    assert.matches("^bad argument #2 to 'wait_for' %(.*string.*%)$", err)
  end)
end)
