-- asyncio_taskgroups_spec.lua -- CPython's Lib/test/test_asyncio/test_taskgroups.py
-- as Python 3.13.0 ships it (a superset of 3.12.1's), translated case by case: TaskGroup -> asched.task_group(function(tg)
-- ... end), create_task -> tg:spawn, ExceptionGroup -> TaskGroupError with .errors,
-- an exception class -> an error table {kind = "ZeroDivisionError"}. Each `it` names
-- the test it translates. Cases with no Lua counterpart (BaseException and
-- KeyboardInterrupt, contextvars, entering a TaskGroup object twice, gc referrers,
-- eager task factories) are left out; see the list at the end of this file.
local helpers = require("spec.helpers")
local error_of, assert_error_named = helpers.error_of, helpers.assert_error_named
local assert_elapsed = helpers.assert_elapsed

-- Raises an error standing for an instance of the Python exception class `kind`.
local function raise(kind)
  error({kind = kind}, 0)
end

-- The set of kinds in a TaskGroupError's errors (get_error_types), as a sorted
-- list; a nested TaskGroupError counts as "TaskGroupError".
local function kinds(eg)
  assert_error_named("TaskGroupError", eg)
  local set, list = {}, {}
  for _, e in ipairs(eg.errors) do
    local kind = type(e) == "table" and (e.kind or e.name) or type(e)
    if not set[kind] then
      set[kind] = true
      list[#list + 1] = kind
    end
  end
  table.sort(list)
  return list
end

local function crash_after(seconds, kind)
  return function()
    asched.sleep(seconds)
    raise(kind)
  end
end

local function sleeps_then_returns(seconds, value)
  return function()
    asched.sleep(seconds)
    return value
  end
end

describe("CPython test_taskgroups.py", function()
  after_each(helpers.cancel_leftovers)

  it("test_taskgroup_01: the children's results are there once the group returns", function()
    local t1, t2
    asched.task_group(function(g)
      t1 = g:spawn(sleeps_then_returns(0.1, 42))
      t2 = g:spawn(sleeps_then_returns(0.2, 11))
    end)
    assert.equals(42, t1:result())
    assert.equals(11, t2:result())
  end)

  it("test_taskgroup_02: a child spawned after the body slept is waited for too", function()
    local t1, t2
    asched.task_group(function(g)
      t1 = g:spawn(sleeps_then_returns(0.1, 42))
      asched.sleep(0.15)
      t2 = g:spawn(sleeps_then_returns(0.2, 11))
    end)
    assert.equals(42, t1:result())
    assert.equals(11, t2:result())
  end)

  it("test_taskgroup_03: cancelling one child explicitly lets everything else go on", function()
    local t1, t2
    asched.task_group(function(g)
      t1 = g:spawn(sleeps_then_returns(1, 42))
      asched.sleep(0.15)
      t1:cancel()
      t2 = g:spawn(sleeps_then_returns(0.2, 11))
    end)
    assert.is_true(t1:cancelled())
    assert.equals(11, t2:result())
  end)

  it("test_taskgroup_04: a failing child cancels its sibling; the code after the group never runs", function()
    local NUM, t2_cancel, t2 = 0, false, nil
    local function foo2()
      local ok, e = pcall(asched.sleep, 1)
      if not ok then
        t2_cancel = true
        error(e, 0)
      end
      NUM = NUM + 1
    end
    local runner = asched.spawn(function()
      asched.task_group(function(g)
        g:spawn(crash_after(0.1, "ZeroDivisionError"))
        t2 = g:spawn(foo2)
      end)
      NUM = NUM + 10
    end)
    local err = error_of(runner.await, runner)
    assert.same({"ZeroDivisionError"}, kinds(err))
    assert.equals(0, NUM)
    assert.is_true(t2_cancel)
    assert.is_true(t2:cancelled())
  end)

  it("test_cancel_children_on_child_error: the other children and the body are cancelled", function()
    local NUM, t2_cancel, runner_cancel = 0, false, false
    local function foo2()
      local ok, e = pcall(asched.sleep, 5)
      if not ok then
        t2_cancel = true
        error(e, 0)
      end
      NUM = NUM + 1
    end
    local runner = asched.spawn(function()
      asched.task_group(function(g)
        for _ = 1, 3 do g:spawn(crash_after(0.1, "ZeroDivisionError")) end
        g:spawn(foo2)
        local ok, e = pcall(asched.sleep, 10)
        if not ok then
          runner_cancel = true
          error(e, 0)
        end
      end)
      NUM = NUM + 10
    end)
    local err = error_of(runner.await, runner)
    assert.same({"ZeroDivisionError"}, kinds(err))
    assert.equals(0, NUM)
    assert.is_true(t2_cancel)
    assert.is_true(runner_cancel)
  end)

  it("test_cancellation: cancelling the caller cancels every child and raises CancelledError", function()
    local NUM = 0
    local function foo()
      local ok, e = pcall(asched.sleep, 5)
      if not ok then
        NUM = NUM + 1
        error(e, 0)
      end
    end
    local r = asched.spawn(asched.task_group, function(g)
      for _ = 1, 5 do g:spawn(foo) end
    end)
    asched.sleep(0.1)
    assert.is_false(r:done())
    r:cancel()
    assert_error_named("CancelledError", error_of(r.await, r))
    assert.equals(5, NUM)
  end)

  it("test_taskgroup_07: the body and every child see the cancellation", function()
    local NUM = 0
    local function foo()
      local ok, e = pcall(asched.sleep, 5)
      if not ok then
        NUM = NUM + 1
        error(e, 0)
      end
    end
    local r = asched.spawn(asched.task_group, function(g)
      for _ = 1, 5 do g:spawn(foo) end
      local ok, e = pcall(asched.sleep, 10)
      if not ok then
        NUM = NUM + 10
        error(e, 0)
      end
    end)
    asched.sleep(0.1)
    assert.is_false(r:done())
    r:cancel()
    assert_error_named("CancelledError", error_of(r.await, r))
    assert.equals(15, NUM)
  end)

  it("test_taskgroup_08: children failing in their cleanup after an outside cancel: TaskGroupError", function()
    local function foo()
      pcall(asched.sleep, 10)
      raise("ZeroDivisionError")             -- the `finally:` of CPython's test
    end
    local r = asched.spawn(asched.task_group, function(g)
      for _ = 1, 5 do g:spawn(foo) end
      asched.sleep(10)
    end)
    asched.sleep(0.1)
    assert.is_false(r:done())
    r:cancel()
    assert.same({"ZeroDivisionError"}, kinds(error_of(r.await, r)))
  end)

  it("test_taskgroup_09: the body's error after a sleep cancels the children", function()
    local t1, t2
    local err = error_of(asched.task_group, function(g)
      t1 = g:spawn(sleeps_then_returns(1, 42))
      t2 = g:spawn(sleeps_then_returns(2, 11))
      asched.sleep(0.1)
      raise("ZeroDivisionError")
    end)
    assert.same({"ZeroDivisionError"}, kinds(err))
    assert.is_true(t1:cancelled())
    assert.is_true(t2:cancelled())
  end)

  it("test_taskgroup_10: the body's error before any sleep cancels the children", function()
    local t1, t2
    local err = error_of(asched.task_group, function(g)
      t1 = g:spawn(sleeps_then_returns(1, 42))
      t2 = g:spawn(sleeps_then_returns(2, 11))
      raise("ZeroDivisionError")
    end)
    assert.same({"ZeroDivisionError"}, kinds(err))
    assert.is_true(t1:cancelled())
    assert.is_true(t2:cancelled())
  end)

  it("test_taskgroup_11: the same through two nested groups: the outer's only error is the inner TaskGroupError", function()
    local function foo()
      pcall(asched.sleep, 10)
      raise("ZeroDivisionError")
    end
    local r = asched.spawn(asched.task_group, function()
      asched.task_group(function(g2)
        for _ = 1, 5 do g2:spawn(foo) end
        asched.sleep(10)
      end)
    end)
    asched.sleep(0.1)
    assert.is_false(r:done())
    r:cancel()
    local err = error_of(r.await, r)
    assert.same({"TaskGroupError"}, kinds(err))
    assert.same({"ZeroDivisionError"}, kinds(err.errors[1]))
  end)

  it("test_taskgroup_12: the same with a sleeping child in the outer group", function()
    local function foo()
      pcall(asched.sleep, 10)
      raise("ZeroDivisionError")
    end
    local r = asched.spawn(asched.task_group, function(g1)
      g1:spawn(asched.sleep, 10)
      asched.task_group(function(g2)
        for _ = 1, 5 do g2:spawn(foo) end
        asched.sleep(10)
      end)
    end)
    asched.sleep(0.1)
    assert.is_false(r:done())
    r:cancel()
    local err = error_of(r.await, r)
    assert.same({"TaskGroupError"}, kinds(err))
    assert.same({"ZeroDivisionError"}, kinds(err.errors[1]))
  end)

  it("test_taskgroup_13: an outer child's error cancels the inner group, which adds no error", function()
    local r = asched.spawn(asched.task_group, function(g1)
      g1:spawn(crash_after(0.1, "ValueError"))
      asched.task_group(function(g2) g2:spawn(crash_after(10, "ValueError")) end)
    end)
    assert.same({"ValueError"}, kinds(error_of(r.await, r)))
  end)

  it("test_taskgroup_14: an inner group's error is one TaskGroupError among the outer's errors", function()
    local r = asched.spawn(asched.task_group, function(g1)
      g1:spawn(crash_after(10, "ValueError"))
      asched.task_group(function(g2) g2:spawn(crash_after(0.1, "ValueError")) end)
    end)
    local err = error_of(r.await, r)
    assert.same({"TaskGroupError"}, kinds(err))
    assert.same({"ValueError"}, kinds(err.errors[1]))
  end)

  it("test_taskgroup_15: a child failing while the body handles an outside cancel: TaskGroupError", function()
    local t0 = asched.now()
    local r = asched.spawn(asched.task_group, function(g1)
      g1:spawn(crash_after(0.3, "ZeroDivisionError"))
      local ok, e = pcall(asched.sleep, 10)
      if not ok then
        asched.sleep(0.5)                    -- the group's own cancel lands here, at 0.3
        error(e, 0)
      end
    end)
    asched.sleep(0.1)
    assert.is_false(r:done())
    r:cancel()
    assert.same({"ZeroDivisionError"}, kinds(error_of(r.await, r)))
    assert_elapsed(0.3, t0)
  end)

  it("test_taskgroup_16: the same, with the group in a task the cancelled task awaits", function()
    -- asyncio's awaiter waits for the awaited task it passed the cancel on to and
    -- gets its ExceptionGroup; API.md has the awaiter see its CancelledError at
    -- once (Task:cancel), so the group's TaskGroupError is the awaited task's.
    local nested
    local function nested_runner()
      asched.task_group(function(g1)
        g1:spawn(crash_after(0.3, "ZeroDivisionError"))
        local ok, e = pcall(asched.sleep, 10)
        if not ok then
          asched.sleep(0.5)
          error(e, 0)
        end
      end)
    end
    local r = asched.spawn(function()
      nested = asched.spawn(nested_runner)
      return nested:await()
    end)
    asched.sleep(0.1)
    assert.is_false(r:done())
    r:cancel()
    assert_error_named("CancelledError", error_of(r.await, r))
    assert.same({"ZeroDivisionError"}, kinds(error_of(nested.await, nested)))
  end)

  it("test_taskgroup_17: a group with no children passes the cancellation through its body", function()
    local NUM = 0
    local r = asched.spawn(asched.task_group, function()
      local ok, e = pcall(asched.sleep, 10)
      if not ok then
        NUM = NUM + 10
        error(e, 0)
      end
    end)
    asched.sleep(0.1)
    assert.is_false(r:done())
    r:cancel()
    assert_error_named("CancelledError", error_of(r.await, r))
    assert.equals(10, NUM)
  end)

  it("test_taskgroup_18: a body that turns the cancellation into an error raises TaskGroupError", function()
    local NUM = 0
    local r = asched.spawn(asched.task_group, function()
      local ok = pcall(asched.sleep, 10)
      if not ok then
        NUM = NUM + 10
        raise("MyExc")
      end
    end)
    asched.sleep(0.1)
    assert.is_false(r:done())
    r:cancel()
    assert.same({"MyExc"}, kinds(error_of(r.await, r)))
    assert.equals(10, NUM)
  end)

  it("test_taskgroup_19: an error raised in the body's cleanup joins the child's", function()
    local function nested()
      pcall(asched.sleep, 10)
      raise("MyExc")                         -- the `finally:` of CPython's test
    end
    local r = asched.spawn(asched.task_group, function(g)
      g:spawn(crash_after(0.1, "ZeroDivisionError"))
      nested()
    end)
    assert.same({"MyExc", "ZeroDivisionError"}, kinds(error_of(r.await, r)))
  end)

  it("test_taskgroup_22: cancelling the caller while it waits for the children raises CancelledError", function()
    local r = asched.spawn(asched.task_group, function(g)
      g:spawn(sleeps_then_returns(1, 42))
      g:spawn(sleeps_then_returns(2, 11))
    end)
    asched.sleep(0.05)
    r:cancel()
    assert_error_named("CancelledError", error_of(r.await, r))
  end)

  it("test_taskgroup_23: finished children leave the group while it runs", function()
    local children = {}
    local function running()
      local n = 0
      for _, t in ipairs(children) do
        if not t:done() then n = n + 1 end
      end
      return n
    end
    asched.task_group(function(g)
      for count = 0, 9 do
        asched.sleep(0.1)
        children[#children + 1] = g:spawn(asched.sleep, 0.3)
        if count == 5 then assert.is_true(running() < 5) end
      end
      asched.sleep(1.35)
      assert.equals(0, running())
    end)
  end)

  it("test_taskgroup_24: a child may spawn more children into its group", function()
    local grandchildren = {}
    asched.task_group(function(g)
      g:spawn(function()
        asched.sleep(0.1)
        grandchildren[1] = g:spawn(asched.sleep, 0.1)
        grandchildren[2] = g:spawn(asched.sleep, 0.2)
      end)
    end)
    assert.is_true(grandchildren[1]:done())
    assert.is_true(grandchildren[2]:done())
  end)

  it("test_taskgroup_25: a hydra of children spawning children is stopped by one error", function()
    local nhydras = 0
    local function hydra(g)
      nhydras = nhydras + 1
      asched.sleep(0.01)
      g:spawn(hydra, g)
      g:spawn(hydra, g)
    end
    local function hercules()
      while nhydras < 10 do asched.sleep(0.015) end
      raise("ZeroDivisionError")
    end
    local err = error_of(asched.task_group, function(g)
      g:spawn(hydra, g)
      g:spawn(hercules)
    end)
    assert.same({"ZeroDivisionError"}, kinds(err))
    assert.is_true(nhydras >= 10)
  end)

  it("test_taskgroup_task_name and test_name: a child goes by the name assigned to it", function()
    local name
    asched.task_group(function(g)
      local t = g:spawn(function() name = asched.current_task().name end)
      t.name = "example name"
      assert.equals("example name", t.name)
    end)
    assert.equals("example name", name)
  end)

  it("test_taskgroup_no_create_task_after_failure: spawning in a cancelled child raises RuntimeError", function()
    local spawn_failed
    local function coro1()
      asched.sleep(0.001)
      raise("ZeroDivisionError")
    end
    local err = error_of(asched.task_group, function(g)
      g:spawn(coro1)
      g:spawn(function()
        local ok, e = pcall(asched.sleep, 1)
        if not ok then
          local spawned, spawn_err = pcall(g.spawn, g, coro1)
          spawn_failed = not spawned and spawn_err.name
          error(e, 0)
        end
      end)
    end)
    assert.same({"ZeroDivisionError"}, kinds(err))
    assert.equals("RuntimeError", spawn_failed)
  end)

  it("test_taskgroup_context_manager_exit_raises: an error from a <close> in the body joins the child's", function()
    local task = asched.current_task()
    local err = error_of(asched.task_group, function(tg)
      local database <close> = setmetatable({}, {__close = function() raise("CustomException") end})
      tg:spawn(raise, "CustomException")
      asched.sleep(1)
    end)
    assert.same({"CustomException"}, kinds(err))
    assert.equals(2, #err.errors)
    assert.equals(0, task:cancelling())
  end)

  it("test_taskgroup_finished and test_coro_closed_when_tg_closed: spawn after the end raises RuntimeError", function()
    local tg
    asched.task_group(function(g) tg = g end)
    local ran = false
    assert_error_named("RuntimeError", error_of(tg.spawn, tg, function() ran = true end))
    asched.sleep(0)
    assert.is_false(ran)
  end)

  it("test_cancelling_level_preserved: a group that cancelled its caller takes the request back", function()
    local ok, err = pcall(asched.task_group, function(tg)
      tg:spawn(crash_after(0, "RuntimeError"))
    end)
    assert.is_false(ok)
    assert.same({"RuntimeError"}, kinds(err))
    assert.equals(0, asched.current_task():cancelling())
  end)

  it("test_nested_groups_both_cancelled: each group takes back only its own request", function()
    local counts = {}
    local outer_err = error_of(asched.task_group, function(outer_tg)
      local inner_err = error_of(asched.task_group, function(inner_tg)
        inner_tg:spawn(crash_after(0, "RuntimeError"))
        outer_tg:spawn(crash_after(0, "ValueError"))
      end)
      assert.same({"RuntimeError"}, kinds(inner_err))
      counts.inside = asched.current_task():cancelling()
    end)
    assert.same({"ValueError"}, kinds(outer_err))
    assert.equals(1, counts.inside)
    assert.equals(0, asched.current_task():cancelling())
  end)

  it("test_error_and_cancel: an outside cancel meeting a child's error stays requested after the TaskGroupError", function()
    local event = asched.event()
    local log = {}
    local function inner()
      local ok, err = pcall(asched.task_group, function(tg)
        tg:spawn(function()
          event:set()
          asched.sleep(0)
          raise("RuntimeError")
        end)
        asched.sleep(1)
        log.group_sleep_went_on = true
      end)
      log.group_raised = not ok and kinds(err)
      log.cancelling = asched.current_task():cancelling()
      asched.sleep(1)
      log.sleep_after_group_went_on = true
    end
    local t = asched.spawn(inner)
    event:wait()
    assert.equals(0, t:cancelling())
    t:cancel()
    assert.equals(1, t:cancelling())
    assert_error_named("CancelledError", error_of(t.await, t))
    assert.is_true(t:cancelled())
    assert.same({"RuntimeError"}, log.group_raised)
    assert.equals(1, log.cancelling)
    assert.is_nil(log.group_sleep_went_on)
    assert.is_nil(log.sleep_after_group_went_on)
  end)

  it("test_cancels_task_if_created_during_creation (CPython 3.14, gh-128550): a child spawned by a child fails and cancels its spawner", function()
    local ran = false
    local err = error_of(asched.task_group, function(tg)
      tg:spawn(function()
        tg:spawn(raise, "MyError")
        local ok, e = pcall(function()
          asched.sleep(0)
          asched.sleep(0)
        end)
        assert(not ok and e.name == "CancelledError", "the spawner was not cancelled")
        ran = true
      end)
    end)
    assert.is_true(ran)
    assert.same({"MyError"}, kinds(err))
  end)

  it("test_cancellation_does_not_leak_out_of_tg (CPython 3.14): the caller suspends normally after a group's error", function()
    local ok, err = pcall(asched.task_group, function(tg) tg:spawn(raise, "MyError") end)
    assert.is_false(ok)
    assert.same({"MyError"}, kinds(err))
    assert.equals("fine", asched.sleep(0, "fine"))
  end)
end)

-- Left out, with no Lua counterpart:
--   test_taskgroup_20, 20a, _21, 21a: KeyboardInterrupt and BaseException groups
--     (Lua errors have no such hierarchy; 20a and 21a reduce to test_taskgroup_19);
--   test_taskgroup_task_context: contextvars;
--   test_taskgroup_already_entered, _double_enter, _not_entered: a TaskGroup object
--     entered by `async with` (task_group is one call: it cannot be entered twice);
--   test_taskgroup_without_parent_task: covered by structured_task_group_spec.lua
--     ("raises 'not inside a task' when called outside a task");
--   test_exception_refcycles_* (3.14): gc.get_referrers;
--   TestEagerTaskTaskGroup (3.14): eager task factories (tasks here never start inside spawn).
