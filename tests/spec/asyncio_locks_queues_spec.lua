-- asyncio_locks_queues_spec.lua -- CPython's own tests, translated: BarrierTests of
-- Lib/test/test_asyncio/test_locks.py (3.11+), and of Lib/test/test_asyncio/
-- test_queues.py (3.13) LifoQueueTests, PriorityQueueTests, the join tests of the
-- LIFO and priority queues and the shutdown tests of all three queue kinds.
-- asyncio.Barrier -> asched.barrier, LifoQueue -> asched.lifo_queue, PriorityQueue
-- -> asched.priority_queue (a tuple item becomes put(priority, value)),
-- BrokenBarrierError / QueueShutDown -> error objects of those names. Each `it`
-- names the CPython test it translates. Left out (no counterpart in the Lua API):
-- repr/str/_format tests, `await barrier`, barrier.__aenter__ (async with) beyond
-- the plain wait it stands for, and the tests that watch asyncio's draining phase
-- or its private _count (asched has no draining phase; see the "adapted" case).
local helpers = require("spec.helpers")
local sync = require("spec.sync_helpers")
local error_of, assert_error_named = helpers.error_of, helpers.assert_error_named
local spawn_each = sync.spawn_each

local function is_named(name, err)
  return type(err) == "table" and err.name == name
end

-- Awaits every task; returns their first results.
local function await_all(tasks)
  local r = {}
  for i, t in ipairs(tasks) do r[i] = t:await() end
  return r
end

-- gather_tasks(n, coro) of BarrierTests: n tasks running fn, awaited; their results.
local function gather_tasks(n, fn)
  return await_all(spawn_each(n, fn))
end

local function range(n)
  local r = {}
  for i = 1, n do r[i] = i - 1 end
  return r
end

local function sorted(list)
  table.sort(list)
  return list
end

describe("CPython test_locks.py BarrierTests", function()
  after_each(helpers.cancel_leftovers)
  local N = 5

  it("test_barrier_parties", function()
    assert.matches("^bad argument #1 to 'barrier'", error_of(asched.barrier, 0))
    assert.matches("^bad argument #1 to 'barrier'", error_of(asched.barrier, -4))
    assert.equals(N, asched.barrier(N).parties)
  end)

  it("test_context_manager (async with barrier as i -> i = barrier:wait())", function()
    local barrier = asched.barrier(3)
    local results = {}
    gather_tasks(3, function()
      local i = barrier:wait()
      results[#results + 1] = i
    end)
    assert.same(range(3), sorted(results))
    assert.equals(0, barrier:n_waiting())
    assert.is_false(barrier:broken())
  end)

  it("test_filling_one_task", function()
    local barrier = asched.barrier(1)
    local function f()
      barrier:wait()
      return true
    end
    assert.is_true(f())
    assert.equals(0, barrier:n_waiting())
    assert.is_false(barrier:broken())
  end)

  it("test_filling_one_task_twice", function()
    local barrier = asched.barrier(1)
    local t1 = asched.spawn(barrier.wait, barrier)
    asched.sleep(0)
    assert.equals(0, barrier:n_waiting())
    local t2 = asched.spawn(barrier.wait, barrier)
    asched.sleep(0)
    assert.equals(t1:result(), t2:result())
    assert.equals(t1:done(), t2:done())
    assert.equals(0, barrier:n_waiting())
    assert.is_false(barrier:broken())
  end)

  it("test_filling_task_by_task", function()
    local barrier = asched.barrier(3)
    local t1 = asched.spawn(barrier.wait, barrier)
    asched.sleep(0)
    assert.equals(1, barrier:n_waiting())
    local t2 = asched.spawn(barrier.wait, barrier)
    asched.sleep(0)
    assert.equals(2, barrier:n_waiting())
    local t3 = asched.spawn(barrier.wait, barrier)
    asched.sleep(0)
    asched.wait({t1, t2, t3})
    assert.equals(0, barrier:n_waiting())
    assert.is_false(barrier:broken())
  end)

  it("test_filling_tasks_wait_twice", function()
    local barrier = asched.barrier(N)
    local results = {}
    gather_tasks(N, function()
      barrier:wait()
      results[#results + 1] = true
      barrier:wait()
      results[#results + 1] = false
    end)
    local trues, falses = 0, 0
    for _, r in ipairs(results) do
      if r then trues = trues + 1 else falses = falses + 1 end
    end
    assert.equals(N * 2, #results)
    assert.equals(N, trues)
    assert.equals(N, falses)
    assert.equals(0, barrier:n_waiting())
    assert.is_false(barrier:broken())
  end)

  it("test_filling_tasks_check_return_value", function()
    local barrier = asched.barrier(N)
    local results1, results2 = 0, 0
    local res = gather_tasks(N, function()
      barrier:wait()
      results1 = results1 + 1
      local i = barrier:wait()
      results2 = results2 + 1
      return i
    end)
    assert.equals(N, results1)
    assert.equals(N, results2)
    assert.same(range(N), sorted(res))
    assert.equals(0, barrier:n_waiting())
    assert.is_false(barrier:broken())
  end)

  it("test_blocking_tasks_while_draining (tasks waiting again right away do not deadlock the others)", function()
    local rewait = 2
    local barrier = asched.barrier(N)
    local barrier_nowaiting = asched.barrier(N - rewait)
    local rewait_n = rewait
    -- a success means that barrier_nowaiting was waited for exactly N-rewait=3 times
    gather_tasks(N, function()
      barrier:wait()
      if rewait_n > 0 then
        rewait_n = rewait_n - 1
        barrier:wait()
      else
        barrier_nowaiting:wait()
        barrier:wait()
      end
    end)
    assert.equals(0, barrier:n_waiting())
    assert.equals(0, barrier_nowaiting:n_waiting())
  end)

  it("test_filling_tasks_cancel_one", function()
    local barrier = asched.barrier(3)
    local results = 0
    local function coro()
      barrier:wait()
      results = results + 1
    end
    local t1 = asched.spawn(coro)
    asched.sleep(0)
    assert.equals(1, barrier:n_waiting())
    local t2 = asched.spawn(coro)
    asched.sleep(0)
    assert.equals(2, barrier:n_waiting())
    t1:cancel()
    asched.sleep(0)
    assert.equals(1, barrier:n_waiting())
    assert_error_named("CancelledError", error_of(t1.await, t1))
    assert.is_true(t1:cancelled())
    local t3 = asched.spawn(coro)
    asched.sleep(0)
    assert.equals(2, barrier:n_waiting())
    local t4 = asched.spawn(coro)
    asched.gather({t2, t3, t4})
    assert.equals(3, results)
    assert.equals(0, barrier:n_waiting())
    assert.is_false(barrier:broken())
  end)

  it("test_reset_barrier", function()
    local barrier = asched.barrier(1)
    asched.spawn(function() barrier:reset() end)
    asched.sleep(0)
    assert.equals(0, barrier:n_waiting())
    assert.is_false(barrier:broken())
  end)

  it("test_reset_barrier_while_tasks_waiting", function()
    local barrier = asched.barrier(N)
    local results = 0
    local tasks = spawn_each(N - 1, function()
      local ok, err = pcall(barrier.wait, barrier)
      if not ok and is_named("BrokenBarrierError", err) then results = results + 1 end
    end)
    asched.sleep(0)
    asched.spawn(function() barrier:reset() end)
    asched.gather(tasks)
    assert.equals(N - 1, results)
    assert.equals(0, barrier:n_waiting())
    assert.is_false(barrier:broken())
  end)

  it("test_reset_barrier_while_tasks_waiting_and_waiting_again", function()
    local barrier = asched.barrier(N)
    local results1, results2 = 0, 0
    local tasks = spawn_each(N - 1, function()
      local ok, err = pcall(barrier.wait, barrier)
      if not ok and is_named("BrokenBarrierError", err) then results1 = results1 + 1 end
      -- finally:
      barrier:wait()
      results2 = results2 + 1
    end)
    asched.spawn(function() barrier:reset() end)
    asched.sleep(0)
    asched.spawn(function()
      barrier:wait()
      results2 = results2 + 1
    end)
    asched.gather(tasks)
    assert.is_false(barrier:broken())
    assert.equals(N - 1, results1)
    assert.equals(N, results2)
    assert.equals(0, barrier:n_waiting())
  end)

  it("test_abort_barrier", function()
    local barrier = asched.barrier(1)
    asched.spawn(function() barrier:abort() end)
    asched.sleep(0)
    assert.equals(0, barrier:n_waiting())
    assert.is_true(barrier:broken())
  end)

  it("test_abort_barrier_when_tasks_half_draining_half_blocking, adapted: a released round is final (no draining phase)", function()
    -- In asyncio the tasks of the released round that have not resumed yet are
    -- still draining, and abort() breaks them too (results1 == N//2). asched
    -- refills at once (API.md): they keep their indices, so results1 is empty;
    -- the tasks that waited again in the next round are broken, as in asyncio.
    local barrier = asched.barrier(N)
    local results1, results2 = 0, 0
    local blocking_tasks = N // 2
    local count = 0
    gather_tasks(N, function()
      local ok, err = pcall(barrier.wait, barrier)
      if not ok then
        assert(is_named("BrokenBarrierError", err), tostring(err))
        results1 = results1 + 1
        return
      end
      count = count + 1
      if count > blocking_tasks then
        barrier:abort()
      else
        local ok2, err2 = pcall(barrier.wait, barrier)
        if not ok2 and is_named("BrokenBarrierError", err2) then results2 = results2 + 1 end
      end
    end)
    assert.is_true(barrier:broken())
    assert.equals(0, results1)
    assert.equals(N - blocking_tasks - 1, results2)
    assert.equals(0, barrier:n_waiting())
  end)

  it("test_abort_barrier_when_exception", function()
    local barrier = asched.barrier(N)
    local results1, results2 = 0, 0
    gather_tasks(N, function()
      local ok, err = pcall(function()
        local i = barrier:wait()
        if i == N // 2 then error("RuntimeError", 0) end
        barrier:wait()
        results1 = results1 + 1
      end)
      if not ok then
        if is_named("BrokenBarrierError", err) then
          results2 = results2 + 1
        elseif err == "RuntimeError" then
          barrier:abort()
        else
          error(err, 0)
        end
      end
    end)
    assert.is_true(barrier:broken())
    assert.equals(0, results1)
    assert.equals(N - 1, results2)
    assert.equals(0, barrier:n_waiting())
  end)

  it("test_abort_barrier_when_exception_then_resetting", function()
    local barrier1, barrier2 = asched.barrier(N), asched.barrier(N)
    local results1, results2, results3 = 0, 0, 0
    gather_tasks(N, function()
      local ok, err = pcall(function()
        local i = barrier1:wait()
        if i == N // 2 then error("RuntimeError", 0) end
        barrier1:wait()
        results1 = results1 + 1
      end)
      if not ok then
        if is_named("BrokenBarrierError", err) then
          results2 = results2 + 1
        elseif err == "RuntimeError" then
          barrier1:abort()
        else
          error(err, 0)
        end
      end
      -- Synchronize and reset the barrier. Must synchronize first so that everyone
      -- has left it when we reset, and after so that no one enters it before the reset.
      local i = barrier2:wait()
      if i == N // 2 then barrier1:reset() end
      barrier2:wait()
      barrier1:wait()
      results3 = results3 + 1
    end)
    assert.is_false(barrier1:broken())
    assert.equals(0, results1)
    assert.equals(N - 1, results2)
    assert.equals(N, results3)
    assert.equals(0, barrier1:n_waiting())
  end)
end)

describe("CPython test_queues.py LifoQueueTests and PriorityQueueTests", function()
  after_each(helpers.cancel_leftovers)

  it("LifoQueueTests.test_order", function()
    local q = asched.lifo_queue()
    for _, i in ipairs({1, 3, 2}) do q:put(i) end
    local items = {}
    for k = 1, 3 do items[k] = q:get() end
    assert.same({2, 3, 1}, items)
  end)

  it("PriorityQueueTests.test_order (item i -> put(i, i))", function()
    local q = asched.priority_queue()
    for _, i in ipairs({1, 3, 2}) do q:put(i, i) end
    local items = {}
    for k = 1, 3 do items[k] = q:get() end
    assert.same({1, 2, 3}, items)
  end)
end)

local kinds = {
  {name = "Queue", new = asched.queue,
   put = function(q, v) return q:put(v) end, put_nowait = function(q, v) return q:put_nowait(v) end},
  {name = "LifoQueue", new = asched.lifo_queue,
   put = function(q, v) return q:put(v) end, put_nowait = function(q, v) return q:put_nowait(v) end},
  {name = "PriorityQueue", new = asched.priority_queue,
   put = function(q, v) return q:put(0, v) end, put_nowait = function(q, v) return q:put_nowait(0, v) end},
}

for _, kind in ipairs(kinds) do
  local put, put_nowait = kind.put, kind.put_nowait

  -- Asserts that fn(...) raises QueueShutDown.
  local function assert_raises_shutdown(fn, ...)
    assert_error_named("QueueShutDown", error_of(fn, ...))
  end

  -- The join tests of the plain Queue are in sync_queue_spec.lua already.
  if kind.name ~= "Queue" then
    describe("CPython test_queues.py " .. kind.name .. "JoinTests", function()
      after_each(helpers.cancel_leftovers)

      it("test_task_done_underflow", function()
        local q = kind.new()
        assert_error_named("ValueError", error_of(q.task_done, q))
      end)

      it("test_task_done", function()
        local q = kind.new()
        for i = 0, 99 do put_nowait(q, i) end
        local accumulator = 0
        local running = true
        local function worker()
          while running do
            local item = q:get()
            accumulator = accumulator + item
            q:task_done()
          end
        end
        local tasks = {asched.spawn(worker), asched.spawn(worker)}
        q:join()
        assert.equals(4950, accumulator)
        -- close running workers
        running = false
        for _ = 1, #tasks do put_nowait(q, 0) end
        await_all(tasks)
      end)

      it("test_join_empty_queue", function()
        local q = kind.new()
        local t0 = asched.now()
        q:join()
        q:join()
        assert.equals(t0, asched.now())
      end)
    end)
  end

  describe("CPython test_queues.py " .. kind.name .. "ShutdownTests", function()
    after_each(helpers.cancel_leftovers)

    it("test_shutdown_empty", function()
      local q = kind.new()
      local get_task = asched.spawn(q.get, q)
      asched.sleep(0)              -- want get task pending before shutdown
      q:shutdown(false)            -- unfinished tasks: 0 -> 0
      assert.equals(0, q:size())
      q:join()
      asched.sleep(0)
      assert.is_true(get_task:done())
      assert_raises_shutdown(get_task.await, get_task)
      assert_raises_shutdown(put, q, "data")
      assert_raises_shutdown(put_nowait, q, "data")
      assert_raises_shutdown(q.get, q)
      assert_raises_shutdown(q.get_nowait, q)
    end)

    it("test_shutdown_nonempty", function()
      local q = kind.new(1)
      put_nowait(q, "data")
      local join_task = asched.spawn(q.join, q)
      local put_task = asched.spawn(put, q, "data2")
      asched.sleep(0)
      assert.is_false(put_task:done())
      q:shutdown(false)            -- unfinished tasks: 1 -> 1
      assert.equals(1, q:size())
      asched.sleep(0)
      assert.is_true(put_task:done())
      assert_raises_shutdown(put_task.await, put_task)
      assert.equals("data", q:get())
      asched.sleep(0)
      assert.is_false(join_task:done())
      assert_raises_shutdown(put, q, "data")
      assert_raises_shutdown(put_nowait, q, "data")
      assert_raises_shutdown(q.get, q)
      assert_raises_shutdown(q.get_nowait, q)
      q:task_done()
      asched.sleep(0)
      assert.is_true(join_task:done())
      join_task:await()
      assert_error_named("ValueError", error_of(q.task_done, q))
    end)

    it("test_shutdown_immediate", function()
      local q = kind.new()
      put_nowait(q, "data")
      local join_task = asched.spawn(q.join, q)
      q:shutdown(true)             -- unfinished tasks: 1 -> 0
      assert.equals(0, q:size())
      asched.sleep(0)
      assert.is_true(join_task:done())
      join_task:await()
      assert_raises_shutdown(put, q, "data")
      assert_raises_shutdown(put_nowait, q, "data")
      assert_raises_shutdown(q.get, q)
      assert_raises_shutdown(q.get_nowait, q)
      assert_error_named("ValueError", error_of(q.task_done, q))
    end)

    it("test_shutdown_immediate_with_unfinished", function()
      local q = kind.new()
      put_nowait(q, "data")
      put_nowait(q, "data")
      local join_task = asched.spawn(q.join, q)
      assert.equals("data", q:get())
      q:shutdown(true)             -- unfinished tasks: 2 -> 1
      assert.equals(0, q:size())
      asched.sleep(0)
      assert.is_false(join_task:done())
      assert_raises_shutdown(put, q, "data")
      assert_raises_shutdown(put_nowait, q, "data")
      assert_raises_shutdown(q.get, q)
      assert_raises_shutdown(q.get_nowait, q)
      q:task_done()
      assert_error_named("ValueError", error_of(q.task_done, q))
      asched.sleep(0)
      assert.is_true(join_task:done())
      join_task:await()
    end)
  end)
end
