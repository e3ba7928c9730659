-- combine_shield_spec.lua -- asched.shield: the item's values, a cancelled caller
-- while the item runs on, cancelling the item itself, and its argument errors.
local helpers = require("spec.helpers")
local error_of, assert_error_named = helpers.error_of, helpers.assert_error_named
local assert_elapsed, returns_after, fails_after = helpers.assert_elapsed, helpers.returns_after, helpers.fails_after

describe("asched.shield", function()
  after_each(helpers.cancel_leftovers)

  it("returns every value of a task, nils included", function()
    local t0 = asched.now()
    local t = asched.spawn(returns_after(1, "a", nil, "c"))
    assert.same({n = 3, "a", nil, "c"}, table.pack(asched.shield(t)))
    assert_elapsed(1, t0)
  end)

  it("spawns a function as a task of its own and returns its values", function()
    local ran_in
    local got = table.pack(asched.shield(function()
      ran_in = asched.current_task()
      asched.sleep(1)
      return "x", nil
    end))
    assert.same({n = 2, "x", nil}, got)
    assert.are_not.equal(asched.current_task(), ran_in)
  end)

  it("returns the values of a task already done, without waiting", function()
    local t = asched.spawn(function() return "done" end)
    t:await()
    local t0 = asched.now()
    assert.equals("done", asched.shield(t))
    assert.equals(t0, asched.now())
  end)

  it("raises the item's error unchanged", function()
    local boom = {reason = "boom"}
    assert.equals(boom, error_of(asched.shield, asched.spawn(fails_after(1, boom))))
    assert.equals(boom, error_of(asched.shield, fails_after(1, boom)))
  end)
end)

describe("cancelling a task that waits in asched.shield", function()
  after_each(helpers.cancel_leftovers)

  it("raises CancelledError in the caller at once, while the task runs to completion", function()
    local t0 = asched.now()
    local inner = asched.spawn(returns_after(3, "inner done"))
    local caller = asched.spawn(function() return pcall(asched.shield, inner) end)
    asched.sleep(1)
    caller:cancel("stop")
    local ok, err = caller:await()
    assert.is_false(ok)
    assert_error_named("CancelledError", err)
    assert.equals("stop", err.message)
    assert_elapsed(1, t0)
    assert.is_false(inner:done())
    assert.equals("inner done", inner:await())
    assert_elapsed(3, t0)
    assert.is_false(inner:cancelled())
  end)

  it("leaves the task of a shielded function running to completion", function()
    local t0 = asched.now()
    local finished_at
    local caller = asched.spawn(asched.shield, function()
      asched.sleep(3)
      finished_at = asched.now()
    end)
    asched.sleep(1)
    caller:cancel()
    assert_error_named("CancelledError", error_of(caller.await, caller))
    asched.sleep(5)
    assert_elapsed(3, t0, finished_at)
  end)

  it("lets the task be awaited later, with its values", function()
    local inner = asched.spawn(returns_after(2, "later", 2))
    local caller = asched.spawn(asched.shield, inner)
    asched.sleep(1)
    caller:cancel()
    pcall(caller.await, caller)
    assert.same({n = 2, "later", 2}, table.pack(inner:await()))
  end)

  it("lets another shield of the same task go on waiting for it", function()
    local inner = asched.spawn(returns_after(2, "shared"))
    local cancelled = asched.spawn(asched.shield, inner)
    local patient = asched.spawn(asched.shield, inner)
    asched.sleep(1)
    cancelled:cancel()
    assert.equals("shared", patient:await())
  end)
end)

describe("cancelling the task inside asched.shield", function()
  after_each(helpers.cancel_leftovers)

  it("makes the shield raise CancelledError", function()
    local inner = asched.spawn(asched.sleep, 10)
    asched.spawn(function() asched.sleep(1); inner:cancel("inner stopped") end)
    local err = error_of(asched.shield, inner)
    assert_error_named("CancelledError", err)
    assert.equals("inner stopped", err.message)
  end)

  it("makes the shield raise CancelledError for a task already cancelled", function()
    local inner = asched.spawn(asched.sleep, 10)
    inner:cancel()
    pcall(inner.await, inner)
    assert_error_named("CancelledError", error_of(asched.shield, inner))
  end)
end)

describe("asched.shield argument errors", function()
  after_each(helpers.cancel_leftovers)
  local message_of = helpers.argument_error_message

  it("an item that is neither a task nor a function is an argument error", function()
    local err = message_of(error_of(function() asched.shield("task") end))
    assert.matches("^bad argument #1 to 'shield' %(.*string.*%)$", err)
  end)

  it("a missing item is an argument error", function()
    local err = message_of(error_of(function() asched.shield() end))
    assert.matches("^bad argument #1 to 'shield' %(.+%)$", err)
  end)
end)
