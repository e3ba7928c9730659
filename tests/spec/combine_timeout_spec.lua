-- combine_timeout_spec.lua -- asched.timeout scopes: interrupting the body where it
-- waits, nested scopes, external cancels (also racing the expiry), the task after a
-- handled TimeoutError, errors passing through, and its argument errors.
local helpers = require("spec.helpers")
local error_of, assert_error_named = helpers.error_of, helpers.assert_error_named
local assert_elapsed, returns_after, fails_after = helpers.assert_elapsed, helpers.returns_after, helpers.fails_after

describe("asched.timeout", function()
  after_each(helpers.cancel_leftovers)

  it("returns every value of fn(...), passing it the extra arguments, nils included", function()
    local t0 = asched.now()
    local got = table.pack(asched.timeout(2, function(...)
      asched.sleep(1)
      return select("#", ...), ...
    end, "a", nil, "c"))
    assert.same({n = 4, 3, "a", nil, "c"}, got)
    assert_elapsed(1, t0)
  end)

  it("runs fn in the current task", function()
    local ran_in
    asched.timeout(1, function() ran_in = asched.current_task() end)
    assert.equals(asched.current_task(), ran_in)
  end)

  it("interrupts the body at its current suspension point and raises TimeoutError", function()
    local t0 = asched.now()
    local log = {}
    local err = error_of(asched.timeout, 1, function()
      log[#log + 1] = "before"
      local ok, cancelled = pcall(asched.sleep, 10)
      log[#log + 1] = ok and "slept" or cancelled.name
      asched.sleep(0.5)      -- cleanup that takes time
      log[#log + 1] = "cleaned up"
      error(cancelled, 0)
    end)
    assert_error_named("TimeoutError", err)
    assert.same({"before", "CancelledError", "cleaned up"}, log)
    assert_elapsed(1.5, t0)
  end)

  it("runs the body's <close> variables when it is interrupted", function()
    local closed_with
    local err = error_of(asched.timeout, 1, function()
      local guard <close> = setmetatable({}, {__close = function(_, e) closed_with = e end})
      asched.sleep(10)
    end)
    assert_error_named("TimeoutError", err)
    assert_error_named("CancelledError", closed_with)
  end)

  it("returns the values of a body that swallows the expiry's CancelledError", function()
    local t0 = asched.now()
    local got = table.pack(asched.timeout(1, function()
      pcall(asched.sleep, 10)
      return "swallowed", nil
    end))
    assert.same({n = 2, "swallowed", nil}, got)
    assert_elapsed(1, t0)
  end)

  it("with seconds = nil has no deadline", function()
    local t0 = asched.now()
    assert.equals("eventually", asched.timeout(nil, returns_after(1000, "eventually")))
    assert_elapsed(1000, t0)
  end)

  it("with a negative or zero duration interrupts the body at its first suspension point", function()
    local t0 = asched.now()
    local reached = {}
    for i, seconds in ipairs({0, -1}) do
      local err = error_of(asched.timeout, seconds, function()
        reached[i] = true
        asched.sleep(1)
      end)
      assert_error_named("TimeoutError", err)
    end
    assert.same({true, true}, reached)
    assert.equals(t0, asched.now())
  end)

  it("leaves no timer behind when the body finishes in time", function()
    local t0 = asched.now()
    asched.timeout(10, asched.sleep, 1)
    assert_elapsed(1, t0, helpers.idle_clock())
  end)

  it("cancels the task the body awaits when it expires, as a cancel would", function()
    local inner = asched.spawn(returns_after(10, "inner"))
    assert_error_named("TimeoutError", error_of(asched.timeout, 1, function() return inner:await() end))
    asched.sleep(0)
    assert.is_true(inner:cancelled(), "the awaited task was left running")
  end)
end)

describe("asched.timeout, errors other than its own expiry", function()
  after_each(helpers.cancel_leftovers)

  it("pass through unchanged: the same value", function()
    local boom = {reason = "boom"}
    assert.equals(boom, error_of(asched.timeout, 5, fails_after(1, boom)))
    assert.equals("plain", error_of(asched.timeout, 5, fails_after(1, "plain")))
    assert.equals(42, error_of(asched.timeout, 5, fails_after(1, 42)))
  end)

  it("pass through unchanged when raised before the body first suspends", function()
    local boom = {reason = "boom"}
    assert.equals(boom, error_of(asched.timeout, 5, function() error(boom) end))
  end)

  it("an error raised by the body's cleanup after the expiry passes through unchanged", function()
    local other = {reason = "cleanup failed"}
    local err = error_of(asched.timeout, 1, function()
      pcall(asched.sleep, 10)
      error(other)
    end)
    assert.equals(other, err)
  end)

  it("a CancelledError of another task's result passes through as a CancelledError", function()
    local victim = asched.spawn(asched.sleep, 10)
    victim:cancel("not ours")
    local err = error_of(asched.timeout, 5, function() return victim:await() end)
    assert_error_named("CancelledError", err)
    assert.equals("not ours", err.message)
  end)
end)

describe("nested asched.timeout scopes", function()
  after_each(helpers.cancel_leftovers)

  it("an inner expiry raises TimeoutError from the inner scope only; the outer body goes on", function()
    local t0 = asched.now()
    local result = asched.timeout(10, function()
      local ok, err = pcall(asched.timeout, 1, asched.sleep, 5)
      assert.is_false(ok)
      assert_error_named("TimeoutError", err)
      assert_elapsed(1, t0)
      return asched.sleep(2, "outer done")     -- the outer scope is still fine
    end)
    assert.equals("outer done", result)
    assert_elapsed(3, t0)
  end)

  it("an outer expiry while the inner is live: the inner body sees CancelledError, only the outer raises TimeoutError", function()
    local t0 = asched.now()
    local inner_body_saw, inner_scope_raised
    local err = error_of(asched.timeout, 1, function()
      local ok, e = pcall(asched.timeout, 10, function()
        local ok2, e2 = pcall(asched.sleep, 5)
        inner_body_saw = ok2 or e2.name
        error(e2, 0)
      end)
      inner_scope_raised = ok or e.name
      error(e, 0)
    end)
    assert_error_named("TimeoutError", err)
    assert.equals("CancelledError", inner_body_saw)
    assert.equals("CancelledError", inner_scope_raised)
    assert_elapsed(1, t0)
  end)

  it("when both expire at the same instant, only the outer raises TimeoutError", function()
    local inner_scope_raised
    local err = error_of(asched.timeout, 1, function()
      local ok, e = pcall(asched.timeout, 1, asched.sleep, 5)
      inner_scope_raised = ok or e.name
      error(e, 0)
    end)
    assert_error_named("TimeoutError", err)
    assert.equals("CancelledError", inner_scope_raised)
  end)

  it("an inner expiry caught in the outer body does not cancel the outer body later", function()
    local t0 = asched.now()
    local result = asched.timeout(5, function()
      for _ = 1, 3 do pcall(asched.timeout, 1, asched.sleep, 10) end
      return asched.sleep(1, "still running")
    end)
    assert.equals("still running", result)
    assert_elapsed(4, t0)
  end)
end)

describe("asched.timeout around the other combinators", function()
  after_each(helpers.cancel_leftovers)

  it("expiring in wait_for on a task cancels that task; only the scope raises TimeoutError", function()
    local t0 = asched.now()
    local inner = asched.spawn(returns_after(10, "late"))
    local err = error_of(asched.timeout, 1, asched.wait_for, inner, 5)
    assert_error_named("TimeoutError", err)
    assert_elapsed(1, t0)
    asched.sleep(0)
    assert.is_true(inner:cancelled())
  end)

  it("expiring in a wait_for scope of its own: each scope raises only its own expiry", function()
    local wait_for_raised
    local err = error_of(asched.timeout, 1, function()
      local ok, e = pcall(asched.wait_for, returns_after(10), 5)
      wait_for_raised = ok or e.name
      error(e, 0)
    end)
    assert_error_named("TimeoutError", err)
    assert.equals("CancelledError", wait_for_raised)
  end)

  it("expiring in gather cancels the gathered tasks", function()
    local a = asched.spawn(returns_after(10, "a"))
    local b = asched.spawn(returns_after(20, "b"))
    assert_error_named("TimeoutError", error_of(asched.timeout, 1, asched.gather, {a, b}))
    asched.sleep(0)
    assert.is_true(a:cancelled())
    assert.is_true(b:cancelled())
  end)

  it("expiring in shield leaves the shielded task running", function()
    local t0 = asched.now()
    local inner = asched.spawn(returns_after(3, "shielded"))
    assert_error_named("TimeoutError", error_of(asched.timeout, 1, asched.shield, inner))
    assert.equals("shielded", inner:await())
    assert_elapsed(3, t0)
  end)
end)

describe("cancelling a task inside an asched.timeout scope", function()
  after_each(helpers.cancel_leftovers)

  it("an external cancel while the scope is live stays a CancelledError", function()
    local caller = asched.spawn(function() return pcall(asched.timeout, 10, asched.sleep, 100) end)
    asched.sleep(1)
    caller:cancel("stop")
    local ok, err = caller:await()
    assert.is_false(ok)
    assert_error_named("CancelledError", err)
    assert.equals("stop", err.message)
  end)

  it("an external cancel in the same step as the expiry, issued just after it, stays a CancelledError", function()
    -- The canceller's timer and the scope's fire at the same instant, the
    -- canceller's first; the canceller runs before the task of the scope.
    local caller
    asched.spawn(function() asched.sleep(1); caller:cancel("raced") end)
    caller = asched.spawn(asched.timeout, 1, asched.sleep, 100)
    local err = error_of(caller.await, caller)
    assert_error_named("CancelledError", err)
    assert.equals("raced", err.message)
    assert.is_true(caller:cancelled())
  end)

  it("an external cancel pending when the scope expires stays a CancelledError", function()
    -- The scope's deadline is the instant it opens; the cancel comes before the
    -- loop fires that deadline.
    local caller = asched.spawn(asched.timeout, 0, asched.sleep, 100)
    asched.spawn(function() caller:cancel("first") end)
    local err = error_of(caller.await, caller)
    assert_error_named("CancelledError", err)
    assert.equals("first", err.message)
  end)

  it("an external cancel in a nested scope stays a CancelledError through both scopes", function()
    local caller = asched.spawn(function()
      return pcall(asched.timeout, 10, asched.timeout, 20, asched.sleep, 100)
    end)
    asched.sleep(1)
    caller:cancel("stop")
    local ok, err = caller:await()
    assert.is_false(ok)
    assert_error_named("CancelledError", err)
    assert.equals("stop", err.message)
  end)
end)

describe("a task after a handled TimeoutError", function()
  after_each(helpers.cancel_leftovers)

  it("is not left cancelled: it can sleep normally afterwards", function()
    local t0 = asched.now()
    assert_error_named("TimeoutError", error_of(asched.timeout, 1, asched.sleep, 10))
    assert.equals("slept", asched.sleep(2, "slept"))
    assert_elapsed(3, t0)
  end)

  it("completes normally when it returns", function()
    local t = asched.spawn(function()
      pcall(asched.timeout, 1, asched.sleep, 10)
      asched.sleep(1)
      return "fine"
    end)
    assert.equals("fine", t:await())
    assert.is_false(t:cancelled())
  end)

  it("is not left cancelled after a nested outer expiry either", function()
    local t0 = asched.now()
    pcall(asched.timeout, 1, asched.timeout, 10, asched.sleep, 100)
    assert.equals("slept", asched.sleep(2, "slept"))
    assert_elapsed(3, t0)
  end)

  it("can still be cancelled afterwards", function()
    local t = asched.spawn(function()
      pcall(asched.timeout, 1, asched.sleep, 10)
      asched.sleep(100)
    end)
    asched.sleep(2)
    t:cancel("later")
    local err = error_of(t.await, t)
    assert_error_named("CancelledError", err)
    assert.equals("later", err.message)
  end)
end)

describe("asched.timeout argument errors", function()
  after_each(helpers.cancel_leftovers)
  local message_of = helpers.argument_error_message

  it("a NaN duration is an argument error, and fn is not called", function()
    local called = false
    local err = message_of(error_of(function() asched.timeout(0 / 0, function() called = true end) end))
    assert.matches("^bad argument #1 to 'timeout' %(.+%)$", err)
    assert.is_false(called)
  end)

  it("a duration that is not a number is an argument error", function()
    local err = message_of(error_of(function() asched.timeout("1", function() end) end))
    assert.matches("^bad argument #1 to 'timeout' %(.*string.*%)$", err)
  end)

  it("a fn that is not a function is an argument error", function()
    local err = message_of(error_of(function() asched.timeout(1, "fn") end))
    assert.matches("^bad argument #2 to 'timeout' %(.*string.*%)$", err)
  end)

  it("a missing fn is an argument error, also without a deadline", function()
    local err = message_of(error_of(function() asched.timeout(nil) end))
    assert.matches("^bad argument #2 to 'timeout' %(.+%)$", err)
  end)
end)
