-- combine_gather_spec.lua -- asched.gather: results in input order, the first error,
-- return_exceptions, cancelling the caller, and its argument errors (API.md, Combining).
local helpers = require("spec.helpers")
local error_of, assert_error_named = helpers.error_of, helpers.assert_error_named
local assert_elapsed, returns_after, fails_after = helpers.assert_elapsed, helpers.returns_after, helpers.fails_after

describe("asched.gather", function()
  after_each(helpers.cancel_leftovers)

  it("returns each item's first value in input order, whatever order they finish in", function()
    local t0 = asched.now()
    local r = asched.gather({returns_after(3, "a"), returns_after(1, "b"), returns_after(2, "c")})
    assert.same({n = 3, "a", "b", "c"}, r)
    assert_elapsed(3, t0)
  end)

  it("keeps nil results in their slots, and r.n counts every item", function()
    local r = asched.gather({returns_after(1, nil), returns_after(2, "x"), returns_after(1),
                             returns_after(3, nil, "second value")})
    assert.equals(4, r.n)
    assert.same({n = 4, nil, "x", nil, nil}, r)
  end)

  it("keeps only the first value of an item that returns several", function()
    assert.same({n = 1, "first"}, asched.gather({returns_after(1, "first", "second", "third")}))
  end)

  it("spawns the functions in the list as tasks of their own, which run concurrently", function()
    local t0 = asched.now()
    local ran_in = {}
    local function item(i)
      return function()
        ran_in[i] = asched.current_task()
        asched.sleep(2)
        return i
      end
    end
    local r = asched.gather({item(1), item(2)})
    assert.same({n = 2, 1, 2}, r)
    assert_elapsed(2, t0)
    assert.are_not.equal(asched.current_task(), ran_in[1])
    assert.are_not.equal(asched.current_task(), ran_in[2])
    assert.are_not.equal(ran_in[1], ran_in[2])
    assert.is_true(ran_in[1]:done())
  end)

  it("accepts tasks and functions mixed, and tasks that are already done", function()
    local done = asched.spawn(function() return "done before" end)
    done:await()
    local pending = asched.spawn(returns_after(1, "task"))
    local r = asched.gather({done, returns_after(2, "function"), pending})
    assert.same({n = 3, "done before", "function", "task"}, r)
  end)

  it("fills every slot of a task listed twice", function()
    local t = asched.spawn(returns_after(1, "twice"))
    assert.same({n = 2, "twice", "twice"}, asched.gather({t, t}))
  end)

  it("returns {n = 0} for an empty list at once, without suspending", function()
    local t0 = asched.now()
    local other_ran = false
    asched.spawn(function() other_ran = true end)
    assert.same({n = 0}, asched.gather({}))
    assert.same({n = 0}, asched.gather({}, {return_exceptions = true}))
    assert.is_false(other_ran, "gather({}) let another task run")
    assert.equals(t0, asched.now())
  end)
end)

describe("asched.gather when an item fails", function()
  after_each(helpers.cancel_leftovers)

  it("raises the first error at once, unchanged, while the other items keep running", function()
    local t0 = asched.now()
    local boom = {reason = "boom"}
    local sibling = asched.spawn(returns_after(3, "sibling done"))
    local err = error_of(asched.gather, {fails_after(1, boom), sibling})
    assert.equals(boom, err)
    assert_elapsed(1, t0)
    assert.is_false(sibling:done())
    assert.equals("sibling done", sibling:await())
    assert_elapsed(3, t0)
  end)

  it("lets a sibling given as a function run to its end after the error", function()
    local t0 = asched.now()
    local finished_at
    local sibling = function() asched.sleep(3); finished_at = asched.now() end
    local err = error_of(asched.gather, {sibling, fails_after(1, "boom")})
    assert.equals("boom", err)
    assert_elapsed(1, t0)
    asched.sleep(5)
    assert_elapsed(3, t0, finished_at)
  end)

  it("raises the error of the item that fails first, not of the first item in the list", function()
    local t0 = asched.now()
    local err = error_of(asched.gather, {fails_after(2, "second"), fails_after(1, "first")})
    assert.equals("first", err)
    assert_elapsed(1, t0)
  end)

  it("raises CancelledError when an item is cancelled, and the other items keep running", function()
    local t0 = asched.now()
    local victim = asched.spawn(asched.sleep, 10)
    local sibling = asched.spawn(returns_after(5, "sibling"))
    asched.spawn(function() asched.sleep(1); victim:cancel("stopped") end)
    local err = error_of(asched.gather, {victim, sibling})
    assert_error_named("CancelledError", err)
    assert.equals("stopped", err.message)
    assert_elapsed(1, t0)
    assert.equals("sibling", sibling:await())
  end)
end)

describe("asched.gather with return_exceptions", function()
  after_each(helpers.cancel_leftovers)

  it("puts each error value in its item's slot and waits for every item", function()
    local t0 = asched.now()
    local boom = {reason = "boom"}
    local r = asched.gather({fails_after(1, boom), returns_after(2, "ok"), fails_after(3, "bad")},
                            {return_exceptions = true})
    assert.equals(3, r.n)
    assert.equals(boom, r[1])
    assert.equals("ok", r[2])
    assert.equals("bad", r[3])
    assert_elapsed(3, t0)
  end)

  it("puts a CancelledError object in the slot of a cancelled item", function()
    local victim = asched.spawn(asched.sleep, 10)
    asched.spawn(function() asched.sleep(1); victim:cancel("stopped") end)
    local r = asched.gather({returns_after(2, "ok"), victim}, {return_exceptions = true})
    assert.equals(2, r.n)
    assert.equals("ok", r[1])
    assert_error_named("CancelledError", r[2])
    assert.equals("stopped", r[2].message)
  end)

  it("puts the CancelledError of an item cancelled before it started in its slot", function()
    local never = asched.spawn(function() error("must not run") end)
    never:cancel()
    local r = asched.gather({never}, {return_exceptions = true})
    assert_error_named("CancelledError", r[1])
  end)
end)

describe("cancelling a task that waits in asched.gather", function()
  after_each(helpers.cancel_leftovers)

  it("cancels every item still running, and the caller gets CancelledError", function()
    local t0 = asched.now()
    local finished = asched.spawn(returns_after(1, "finished"))
    local slow = asched.spawn(returns_after(10, "slow"))
    local caller = asched.spawn(function() return pcall(asched.gather, {finished, slow}) end)
    asched.sleep(2)
    caller:cancel("stop")
    local ok, err = caller:await()
    assert.is_false(ok)
    assert_error_named("CancelledError", err)
    assert.equals("stop", err.message)
    assert_elapsed(2, t0)
    assert.is_true(slow:cancelled())
    assert.is_false(finished:cancelled())
    assert.equals("finished", finished:result())
  end)

  it("cancels the tasks it spawned for functions, at their suspension point", function()
    local seen = {}
    local function item()
      local ok, err = pcall(asched.sleep, 10)
      seen[#seen + 1] = ok or err.name
      error(err, 0)
    end
    local caller = asched.spawn(asched.gather, {item, item})
    asched.sleep(1)
    caller:cancel()
    assert_error_named("CancelledError", error_of(caller.await, caller))
    asched.sleep(0)
    assert.same({"CancelledError", "CancelledError"}, seen)
  end)

  it("raises CancelledError in the caller even with return_exceptions", function()
    local item = asched.spawn(returns_after(10, "x"))
    local caller = asched.spawn(function()
      return pcall(asched.gather, {item}, {return_exceptions = true})
    end)
    asched.sleep(1)
    caller:cancel("stop")
    local ok, err = caller:await()
    assert.is_false(ok, "gather returned instead of raising")
    assert_error_named("CancelledError", err)
    assert.equals("stop", err.message)
    assert.is_true(item:cancelled())
  end)

  it("leaves a caller that does not catch the CancelledError cancelled", function()
    local caller = asched.spawn(asched.gather, {returns_after(10, "x")}, {return_exceptions = true})
    asched.sleep(1)
    caller:cancel()
    pcall(caller.await, caller)
    assert.is_true(caller:cancelled())
  end)
end)

describe("asched.gather argument errors", function()
  after_each(helpers.cancel_leftovers)
  local message_of = helpers.argument_error_message

  it("a list that is not a table reads as Lua's own argument error", function()
    local err = message_of(error_of(function() asched.gather(42) end))
    assert.equals("bad argument #1 to 'gather' (table of tasks or functions expected, got number)", err)
  end)

  it("an item that is neither a task nor a function is an argument error naming it", function()
    local err = message_of(error_of(function() asched.gather({function() end, "task-2"}) end))
    assert.matches("^bad argument #1 to 'gather' %(.*item 2.*string.*%)$", err)
  end)

  it("spawns nothing when any item is bad", function()
    local ran = false
    local before = #asched.all_tasks()
    pcall(function() asched.gather({function() ran = true end, 42}) end)
    assert.equals(before, #asched.all_tasks())
    asched.sleep(0)
    assert.is_false(ran)
  end)

  it("options that are not a table are an argument error", function()
    local err = message_of(error_of(function() asched.gather({}, true) end))
    assert.matches("^bad argument #2 to 'gather' %(.+%)$", err)
  end)
end)
