-- structured_task_group_spec.lua -- asched.task_group, sentence by sentence of API.md's
-- "Structured concurrency": fn's values, waiting for every child, the first error
-- cancelling fn and the siblings, TaskGroupError's errors and tracebacks in the order
-- raised, cancelled children, tg:cancel(), cancelling the caller from outside (alone
-- and meeting child errors), groups under timeout and move_on_after, tg:spawn after
-- the end or during cancellation, nesting, the deadlock report, <close> variables,
-- and the argument errors. (That the errors count as observed, and the deadlock
-- report of the asched program, are in tests/cli/task_group_spec.lua; asyncio's own
-- test cases are in asyncio_taskgroups_spec.lua.)
local helpers = require("spec.helpers")
local error_of, assert_error_named = helpers.error_of, helpers.assert_error_named
local assert_elapsed, returns_after, fails_after = helpers.assert_elapsed, helpers.returns_after, helpers.fails_after

-- A to-be-closed value that calls fn with the error its scope closes with.
local function on_close(fn)
  return setmetatable({}, {__close = function(_, err) fn(err) end})
end

-- A child body that waits `seconds`, and when cancelled there notes the
-- cancellation's name and the loop time in `log[key]`, then re-raises it.
local function notes_cancel(log, key, seconds)
  return function()
    local ok, err = pcall(asched.sleep, seconds)
    if ok then return "slept" end
    log[key] = {name = err.name, at = asched.now()}
    error(err, 0)
  end
end

describe("asched.task_group", function()
  after_each(helpers.cancel_leftovers)

  it("returns every value of fn(tg, ...), passing it the extra arguments, nils included", function()
    local got = table.pack(asched.task_group(function(tg, ...)
      assert.equals("asched.TaskGroup", getmetatable(tg).__name)
      return select("#", ...), ...
    end, "a", nil, "c", nil))
    assert.same({n = 5, 4, "a", nil, "c", nil}, got)
  end)

  it("returns no values when fn returns none", function()
    assert.equals(0, select("#", asched.task_group(function(tg) tg:spawn(asched.sleep, 1) end)))
  end)

  it("runs fn in the calling task, at once", function()
    local ran_in
    asched.task_group(function() ran_in = asched.current_task() end)
    assert.equals(asched.current_task(), ran_in)
  end)

  it("tg:spawn returns the child's Task, started on a later step, never inside spawn", function()
    local started = false
    asched.task_group(function(tg)
      local child = tg:spawn(function() started = true end)
      assert.is_false(started)
      assert.equals("asched.Task", getmetatable(child).__name)
      assert.is_false(child:done())
    end)
    assert.is_true(started)
  end)

  it("tg:spawn passes the extra arguments to the child, nils included", function()
    local child
    asched.task_group(function(tg)
      child = tg:spawn(function(...) return select("#", ...), ... end, 1, nil, "three", nil)
    end)
    assert.same({n = 5, 4, 1, nil, "three", nil}, table.pack(child:result()))
  end)

  it("waits, once fn returns, until every child is done: no child outlives the call", function()
    local t0 = asched.now()
    local a, b
    local got = table.pack(asched.task_group(function(tg)
      a = tg:spawn(returns_after(1, "a"))
      b = tg:spawn(returns_after(3, "b"))
      return "body"
    end))
    assert.same({n = 1, "body"}, got)
    assert_elapsed(3, t0)
    assert.equals("a", a:result())
    assert.equals("b", b:result())
  end)

  it("waits for the children the children spawn, also after fn has returned", function()
    local t0 = asched.now()
    local grandchild
    asched.task_group(function(tg)
      tg:spawn(function()
        asched.sleep(1)
        grandchild = tg:spawn(returns_after(2, "late"))
      end)
    end)
    assert_elapsed(3, t0)
    assert.equals("late", grandchild:result())
  end)

  it("returns at once when fn returns and every child is already done", function()
    local t0 = asched.now()
    local got = asched.task_group(function(tg)
      tg:spawn(returns_after(1))
      asched.sleep(2)
      return "after the children"
    end)
    assert.equals("after the children", got)
    assert_elapsed(2, t0)
  end)

  it("leaves the caller free to suspend normally afterwards, with no cancellation requested", function()
    local t0 = asched.now()
    asched.task_group(function(tg) tg:spawn(asched.sleep, 1) end)
    assert.equals(0, asched.current_task():cancelling())
    assert.equals("slept", asched.sleep(1, "slept"))
    assert_elapsed(2, t0)
  end)

  it("raises 'not inside a task' when called outside a task", function()
    local t = asched.spawn(function() end)
    local got
    t:add_done_callback(function() got = table.pack(pcall(asched.task_group, function() end)) end)
    t:await()
    asched.sleep(0)
    assert.is_false(got[1])
    assert.matches("asched.task_group: not inside a task", tostring(got[2]), 1, true)
  end)
end)

describe("an error in an asched.task_group", function()
  after_each(helpers.cancel_leftovers)

  it("of a child cancels fn and every other child at once, then raises TaskGroupError", function()
    local t0 = asched.now()
    local boom = {reason = "boom"}
    local log = {}
    local err = error_of(asched.task_group, function(tg)
      tg:spawn(fails_after(1, boom))
      tg:spawn(notes_cancel(log, "sibling", 10))
      notes_cancel(log, "body", 10)()
      log.body_went_on = true
    end)
    assert_error_named("TaskGroupError", err)
    assert.equals(1, #err.errors)
    assert.equals(boom, err.errors[1])
    assert.equals("CancelledError", log.sibling.name)
    assert.equals("CancelledError", log.body.name)
    assert_elapsed(1, t0, log.sibling.at)
    assert_elapsed(1, t0, log.body.at)
    assert.is_nil(log.body_went_on)
    assert_elapsed(1, t0)
  end)

  it("of fn itself cancels every child; the error is in the TaskGroupError", function()
    local t0 = asched.now()
    local boom = {reason = "body"}
    local log = {}
    local children = {}
    local err = error_of(asched.task_group, function(tg)
      children[1] = tg:spawn(notes_cancel(log, 1, 10))
      children[2] = tg:spawn(notes_cancel(log, 2, 20))
      asched.sleep(1)
      error(boom)
    end)
    assert_error_named("TaskGroupError", err)
    assert.same({boom}, err.errors)
    assert.equals(boom, err.errors[1])
    for i = 1, 2 do
      assert.is_true(children[i]:cancelled())
      assert_elapsed(1, t0, log[i].at)
    end
    assert_elapsed(1, t0)
  end)

  it("of fn before it ever suspends: the children never run", function()
    local ran = false
    local err = error_of(asched.task_group, function(tg)
      tg:spawn(function() ran = true end)
      error("early", 0)
    end)
    assert_error_named("TaskGroupError", err)
    assert.same({"early"}, err.errors)
    asched.sleep(0)
    assert.is_false(ran)
  end)

  it("of a child after fn returned cancels the other children; fn's values are dropped", function()
    local t0 = asched.now()
    local log = {}
    local err = error_of(asched.task_group, function(tg)
      tg:spawn(fails_after(1, "late failure"))
      tg:spawn(notes_cancel(log, "sibling", 10))
      return "dropped"
    end)
    assert_error_named("TaskGroupError", err)
    assert.same({"late failure"}, err.errors)
    assert_elapsed(1, t0, log.sibling.at)
    assert_elapsed(1, t0)
  end)

  it("waits for the cancelled children's cleanup before raising", function()
    local t0 = asched.now()
    local cleaned = false
    local err = error_of(asched.task_group, function(tg)
      tg:spawn(fails_after(1, "boom"))
      tg:spawn(function()
        local _, e = pcall(asched.sleep, 10)
        asched.sleep(2)
        cleaned = true
        error(e, 0)
      end)
    end)
    assert_error_named("TaskGroupError", err)
    assert.is_true(cleaned)
    assert_elapsed(3, t0)
  end)

  it("lists every error in `errors` in the order they were raised, each value unchanged", function()
    local first, body_error, last = {"first"}, {"body"}, {"last"}
    local err = error_of(asched.task_group, function(tg)
      tg:spawn(function()                    -- spawned first, fails last
        pcall(asched.sleep, 10)
        asched.sleep(0.5)
        error(last)
      end)
      tg:spawn(fails_after(1, first))
      tg:spawn(function()
        pcall(asched.sleep, 10)
        asched.sleep(0.3)
        error(42)
      end)
      pcall(asched.sleep, 10)
      asched.sleep(0.2)
      error(body_error)
    end)
    assert_error_named("TaskGroupError", err)
    assert.equals(4, #err.errors)
    assert.equals(first, err.errors[1])
    assert.equals(body_error, err.errors[2])
    assert.equals(42, err.errors[3])            -- a number stays a number
    assert.equals(last, err.errors[4])
  end)

  it("keeps beside each error, in tracebacks[i], the traceback of where errors[i] was raised", function()
    local src = debug.getinfo(1, "S").short_src
    local lines = {}
    local err = error_of(asched.task_group, function(tg)
      tg:spawn(function()
        asched.sleep(1)
        lines[1] = debug.getinfo(1, "l").currentline; error({"child"})
      end)
      pcall(asched.sleep, 10)
      lines[2] = debug.getinfo(1, "l").currentline; error({"body"})
    end)
    assert_error_named("TaskGroupError", err)
    assert.equals(2, #err.errors)
    assert.equals("table", type(err.tracebacks))
    assert.equals(2, #err.tracebacks)
    for i, other in ipairs({2, 1}) do
      local tb = err.tracebacks[i]
      assert.equals("string", type(tb))
      assert.truthy(tb:find("stack traceback:", 1, true), tb)
      assert.truthy(tb:find(src .. ":" .. lines[i] .. ":", 1, true), "traceback " .. i .. " misses its line:\n" .. tb)
      assert.falsy(tb:find(src .. ":" .. lines[other] .. ":", 1, true), "traceback " .. i .. " names the other error's line:\n" .. tb)
    end
  end)

  it("is a TaskGroupError whose tostring is its name and message", function()
    local err = error_of(asched.task_group, function(tg) tg:spawn(fails_after(1, "boom")) end)
    assert_error_named("TaskGroupError", err)
    assert.equals("string", type(err.message))
    assert.equals("TaskGroupError: " .. err.message, tostring(err))
  end)

  it("does not count a child's cancellation as an error", function()
    local t0 = asched.now()
    local victim, bystander
    local got = asched.task_group(function(tg)
      victim = tg:spawn(asched.sleep, 10)
      bystander = tg:spawn(returns_after(2, "bystander"))
      asched.sleep(1)
      victim:cancel("not an error")
      return "fine"
    end)
    assert.equals("fine", got)
    assert.is_true(victim:cancelled())
    assert.equals("bystander", bystander:result())
    assert_elapsed(2, t0)
  end)

  it("does not count a child cancelled by a task outside the group as an error", function()
    local child
    local canceller = asched.spawn(function()
      asched.sleep(1)
      child:cancel()
    end)
    local got = asched.task_group(function(tg)
      child = tg:spawn(asched.sleep, 10)
      return "fine"
    end)
    canceller:await()
    assert.equals("fine", got)
    assert.is_true(child:cancelled())
  end)

  it("raises TaskGroupError even when fn swallows the group's cancellation and returns", function()
    local t0 = asched.now()
    local err = error_of(asched.task_group, function(tg)
      tg:spawn(fails_after(1, "boom"))
      local ok = pcall(asched.sleep, 10)
      assert.is_false(ok)
      asched.sleep(1)
      return "swallowed"
    end)
    assert_error_named("TaskGroupError", err)
    assert.same({"boom"}, err.errors)
    assert_elapsed(2, t0)
  end)

  it("leaves the caller with no cancellation requested once it has raised TaskGroupError", function()
    local t0 = asched.now()
    assert_error_named("TaskGroupError", error_of(asched.task_group, function(tg)
      tg:spawn(fails_after(1, "boom"))
      asched.sleep(10)
    end))
    assert.equals(0, asched.current_task():cancelling())
    assert.equals("slept", asched.sleep(1, "slept"))
    assert_elapsed(2, t0)
  end)
end)

describe("tg:cancel()", function()
  after_each(helpers.cancel_leftovers)

  it("cancels fn at its suspension point and every child; task_group returns no values", function()
    local t0 = asched.now()
    local log = {}
    local children = {}
    local got = table.pack(asched.task_group(function(tg)
      children[1] = tg:spawn(notes_cancel(log, 1, 10))
      children[2] = tg:spawn(notes_cancel(log, 2, 20))
      asched.sleep(1)
      tg:cancel()
      log.after_cancel = true                -- the call itself does not raise
      notes_cancel(log, "body", 10)()
      log.body_went_on = true
      return "dropped"
    end))
    assert.equals(0, got.n)
    assert.is_true(log.after_cancel)
    assert.equals("CancelledError", log.body.name)
    assert.is_nil(log.body_went_on)
    for i = 1, 2 do
      assert.is_true(children[i]:cancelled())
      assert_elapsed(1, t0, log[i].at)
    end
    assert_elapsed(1, t0)
  end)

  it("called by a child after fn returned: the other children are cancelled, and no values", function()
    local t0 = asched.now()
    local other
    local got = table.pack(asched.task_group(function(tg)
      tg:spawn(function() asched.sleep(1); tg:cancel() end)
      other = tg:spawn(asched.sleep, 10)
      return "body", "values"
    end))
    assert.equals(0, got.n)
    assert.is_true(other:cancelled())
    assert_elapsed(1, t0)
  end)

  it("waits for the children's cleanup", function()
    local t0 = asched.now()
    asched.task_group(function(tg)
      tg:spawn(function()
        local _, e = pcall(asched.sleep, 10)
        asched.sleep(2)
        error(e, 0)
      end)
      asched.sleep(1)
      tg:cancel()
    end)
    assert_elapsed(3, t0)
  end)

  it("leaves the caller with no cancellation requested", function()
    local t0 = asched.now()
    asched.task_group(function(tg)
      tg:spawn(asched.sleep, 10)
      tg:cancel()
      asched.sleep(10)
    end)
    assert.equals(0, asched.current_task():cancelling())
    assert.equals("slept", asched.sleep(1, "slept"))
    assert_elapsed(1, t0)
  end)

  it("still raises TaskGroupError when a cancelled child fails in its cleanup", function()
    local err = error_of(asched.task_group, function(tg)
      tg:spawn(function()
        pcall(asched.sleep, 10)
        error("cleanup failed", 0)
      end)
      asched.sleep(1)
      tg:cancel()
    end)
    assert_error_named("TaskGroupError", err)
    assert.same({"cleanup failed"}, err.errors)
  end)

  it("does nothing once the group has finished", function()
    local kept
    asched.task_group(function(tg) kept = tg end)
    kept:cancel()
    assert.equals(0, asched.current_task():cancelling())
    assert.equals("ok", asched.sleep(0, "ok"))
  end)
end)

describe("cancelling the caller of asched.task_group from outside", function()
  after_each(helpers.cancel_leftovers)

  it("at fn's suspension point cancels every child, waits for them, and raises CancelledError", function()
    local t0 = asched.now()
    local log, children = {}, {}
    local caller = asched.spawn(asched.task_group, function(tg)
      for i = 1, 3 do
        children[i] = tg:spawn(function()
          local _, e = pcall(asched.sleep, 10)
          asched.sleep(i)                    -- cleanup that takes time
          log[i] = asched.now()
          error(e, 0)
        end)
      end
      asched.sleep(10)
    end)
    asched.sleep(1)
    caller:cancel("from outside")
    local err = error_of(caller.await, caller)
    assert_error_named("CancelledError", err)
    assert.equals("from outside", err.message)
    assert.is_true(caller:cancelled())
    for i = 1, 3 do
      assert.is_true(children[i]:cancelled())
      assert_elapsed(1 + i, t0, log[i])
    end
    assert_elapsed(4, t0)
  end)

  it("while the group waits for its children does the same", function()
    local t0 = asched.now()
    local child
    local caller = asched.spawn(asched.task_group, function(tg)
      child = tg:spawn(function()
        local _, e = pcall(asched.sleep, 10)
        asched.sleep(1)
        error(e, 0)
      end)
      return "body done"
    end)
    asched.sleep(2)
    caller:cancel("while waiting")
    local err = error_of(caller.await, caller)
    assert_error_named("CancelledError", err)
    assert.equals("while waiting", err.message)
    assert.is_true(child:cancelled())
    assert_elapsed(3, t0)
  end)

  it("is never turned into a TaskGroupError made only of cancellations", function()
    local caller = asched.spawn(function()
      return pcall(asched.task_group, function(tg)
        for _ = 1, 3 do tg:spawn(asched.sleep, 10) end
        asched.sleep(10)
      end)
    end)
    asched.sleep(1)
    caller:cancel()
    local ok, err = caller:await()
    assert.is_false(ok)
    assert_error_named("CancelledError", err)
    assert.is_nil(err.errors)
  end)

  it("raises CancelledError even when every child swallows its cancellation and returns", function()
    local child
    local caller = asched.spawn(asched.task_group, function(tg)
      child = tg:spawn(function()
        pcall(asched.sleep, 10)
        return "swallowed"
      end)
    end)
    asched.sleep(1)
    caller:cancel("still cancelled")
    local err = error_of(caller.await, caller)
    assert_error_named("CancelledError", err)
    assert.equals("still cancelled", err.message)
    assert.equals("swallowed", child:result())
  end)

  it("cancelled again while the children clean up, still waits for every child", function()
    local t0 = asched.now()
    local child
    local caller = asched.spawn(asched.task_group, function(tg)
      child = tg:spawn(function()
        local _, e = pcall(asched.sleep, 10)
        pcall(asched.sleep, 3)               -- the second cancel lands here
        asched.sleep(3)
        error(e, 0)
      end)
    end)
    asched.sleep(1)
    caller:cancel("first")
    asched.sleep(1)
    caller:cancel("second")
    assert_error_named("CancelledError", error_of(caller.await, caller))
    assert.is_true(child:done())
    assert_elapsed(7, t0)
  end)

  it("after tg:cancel(), an outside cancel landing in the cleanup is still raised as CancelledError", function()
    local caller = asched.spawn(asched.task_group, function(tg)
      tg:spawn(function()
        local _, e = pcall(asched.sleep, 10)
        asched.sleep(2)                      -- cleanup; the outside cancel comes meanwhile
        error(e, 0)
      end)
      asched.sleep(1)
      tg:cancel()
      asched.sleep(10)
    end)
    asched.sleep(1.5)
    caller:cancel("outside")
    local err = error_of(caller.await, caller)
    assert_error_named("CancelledError", err)
    assert.equals("outside", err.message)
  end)

  it("meeting child errors raises TaskGroupError; the cancellation stays requested for the next suspension", function()
    local t0 = asched.now()
    local caller = asched.spawn(function()
      local ok, err = pcall(asched.task_group, function(tg)
        tg:spawn(function()
          pcall(asched.sleep, 10)
          asched.sleep(0.5)
          error("cleanup failed", 0)
        end)
        asched.sleep(10)
      end)
      local cancelling = asched.current_task():cancelling()
      local slept, next_err = pcall(asched.sleep, 5)
      return ok, err, cancelling, slept, next_err, asched.now()
    end)
    asched.sleep(1)
    caller:cancel("from outside")
    local ok, err, cancelling, slept, next_err, at = caller:await()
    assert.is_false(ok)
    assert_error_named("TaskGroupError", err)
    assert.same({"cleanup failed"}, err.errors)
    assert.is_true(cancelling >= 1, "cancelling() is " .. tostring(cancelling))
    assert.is_false(slept)
    assert_error_named("CancelledError", next_err)
    assert_elapsed(1.5, t0, at)                -- delivered at once, not after the sleep
  end)
end)

describe("asched.task_group and the deadline scopes", function()
  after_each(helpers.cancel_leftovers)

  it("inside asched.timeout: an expiry while the group waits cancels the children and raises TimeoutError", function()
    local t0 = asched.now()
    local child
    local err = error_of(asched.timeout, 1, asched.task_group, function(tg)
      child = tg:spawn(asched.sleep, 10)
    end)
    assert_error_named("TimeoutError", err)
    assert.is_true(child:cancelled())
    assert.equals(0, asched.current_task():cancelling())
    assert_elapsed(1, t0)
  end)

  it("inside asched.timeout: an expiry in fn cancels the children and raises TimeoutError", function()
    local child
    local err = error_of(asched.timeout, 1, asched.task_group, function(tg)
      child = tg:spawn(asched.sleep, 10)
      asched.sleep(5)
    end)
    assert_error_named("TimeoutError", err)
    assert.is_true(child:cancelled())
    assert.equals(0, asched.current_task():cancelling())
  end)

  it("inside asched.move_on_after: an expiry makes it return false", function()
    local child
    local got = table.pack(asched.move_on_after(1, asched.task_group, function(tg)
      child = tg:spawn(asched.sleep, 10)
    end))
    assert.same({n = 1, false}, got)
    assert.is_true(child:cancelled())
    assert.equals(0, asched.current_task():cancelling())
  end)

  it("a timeout that expires inside fn is fn's own business: the group goes on", function()
    local t0 = asched.now()
    local got = table.pack(asched.task_group(function(tg)
      tg:spawn(asched.sleep, 2)
      local ok, e = pcall(asched.timeout, 1, asched.sleep, 5)
      return ok, e.name
    end))
    assert.same({n = 2, false, "TimeoutError"}, got)
    assert.equals(0, asched.current_task():cancelling())
    assert_elapsed(2, t0)
  end)

  it("a child's own TimeoutError is one of the group's errors", function()
    local err = error_of(asched.task_group, function(tg)
      tg:spawn(asched.timeout, 1, asched.sleep, 5)
    end)
    assert_error_named("TaskGroupError", err)
    assert.equals(1, #err.errors)
    assert_error_named("TimeoutError", err.errors[1])
  end)
end)

describe("tg:spawn when the group cannot take a child", function()
  after_each(helpers.cancel_leftovers)

  it("raises RuntimeError after the group finished; the function never runs", function()
    local kept
    asched.task_group(function(tg) kept = tg end)
    local ran = false
    local err = error_of(kept.spawn, kept, function() ran = true end)
    assert_error_named("RuntimeError", err)
    asched.sleep(0)
    assert.is_false(ran)
  end)

  it("raises RuntimeError after the group failed", function()
    local kept
    pcall(asched.task_group, function(tg)
      kept = tg
      error("boom", 0)
    end)
    assert_error_named("RuntimeError", error_of(kept.spawn, kept, function() end))
  end)

  it("raises RuntimeError while the group is being cancelled by a child's error", function()
    local spawn_err
    local err = error_of(asched.task_group, function(tg)
      tg:spawn(fails_after(1, "boom"))
      tg:spawn(function()
        local _, e = pcall(asched.sleep, 10)
        spawn_err = select(2, pcall(tg.spawn, tg, function() end))
        error(e, 0)
      end)
    end)
    assert_error_named("TaskGroupError", err)
    assert_error_named("RuntimeError", spawn_err)
  end)

  it("raises RuntimeError in fn after tg:cancel()", function()
    local spawn_err
    asched.task_group(function(tg)
      tg:cancel()
      spawn_err = select(2, pcall(tg.spawn, tg, function() end))
    end)
    assert_error_named("RuntimeError", spawn_err)
  end)

  it("raises RuntimeError while the group is being cancelled from outside", function()
    local spawn_err
    local caller = asched.spawn(asched.task_group, function(tg)
      tg:spawn(function()
        local _, e = pcall(asched.sleep, 10)
        spawn_err = select(2, pcall(tg.spawn, tg, function() end))
        error(e, 0)
      end)
      asched.sleep(10)
    end)
    asched.sleep(1)
    caller:cancel()
    assert_error_named("CancelledError", error_of(caller.await, caller))
    assert_error_named("RuntimeError", spawn_err)
  end)
end)

describe("nested asched.task_group calls", function()
  after_each(helpers.cancel_leftovers)

  it("an inner group's error inside a child: the outer TaskGroupError's errors[1] is the inner TaskGroupError", function()
    local boom = {reason = "boom"}
    local err = error_of(asched.task_group, function(outer)
      outer:spawn(function()
        asched.task_group(function(inner) inner:spawn(fails_after(1, boom)) end)
      end)
      outer:spawn(asched.sleep, 10)
    end)
    assert_error_named("TaskGroupError", err)
    assert.equals(1, #err.errors)
    assert_error_named("TaskGroupError", err.errors[1])
    assert.equals(boom, err.errors[1].errors[1])
  end)

  it("an inner group in the body: its TaskGroupError becomes the outer's errors[1]", function()
    local err = error_of(asched.task_group, function(outer)
      outer:spawn(asched.sleep, 10)
      asched.task_group(function(inner) inner:spawn(fails_after(1, "inner boom")) end)
    end)
    assert_error_named("TaskGroupError", err)
    assert.equals(1, #err.errors)
    assert_error_named("TaskGroupError", err.errors[1])
    assert.same({"inner boom"}, err.errors[1].errors)
  end)

  it("an outer child's error cancels the inner group and its children, which add no error", function()
    local t0 = asched.now()
    local grandchild
    local inner_raised
    local err = error_of(asched.task_group, function(outer)
      outer:spawn(fails_after(1, "outer boom"))
      local ok, e = pcall(asched.task_group, function(inner)
        grandchild = inner:spawn(asched.sleep, 10)
        asched.sleep(10)
      end)
      inner_raised = ok or e.name
      error(e, 0)
    end)
    assert_error_named("TaskGroupError", err)
    assert.same({"outer boom"}, err.errors)
    assert.equals("CancelledError", inner_raised)
    assert.is_true(grandchild:cancelled())
    assert_elapsed(1, t0)
  end)

  it("an outside cancellation goes through both groups as a CancelledError", function()
    local grandchild, child
    local caller = asched.spawn(asched.task_group, function(outer)
      child = outer:spawn(asched.sleep, 10)
      asched.task_group(function(inner)
        grandchild = inner:spawn(asched.sleep, 10)
        asched.sleep(10)
      end)
    end)
    asched.sleep(1)
    caller:cancel("stop")
    local err = error_of(caller.await, caller)
    assert_error_named("CancelledError", err)
    assert.equals("stop", err.message)
    assert.is_true(child:cancelled())
    assert.is_true(grandchild:cancelled())
  end)
end)

describe("a deadlock inside asched.task_group", function()
  after_each(helpers.cancel_leftovers)

  it("passes through unwrapped, and its report names the children the group waits for", function()
    local never = asched.event()
    local err = error_of(asched.task_group, function(tg)
      tg:spawn(never.wait, never).name = "alpha"
      tg:spawn(never.wait, never).name = "beta"
    end)
    assert_error_named("DeadlockError", err)
    assert.matches("waiting for its task group: alpha, beta", err.message, 1, true)
  end)
end)

describe("<close> variables under asched.task_group", function()
  after_each(helpers.cancel_leftovers)

  it("of children cancelled by a sibling's error run, with the CancelledError", function()
    local closed = {}
    pcall(asched.task_group, function(tg)
      for i = 1, 2 do
        tg:spawn(function()
          local guard <close> = on_close(function(e) closed[i] = e end)
          asched.sleep(10)
        end)
      end
      tg:spawn(fails_after(1, "boom"))
    end)
    assert_error_named("CancelledError", closed[1])
    assert_error_named("CancelledError", closed[2])
  end)

  it("of fn and the children run when the caller is cancelled from outside", function()
    local closed = {}
    local caller = asched.spawn(asched.task_group, function(tg)
      tg:spawn(function()
        local guard <close> = on_close(function(e) closed.child = e end)
        asched.sleep(10)
      end)
      local guard <close> = on_close(function(e) closed.body = e end)
      asched.sleep(10)
    end)
    asched.sleep(1)
    caller:cancel()
    pcall(caller.await, caller)
    assert_error_named("CancelledError", closed.child)
    assert_error_named("CancelledError", closed.body)
  end)

  it("of children cancelled by tg:cancel() run", function()
    local closed
    asched.task_group(function(tg)
      tg:spawn(function()
        local guard <close> = on_close(function(e) closed = e end)
        asched.sleep(10)
      end)
      asched.sleep(1)
      tg:cancel()
    end)
    assert_error_named("CancelledError", closed)
  end)
end)

describe("asched.task_group argument errors", function()
  after_each(helpers.cancel_leftovers)
  local message_of = helpers.argument_error_message

  it("a fn that is not a function reads as Lua's own argument error", function()
    local err = message_of(error_of(function() asched.task_group(1) end))
    assert.equals("bad argument #1 to 'task_group' (function expected, got number)", err)
  end)

  it("a missing fn is an argument error", function()
    local err = message_of(error_of(function() asched.task_group() end))
    assert.matches("^bad argument #1 to 'task_group' %(function expected, got no value%)$", err)
  end)

  it("tg:spawn with a non-function reads as Lua's own argument error, and the group goes on", function()
    local err
    local got = asched.task_group(function(tg)
      err = message_of(error_of(function() tg:spawn(1) end))
      return "went on"
    end)
    assert.equals("bad argument #1 to 'spawn' (function expected, got number)", err)
    assert.equals("went on", got)
  end)
end)
