-- combine_as_completed_spec.lua -- asched.as_completed: tasks in completion order, ties,
-- its timeout, leaving the loop early, no timer left behind, and its argument errors.
local helpers = require("spec.helpers")
local error_of, assert_error_named = helpers.error_of, helpers.assert_error_named
local assert_elapsed, returns_after, fails_after = helpers.assert_elapsed, helpers.returns_after, helpers.fails_after

-- Runs a generic for over as_completed(list, opts); returns the result of each
-- task it yields and the loop time at which it was yielded, relative to t0.
local function collect(t0, list, opts)
  local results, at = {}, {}
  for task in asched.as_completed(list, opts) do
    results[#results + 1] = task:result()
    at[#at + 1] = asched.now() - t0
  end
  return results, at
end

describe("asched.as_completed", function()
  after_each(helpers.cancel_leftovers)

  it("yields the tasks in the order they finish, each step waiting for the next one", function()
    local t0 = asched.now()
    local a = asched.spawn(returns_after(3, "a"))
    local b = asched.spawn(returns_after(1, "b"))
    local c = asched.spawn(returns_after(2, "c"))
    local results, at = collect(t0, {a, b, c})
    assert.same({"b", "c", "a"}, results)
    assert_elapsed(1, 0, at[1])
    assert_elapsed(2, 0, at[2])
    assert_elapsed(3, 0, at[3])
  end)

  it("yields the Task objects of the list", function()
    local a = asched.spawn(returns_after(2, "a"))
    local b = asched.spawn(returns_after(1, "b"))
    local seen = {}
    for task in asched.as_completed({a, b}) do seen[#seen + 1] = task end
    assert.equals(2, #seen)
    assert.equals(b, seen[1])
    assert.equals(a, seen[2])
  end)

  it("yields tasks that finish in the same step in the order they finished", function()
    -- Spawned z, y, x: their equal timers fire, and they finish, in that order.
    local z = asched.spawn(returns_after(1, "z"))
    local y = asched.spawn(returns_after(1, "y"))
    local x = asched.spawn(returns_after(1, "x"))
    local results = collect(asched.now(), {x, y, z})
    assert.same({"z", "y", "x"}, results)
  end)

  it("yields tasks finishing at the same deadline in list order when they were spawned in list order", function()
    local list = {}
    for i = 1, 5 do list[i] = asched.spawn(returns_after(1, i)) end
    assert.same({1, 2, 3, 4, 5}, (collect(asched.now(), list)))
  end)

  it("yields the tasks already done when it is called first, in list order, without waiting", function()
    local t0 = asched.now()
    local z = asched.spawn(function() return "z" end)
    local y = asched.spawn(function() return "y" end)
    local x = asched.spawn(function() return "x" end)
    local later = asched.spawn(returns_after(1, "later"))
    asched.sleep(0)     -- z, y and x finish, in that order
    local results, at = collect(t0, {later, x, y, z})
    assert.same({"x", "y", "z", "later"}, results)
    assert.same({0, 0, 0}, {at[1], at[2], at[3]})
  end)

  it("spawns the functions in the list and yields their tasks", function()
    local t0 = asched.now()
    local results = collect(t0, {returns_after(2, "slow"), returns_after(1, "fast")})
    assert.same({"fast", "slow"}, results)
    assert_elapsed(2, t0)
  end)

  it("reports an item listed more than once only once (API.md)", function()
    local a = asched.spawn(returns_after(1, "a"))
    local b = asched.spawn(returns_after(2, "b"))
    local seen = {}
    for task in asched.as_completed({a, b, a, a}) do seen[#seen + 1] = task:result() end
    assert.same({"a", "b"}, seen)
  end)

  it("reports a task listed twice once, also when it is already done at the call", function()
    local t1 = asched.spawn(function() return "t1" end)
    local t2 = asched.spawn(returns_after(1, "t2"))
    asched.sleep(0)
    assert.is_true(t1:done())
    local seen = {}
    for task in asched.as_completed({t1, t2, t1}) do seen[#seen + 1] = task end
    assert.same({t1, t2}, seen)
  end)

  it("reports tasks listed twice once each when they finish in the same step", function()
    local t1 = asched.spawn(returns_after(1, "t1"))
    local t2 = asched.spawn(returns_after(1, "t2"))
    local seen = {}
    for task in asched.as_completed({t2, t1, t2, t1}) do seen[#seen + 1] = task end
    assert.same({t1, t2}, seen)
  end)

  it("ends at once for an empty list", function()
    local t0 = asched.now()
    local steps = 0
    for _ in asched.as_completed({}) do steps = steps + 1 end
    assert.equals(0, steps)
    assert.equals(t0, asched.now())
  end)

  it("yields tasks that failed or were cancelled like any other, without raising", function()
    local boom = {reason = "boom"}
    local failing = asched.spawn(fails_after(1, boom))
    local victim = asched.spawn(asched.sleep, 10)
    asched.spawn(function() asched.sleep(2); victim:cancel() end)
    local seen = {}
    for task in asched.as_completed({victim, failing}) do seen[#seen + 1] = task end
    assert.equals(failing, seen[1])
    assert.equals(victim, seen[2])
    assert.equals(boom, failing:exception())
    assert.is_true(victim:cancelled())
  end)

  it("lets the loop break early; the tasks left keep running", function()
    local t0 = asched.now()
    local fast = asched.spawn(returns_after(1, "fast"))
    local slow = asched.spawn(returns_after(5, "slow"))
    for task in asched.as_completed({slow, fast}) do
      assert.equals(fast, task)
      break
    end
    assert_elapsed(1, t0)
    assert.is_false(slow:cancelled())
    assert.equals("slow", slow:await())
    assert_elapsed(5, t0)
  end)
end)

describe("asched.as_completed with a timeout", function()
  after_each(helpers.cancel_leftovers)

  it("raises TimeoutError from the iterator once the timeout passes; the tasks still running go on", function()
    local t0 = asched.now()
    local fast = asched.spawn(returns_after(1, "fast"))
    local slow = asched.spawn(returns_after(5, "slow"))
    local seen = {}
    local err = error_of(function()
      for task in asched.as_completed({slow, fast}, {timeout = 2}) do seen[#seen + 1] = task:result() end
    end)
    assert_error_named("TimeoutError", err)
    assert.same({"fast"}, seen)
    assert_elapsed(2, t0)
    assert.is_false(slow:done())
    assert.equals("slow", slow:await())
    assert_elapsed(5, t0)
  end)

  it("counts the timeout from the call, not from each step of the loop", function()
    local t0 = asched.now()
    local list = {returns_after(1, 1), returns_after(2.5, 2), returns_after(10, 3)}
    local seen = {}
    local err = error_of(function()
      for task in asched.as_completed(list, {timeout = 3}) do seen[#seen + 1] = task:result() end
    end)
    assert_error_named("TimeoutError", err)
    assert.same({1, 2}, seen)
    assert_elapsed(3, t0)
  end)

  it("still yields the tasks that finished before the timeout when the loop body runs past it", function()
    local t0 = asched.now()
    local seen = {}
    local err = error_of(function()
      local list = {returns_after(1, 1), returns_after(2, 2), returns_after(10, 3)}
      for task in asched.as_completed(list, {timeout = 3}) do
        seen[#seen + 1] = task:result()
        if #seen == 1 then asched.sleep(4) end      -- past the timeout
      end
    end)
    assert_error_named("TimeoutError", err)
    assert.same({1, 2}, seen)
    assert_elapsed(5, t0)
  end)

  it("does not yield a task that finished after the timeout, even while the loop body ran past it", function()
    local t0 = asched.now()
    local seen = {}
    local err = error_of(function()
      local list = {returns_after(1, 1), returns_after(4, 2), returns_after(20, 3)}
      for task in asched.as_completed(list, {timeout = 3}) do
        seen[#seen + 1] = task:result()
        if #seen == 1 then asched.sleep(5) end      -- the second task finishes late, at 4
      end
    end)
    assert_error_named("TimeoutError", err)
    assert.same({1}, seen)
    assert_elapsed(6, t0)
  end)

  it("raises TimeoutError rather than ending when the last tasks all finished late", function()
    local seen = {}
    local err = error_of(function()
      for task in asched.as_completed({returns_after(1, 1), returns_after(4, 2)}, {timeout = 3}) do
        seen[#seen + 1] = task:result()
        if #seen == 1 then asched.sleep(5) end
      end
    end)
    assert_error_named("TimeoutError", err)
    assert.same({1}, seen)
  end)

  it("does not raise when every task finishes within the timeout", function()
    local t0 = asched.now()
    local results = collect(t0, {returns_after(2, "b"), returns_after(1, "a")}, {timeout = 3})
    assert.same({"a", "b"}, results)
    assert_elapsed(2, t0)
  end)

  it("leaves no timer behind when the loop ends before the timeout", function()
    local t0 = asched.now()
    collect(t0, {returns_after(1, "a")}, {timeout = 10})
    assert_elapsed(1, t0)
    assert_elapsed(1, t0, helpers.idle_clock())
  end)

  it("leaves no timer behind when the loop is left by a break before the timeout", function()
    local t0 = asched.now()
    local slow = asched.spawn(returns_after(5, "slow"))
    for _ in asched.as_completed({slow, returns_after(1, "fast")}, {timeout = 10}) do break end
    assert_elapsed(1, t0)
    slow:cancel()
    pcall(slow.await, slow)
    assert_elapsed(1, t0, helpers.idle_clock())
  end)

  it("leaves no timer behind once it has raised TimeoutError", function()
    local t0 = asched.now()
    local slow = asched.spawn(returns_after(5, "slow"))
    pcall(function() for _ in asched.as_completed({slow}, {timeout = 2}) do end end)
    assert_elapsed(2, t0)
    slow:cancel()
    pcall(slow.await, slow)
    assert_elapsed(2, t0, helpers.idle_clock())
  end)
end)

describe("asched.as_completed argument errors", function()
  after_each(helpers.cancel_leftovers)
  local message_of = helpers.argument_error_message

  it("a list that is not a table reads as Lua's own argument error", function()
    local err = message_of(error_of(function() asched.as_completed("tasks") end))
    assert.equals("bad argument #1 to 'as_completed' (table of tasks or functions expected, got string)", err)
  end)

  it("an item that is neither a task nor a function is an argument error naming it", function()
    local err = message_of(error_of(function() asched.as_completed({asched.spawn(function() end), {}}) end))
    assert.matches("^bad argument #1 to 'as_completed' %(.*item 2.*table.*%)$", err)
  end)

  it("a NaN timeout is an argument error", function()
    local err = message_of(error_of(function() asched.as_completed({}, {timeout = 0 / 0}) end))
    assert.matches("^bad argument #2 to 'as_completed' %(.+%)$", err)
  end)

  it("a timeout that is not a number is an argument error", function()
    local err = message_of(error_of(function() asched.as_completed({}, {timeout = "1"}) end))
    assert.matches("^bad argument #2 to 'as_completed' %(.+%)$", err)
  end)
end)
