-- combine_deadlines_spec.lua -- asched.timeout_at (an absolute deadline on the
-- asched.now() clock) and asched.move_on_after (true and the values, or false; never
-- a TimeoutError, never swallowing an outside cancellation), each alone and nested
-- with the other scopes; and a deadline already passed when the scope opens, which
-- interrupts even a sleep(0) (asched.timeout(0, ...) and timeout_at(now() - 1, ...)).
local helpers = require("spec.helpers")
local error_of, assert_error_named = helpers.error_of, helpers.assert_error_named
local assert_elapsed, returns_after, fails_after = helpers.assert_elapsed, helpers.returns_after, helpers.fails_after

-- Asserts that the clock reads `when` (default: now), give or take a microsecond: an
-- absolute deadline t0 + s is a float, and the clock rounds it up to a whole
-- nanosecond, so exact equality would depend on where the clock happens to be.
local function assert_clock_at(expected, actual)
  actual = actual or asched.now()
  assert(actual >= expected - 1e-6 and actual - expected < 1e-6,
         string.format("expected the clock at %.9f, but it reads %.9f", expected, actual))
end

-- A body that waits `seconds`; when cancelled there it notes the error's name in
-- log[key] and re-raises it.
local function notes_cancel(log, key, seconds)
  return function()
    local ok, err = pcall(asched.sleep, seconds)
    if ok then return "slept" end
    log[key] = err.name
    error(err, 0)
  end
end

describe("a deadline already passed when the scope opens", function()
  after_each(helpers.cancel_leftovers)

  it("asched.timeout(0, fn): fn runs to its sleep(0), is cancelled there, and TimeoutError is raised", function()
    local t0 = asched.now()
    local log = {}
    local err = error_of(asched.timeout, 0, notes_cancel(log, "body", 0))
    assert_error_named("TimeoutError", err)
    assert.equals("CancelledError", log.body)
    assert.equals(t0, asched.now())
  end)

  it("asched.timeout(-1, fn) does the same", function()
    local log = {}
    assert_error_named("TimeoutError", error_of(asched.timeout, -1, notes_cancel(log, "body", 0)))
    assert.equals("CancelledError", log.body)
  end)

  it("asched.timeout_at(asched.now() - 1, fn) does the same", function()
    local t0 = asched.now()
    local log = {}
    local err = error_of(asched.timeout_at, asched.now() - 1, notes_cancel(log, "body", 0))
    assert_error_named("TimeoutError", err)
    assert.equals("CancelledError", log.body)
    assert.equals(t0, asched.now())
  end)

  -- A reading of asched.now() must convert back to the very instant it was
  -- taken: rounded up to the next nanosecond it would not have passed yet, and
  -- the sleep(0) would not be interrupted (asyncio: a deadline <= now has passed).
  it("asched.timeout_at(asched.now(), fn) does the same, whatever the clock reads", function()
    local missed = {}
    for i = 1, 300 do
      asched.sleep(0.0011 * i)
      local now = asched.now()
      if pcall(asched.timeout_at, now, asched.sleep, 0) then
        missed[#missed + 1] = string.format("%.9f", now)
      end
    end
    assert.same({}, missed)
  end)

  it("a fn that never suspends returns its values", function()
    assert.same({n = 2, "a", nil}, table.pack(asched.timeout(0, function() return "a", nil end)))
    assert.same({n = 1, "b"}, table.pack(asched.timeout_at(asched.now() - 1, function() return "b" end)))
  end)

  it("asched.move_on_after(0, fn) with a sleep(0) in fn returns false", function()
    local log = {}
    assert.same({n = 1, false}, table.pack(asched.move_on_after(0, notes_cancel(log, "body", 0))))
    assert.equals("CancelledError", log.body)
    assert.same({n = 1, false}, table.pack(asched.move_on_after(-5, asched.sleep, 0)))
  end)

  it("asched.move_on_after(0, fn) with a fn that never suspends returns true and its values", function()
    assert.same({n = 3, true, 1, nil}, table.pack(asched.move_on_after(0, function() return 1, nil end)))
  end)

  it("leaves the task with no cancellation requested", function()
    pcall(asched.timeout, 0, asched.sleep, 0)
    pcall(asched.timeout_at, asched.now() - 1, asched.sleep, 0)
    asched.move_on_after(0, asched.sleep, 0)
    assert.equals(0, asched.current_task():cancelling())
    local t0 = asched.now()
    assert.equals("slept", asched.sleep(1, "slept"))
    assert_elapsed(1, t0)
  end)
end)

describe("asched.timeout_at", function()
  after_each(helpers.cancel_leftovers)

  it("returns every value of fn(...), passing it the extra arguments, nils included", function()
    local t0 = asched.now()
    local got = table.pack(asched.timeout_at(t0 + 2, function(...)
      asched.sleep(1)
      return select("#", ...), ...
    end, "a", nil, "c"))
    assert.same({n = 4, 3, "a", nil, "c"}, got)
    assert_elapsed(1, t0)
  end)

  it("runs fn in the current task", function()
    local ran_in
    asched.timeout_at(asched.now() + 1, function() ran_in = asched.current_task() end)
    assert.equals(asched.current_task(), ran_in)
  end)

  it("interrupts fn at its suspension point at the deadline and raises TimeoutError", function()
    local t0 = asched.now()
    asched.sleep(0.5)                  -- the deadline is a point on the clock, not a duration
    local log = {}
    local err = error_of(asched.timeout_at, t0 + 2, notes_cancel(log, "body", 10))
    assert_error_named("TimeoutError", err)
    assert.equals("CancelledError", log.body)
    assert_clock_at(t0 + 2)
  end)

  it("with when = nil has no deadline", function()
    local t0 = asched.now()
    assert.equals("eventually", asched.timeout_at(nil, returns_after(1000, "eventually")))
    assert_elapsed(1000, t0)
  end)

  it("lets fn's errors pass through unchanged", function()
    local boom = {reason = "boom"}
    assert.equals(boom, error_of(asched.timeout_at, asched.now() + 5, fails_after(1, boom)))
  end)

  it("lets an error raised by fn's cleanup after the deadline pass through unchanged", function()
    local other = {reason = "cleanup failed"}
    local err = error_of(asched.timeout_at, asched.now() + 1, function()
      pcall(asched.sleep, 10)
      error(other)
    end)
    assert.equals(other, err)
  end)

  it("leaves no timer behind when fn finishes in time", function()
    local t0 = asched.now()
    asched.timeout_at(t0 + 10, asched.sleep, 1)
    assert_elapsed(1, t0, helpers.idle_clock())
  end)

  it("an external cancel while the scope is live stays a CancelledError", function()
    local caller = asched.spawn(asched.timeout_at, asched.now() + 10, asched.sleep, 100)
    asched.sleep(1)
    caller:cancel("stop")
    local err = error_of(caller.await, caller)
    assert_error_named("CancelledError", err)
    assert.equals("stop", err.message)
  end)

  it("nested in asched.timeout: an inner expiry raises TimeoutError from the inner scope only", function()
    local t0 = asched.now()
    local got = asched.timeout(10, function()
      assert_error_named("TimeoutError", error_of(asched.timeout_at, t0 + 1, asched.sleep, 5))
      return asched.sleep(2, "outer went on")
    end)
    assert.equals("outer went on", got)
    assert_clock_at(t0 + 3)
  end)

  it("nested in asched.timeout: an outer expiry reaches the inner scope as a CancelledError", function()
    local t0 = asched.now()
    local inner_raised
    local err = error_of(asched.timeout, 1, function()
      local ok, e = pcall(asched.timeout_at, t0 + 10, asched.sleep, 5)
      inner_raised = ok or e.name
      error(e, 0)
    end)
    assert_error_named("TimeoutError", err)
    assert.equals("CancelledError", inner_raised)
    assert_elapsed(1, t0)
  end)

  it("two scopes with the same deadline: only the outer raises TimeoutError", function()
    local deadline = asched.now() + 1
    local inner_raised
    local err = error_of(asched.timeout_at, deadline, function()
      local ok, e = pcall(asched.timeout_at, deadline, asched.sleep, 5)
      inner_raised = ok or e.name
      error(e, 0)
    end)
    assert_error_named("TimeoutError", err)
    assert.equals("CancelledError", inner_raised)
  end)
end)

describe("asched.timeout_at argument errors", function()
  after_each(helpers.cancel_leftovers)
  local message_of = helpers.argument_error_message

  it("a NaN deadline is an argument error, and fn is not called", function()
    local called = false
    local err = message_of(error_of(function() asched.timeout_at(0 / 0, function() called = true end) end))
    assert.matches("^bad argument #1 to 'timeout_at' %(.+%)$", err)
    assert.is_false(called)
  end)

  it("a deadline that is not a number is an argument error", function()
    local err = message_of(error_of(function() asched.timeout_at("1", function() end) end))
    assert.matches("^bad argument #1 to 'timeout_at' %(.*string.*%)$", err)
  end)

  it("a fn that is not a function is an argument error", function()
    local err = message_of(error_of(function() asched.timeout_at(asched.now() + 1, "fn") end))
    assert.matches("^bad argument #2 to 'timeout_at' %(.*string.*%)$", err)
  end)
end)

describe("asched.move_on_after", function()
  after_each(helpers.cancel_leftovers)

  it("returns true and every value of fn(...) when fn finishes in time, nils included", function()
    local t0 = asched.now()
    local got = table.pack(asched.move_on_after(2, function(...)
      asched.sleep(1)
      return select("#", ...), ...
    end, "a", nil, "c"))
    assert.same({n = 5, true, 3, "a", nil, "c"}, got)
    assert_elapsed(1, t0)
  end)

  it("returns true alone when fn returns nothing", function()
    assert.same({n = 1, true}, table.pack(asched.move_on_after(1, function() end)))
  end)

  it("runs fn in the current task", function()
    local ran_in
    asched.move_on_after(1, function() ran_in = asched.current_task() end)
    assert.equals(asched.current_task(), ran_in)
  end)

  it("returns just false when the deadline cancelled fn at its suspension point", function()
    local t0 = asched.now()
    local log = {}
    local got = table.pack(asched.move_on_after(1, function()
      notes_cancel(log, "body", 10)()
      log.went_on = true
      return "dropped"
    end))
    assert.same({n = 1, false}, got)
    assert.equals("CancelledError", log.body)
    assert.is_nil(log.went_on)
    assert_elapsed(1, t0)
  end)

  it("never raises TimeoutError, also when fn's cleanup takes time after the deadline", function()
    local t0 = asched.now()
    local ok, got = pcall(asched.move_on_after, 1, function()
      local _, e = pcall(asched.sleep, 10)
      asched.sleep(2)
      error(e, 0)
    end)
    assert.is_true(ok, tostring(got))
    assert.is_false(got)
    assert_elapsed(3, t0)
  end)

  it("runs fn's <close> variables when the deadline cancels it", function()
    local closed_with
    assert.is_false(asched.move_on_after(1, function()
      local guard <close> = setmetatable({}, {__close = function(_, e) closed_with = e end})
      asched.sleep(10)
    end))
    assert_error_named("CancelledError", closed_with)
  end)

  it("returns true and fn's values when fn swallows the deadline's cancellation", function()
    local got = table.pack(asched.move_on_after(1, function()
      pcall(asched.sleep, 10)
      return "swallowed"
    end))
    assert.same({n = 2, true, "swallowed"}, got)
  end)

  it("with seconds = nil has no deadline", function()
    local t0 = asched.now()
    assert.same({true, "late"}, {asched.move_on_after(nil, asched.sleep, 1000, "late")})
    assert_elapsed(1000, t0)
  end)

  it("lets fn's errors pass through unchanged", function()
    local boom = {reason = "boom"}
    assert.equals(boom, error_of(asched.move_on_after, 5, fails_after(1, boom)))
    assert.equals(42, error_of(asched.move_on_after, 5, fails_after(1, 42)))
  end)

  it("lets an error raised by fn's cleanup after the deadline pass through unchanged", function()
    local other = {reason = "cleanup failed"}
    local err = error_of(asched.move_on_after, 1, function()
      pcall(asched.sleep, 10)
      error(other)
    end)
    assert.equals(other, err)
  end)

  it("leaves the task with no cancellation requested after returning false", function()
    local t0 = asched.now()
    assert.is_false(asched.move_on_after(1, asched.sleep, 10))
    assert.equals(0, asched.current_task():cancelling())
    assert.equals("slept", asched.sleep(1, "slept"))
    assert_elapsed(2, t0)
  end)

  it("leaves no timer behind when fn finishes in time", function()
    local t0 = asched.now()
    asched.move_on_after(10, asched.sleep, 1)
    assert_elapsed(1, t0, helpers.idle_clock())
  end)
end)

describe("asched.move_on_after and a cancellation from outside", function()
  after_each(helpers.cancel_leftovers)

  it("an external cancel while fn runs is raised, never turned into false", function()
    local caller = asched.spawn(function()
      return pcall(asched.move_on_after, 10, asched.sleep, 100)
    end)
    asched.sleep(1)
    caller:cancel("stop")
    local ok, err = caller:await()
    assert.is_false(ok)
    assert_error_named("CancelledError", err)
    assert.equals("stop", err.message)
  end)

  it("an external cancel in the same step as the deadline, issued just after it, is raised", function()
    local caller
    asched.spawn(function() asched.sleep(1); caller:cancel("raced") end)
    caller = asched.spawn(asched.move_on_after, 1, asched.sleep, 100)
    local err = error_of(caller.await, caller)
    assert_error_named("CancelledError", err)
    assert.equals("raced", err.message)
    assert.is_true(caller:cancelled())
  end)

  it("an external cancel pending when a passed deadline would cancel is raised", function()
    local caller = asched.spawn(asched.move_on_after, 0, asched.sleep, 100)
    asched.spawn(function() caller:cancel("first") end)
    local err = error_of(caller.await, caller)
    assert_error_named("CancelledError", err)
    assert.equals("first", err.message)
  end)

  it("an external cancel that lands in fn's cleanup after the deadline is raised", function()
    local t0 = asched.now()
    local caller = asched.spawn(asched.move_on_after, 1, function()
      local _, e = pcall(asched.sleep, 10)   -- the deadline's cancellation, at 1
      asched.sleep(1)                        -- cleanup; the outside cancel lands here
      error(e, 0)
    end)
    asched.sleep(1.5)
    caller:cancel("outside")
    local err = error_of(caller.await, caller)
    assert_error_named("CancelledError", err)
    assert.equals("outside", err.message)
    assert_elapsed(1.5, t0)
  end)

  it("a deadline that passes while fn handles an outside cancel does not turn it into false", function()
    local caller = asched.spawn(asched.move_on_after, 2, function()
      local _, e = pcall(asched.sleep, 10)   -- the outside cancellation, at 1
      pcall(asched.sleep, 5)                 -- cleanup; the deadline passes here
      error(e, 0)
    end)
    asched.sleep(1)
    caller:cancel("outside")
    local err = error_of(caller.await, caller)
    assert_error_named("CancelledError", err)
    assert.equals("outside", err.message)
  end)
end)

describe("nested asched.move_on_after scopes", function()
  after_each(helpers.cancel_leftovers)

  it("an inner expiry makes the inner call return false; the outer body goes on", function()
    local t0 = asched.now()
    local got = table.pack(asched.move_on_after(10, function()
      local inner = asched.move_on_after(1, asched.sleep, 5)
      return inner, asched.sleep(2, "outer went on")
    end))
    assert.same({n = 3, true, false, "outer went on"}, got)
    assert_elapsed(3, t0)
  end)

  it("an outer expiry while the inner is live: the inner raises CancelledError, only the outer returns false", function()
    local t0 = asched.now()
    local log = {}
    local got = table.pack(asched.move_on_after(1, function()
      local ok, e = pcall(asched.move_on_after, 10, notes_cancel(log, "inner body", 5))
      log.inner_call = ok and "returned" or e.name
      error(e, 0)
    end))
    assert.same({n = 1, false}, got)
    assert.equals("CancelledError", log["inner body"])
    assert.equals("CancelledError", log.inner_call)
    assert_elapsed(1, t0)
  end)

  it("when both expire at the same instant, only the outer returns false", function()
    local log = {}
    local got = table.pack(asched.move_on_after(1, function()
      local ok, e = pcall(asched.move_on_after, 1, asched.sleep, 5)
      log.inner_call = ok and "returned" or e.name
      error(e, 0)
    end))
    assert.same({n = 1, false}, got)
    assert.equals("CancelledError", log.inner_call)
  end)

  it("inside asched.timeout: an outer expiry raises TimeoutError and the inner move_on_after raises CancelledError", function()
    local log = {}
    local err = error_of(asched.timeout, 1, function()
      local ok, e = pcall(asched.move_on_after, 10, asched.sleep, 5)
      log.inner_call = ok and "returned" or e.name
      error(e, 0)
    end)
    assert_error_named("TimeoutError", err)
    assert.equals("CancelledError", log.inner_call)
  end)

  it("inside asched.timeout: an inner expiry returns false and the timeout does not expire", function()
    local t0 = asched.now()
    local got = table.pack(asched.timeout(5, function()
      return asched.move_on_after(1, asched.sleep, 10), asched.sleep(1, "went on")
    end))
    assert.same({n = 2, false, "went on"}, got)
    assert_elapsed(2, t0)
  end)

  it("around asched.timeout: an outer expiry returns false and the inner timeout raises CancelledError", function()
    local log = {}
    local got = table.pack(asched.move_on_after(1, function()
      local ok, e = pcall(asched.timeout, 10, asched.sleep, 5)
      log.inner_call = ok and "returned" or e.name
      error(e, 0)
    end))
    assert.same({n = 1, false}, got)
    assert.equals("CancelledError", log.inner_call)
  end)

  it("around asched.timeout: an inner expiry raises TimeoutError; the outer returns true", function()
    local got = table.pack(asched.move_on_after(5, function()
      local ok, e = pcall(asched.timeout, 1, asched.sleep, 10)
      return ok, e.name
    end))
    assert.same({n = 3, true, false, "TimeoutError"}, got)
  end)
end)

describe("asched.move_on_after argument errors", function()
  after_each(helpers.cancel_leftovers)
  local message_of = helpers.argument_error_message

  it("a NaN duration is an argument error, and fn is not called", function()
    local called = false
    local err = message_of(error_of(function() asched.move_on_after(0 / 0, function() called = true end) end))
    assert.matches("^bad argument #1 to 'move_on_after' %(.+%)$", err)
    assert.is_false(called)
  end)

  it("a duration that is not a number is an argument error", function()
    local err = message_of(error_of(function() asched.move_on_after("1", function() end) end))
    assert.matches("^bad argument #1 to 'move_on_after' %(.*string.*%)$", err)
  end)

  it("a fn that is not a function is an argument error", function()
    local err = message_of(error_of(function() asched.move_on_after(1, 2) end))
    assert.equals("bad argument #2 to 'move_on_after' (function expected, got number)", err)
  end)
end)
