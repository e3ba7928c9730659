-- sync_queue_shutdown_spec.lua -- queue:shutdown([immediate]) and QueueShutDown, as
-- Python 3.13 specifies them, for asched.queue, asched.lifo_queue and
-- asched.priority_queue alike: puts raise and waiting putters wake raising; gets
-- keep returning the items left, in the kind's order, then raise, and waiting
-- getters wake raising; join still waits for unfinished items; an immediate
-- shutdown drops the items left, counts them done (so join returns once the items
-- already taken are marked done) and wakes every waiting get and put (API.md,
-- Synchronisation; Errors).
local helpers = require("spec.helpers")
local sync = require("spec.sync_helpers")
local error_of, assert_error_named = helpers.error_of, helpers.assert_error_named
local assert_elapsed, spawn_each = helpers.assert_elapsed, sync.spawn_each

-- The priority queue puts "a", "b", "c" with these priorities, so each kind gives
-- them back in a different order.
local priority_of = {a = 3, b = 1, c = 2}

local kinds = {
  {name = "asched.queue", new = asched.queue, order = {"a", "b", "c"},
   put = function(q, v) return q:put(v) end,
   put_nowait = function(q, v) return q:put_nowait(v) end},
  {name = "asched.lifo_queue", new = asched.lifo_queue, order = {"c", "b", "a"},
   put = function(q, v) return q:put(v) end,
   put_nowait = function(q, v) return q:put_nowait(v) end},
  {name = "asched.priority_queue", new = asched.priority_queue, order = {"b", "c", "a"},
   put = function(q, v) return q:put(priority_of[v] or 0, v) end,
   put_nowait = function(q, v) return q:put_nowait(priority_of[v] or 0, v) end},
}

-- Asserts that `err` is a QueueShutDown error object, in the form of every asched error.
local function assert_shut_down(err)
  assert_error_named("QueueShutDown", err)
  assert.equals("string", type(err.message))
  assert.equals("QueueShutDown: " .. err.message, tostring(err))
end

for _, kind in ipairs(kinds) do
  local put, put_nowait = kind.put, kind.put_nowait

  -- A fresh queue of this kind (maxsize as given) holding "a", "b" and "c".
  local function filled(maxsize)
    local q = kind.new(maxsize)
    for _, v in ipairs({"a", "b", "c"}) do put_nowait(q, v) end
    return q
  end

  describe(kind.name .. ":shutdown()", function()
    after_each(helpers.cancel_leftovers)

    it("makes put and put_nowait raise QueueShutDown and adds nothing", function()
      local t0 = asched.now()
      local q = kind.new()
      q:shutdown()
      assert_shut_down(error_of(put, q, "x"))
      assert_shut_down(error_of(put_nowait, q, "x"))
      assert.equals(0, q:size())
      assert.is_true(q:empty())
      assert_elapsed(0, t0)
    end)

    it("makes puts on a full queue raise QueueShutDown, not QueueFull, and never wait", function()
      local t0 = asched.now()
      local q = kind.new(1)
      put(q, "a")
      q:shutdown()
      assert_shut_down(error_of(put_nowait, q, "x"))
      assert_shut_down(error_of(put, q, "x"))
      assert_elapsed(0, t0)
      assert.equals(1, q:size())
    end)

    it("wakes every waiting putter with QueueShutDown at once; their items are not added", function()
      local t0 = asched.now()
      local q = kind.new(1)
      put(q, "a")
      local putters = spawn_each(3, function(i) put(q, "putter " .. i) end)
      asched.sleep(1)
      q:shutdown()
      for _, t in ipairs(putters) do assert_shut_down(error_of(t.await, t)) end
      assert_elapsed(1, t0)
      assert.equals(1, q:size())
      assert.equals("a", q:get())
    end)

    it("lets get and get_nowait take the items left, in order, then raises QueueShutDown", function()
      local t0 = asched.now()
      local q = filled()
      q:shutdown()
      assert.equals(3, q:size())
      assert.equals(kind.order[1], q:get())
      assert.equals(kind.order[2], q:get_nowait())
      assert.equals(kind.order[3], q:get())
      assert.is_true(q:empty())
      assert_shut_down(error_of(q.get, q))
      assert_shut_down(error_of(q.get_nowait, q))   -- not QueueEmpty
      assert_shut_down(error_of(q.get, q))
      assert_elapsed(0, t0)
    end)

    it("wakes every waiting getter of an empty queue with QueueShutDown at once", function()
      local t0 = asched.now()
      local q = kind.new()
      local getters = spawn_each(3, function() return q:get() end)
      asched.sleep(1)
      q:shutdown()
      for _, t in ipairs(getters) do assert_shut_down(error_of(t.await, t)) end
      assert_elapsed(1, t0)
    end)

    it("a getter already handed an item when the shutdown comes still gets it", function()
      local q = kind.new()
      local getter = asched.spawn(function() return q:get() end)
      asched.sleep(0)
      put(q, "a")                  -- promised to the waiting getter
      q:shutdown()                 -- in the same step
      assert.equals("a", getter:await())
      assert_shut_down(error_of(q.get_nowait, q))
    end)

    it("an item promised to a getter cancelled in the shutdown's step stays for the next get", function()
      local q = kind.new()
      local getter = asched.spawn(function() return q:get() end)
      asched.sleep(0)
      put(q, "a")
      q:shutdown()
      getter:cancel()
      assert_error_named("CancelledError", error_of(getter.await, getter))
      assert.equals("a", q:get())
      assert_shut_down(error_of(q.get, q))
    end)

    it("a putter handed a free slot in the shutdown's step raises QueueShutDown and puts nothing", function()
      local q = kind.new(1)
      put(q, "a")
      local putter = asched.spawn(function() put(q, "b") end)
      asched.sleep(0)
      assert.equals("a", q:get_nowait())   -- the slot is handed to the putter
      q:shutdown()                         -- before it ran
      assert_shut_down(error_of(putter.await, putter))
      assert.is_true(q:empty())
      assert_shut_down(error_of(q.get_nowait, q))
    end)

    it("join still waits for the unfinished items; task_done releases it", function()
      local q = kind.new(1)
      put(q, "a")
      local joiner = asched.spawn(q.join, q)
      asched.sleep(0)
      q:shutdown()
      asched.sleep(1)
      assert.is_false(joiner:done())
      assert.equals("a", q:get())
      asched.sleep(0)
      assert.is_false(joiner:done())
      q:task_done()
      joiner:await()
      assert_error_named("ValueError", error_of(q.task_done, q))
    end)

    it("shutdown(false) and shutdown(nil) are not immediate; shutting down twice is harmless", function()
      for _, arg in ipairs({false, "nil"}) do
        local q = filled()
        if arg == "nil" then q:shutdown(nil) else q:shutdown(arg) end
        q:shutdown()
        assert.equals(3, q:size())
        assert.equals(kind.order[1], q:get())
      end
    end)
  end)

  describe(kind.name .. ":shutdown(true)", function()
    after_each(helpers.cancel_leftovers)

    it("drops the items left; get and get_nowait raise QueueShutDown at once", function()
      local t0 = asched.now()
      local q = filled()
      q:shutdown(true)
      assert.equals(0, q:size())
      assert.is_true(q:empty())
      assert_shut_down(error_of(q.get_nowait, q))
      assert_shut_down(error_of(q.get, q))
      assert_shut_down(error_of(put_nowait, q, "x"))
      assert_shut_down(error_of(put, q, "x"))
      assert_elapsed(0, t0)
    end)

    it("counts the dropped items as done: join returns, and task_done has nothing left to mark", function()
      local q = filled()
      local joiners = spawn_each(2, function() return q:join() end)
      asched.sleep(1)
      assert.is_false(joiners[1]:done())
      local t0 = asched.now()
      q:shutdown(true)
      for _, t in ipairs(joiners) do t:await() end
      assert_elapsed(0, t0)
      q:join()
      assert_error_named("ValueError", error_of(q.task_done, q))
    end)

    it("join returns once the items consumers had already taken are marked done", function()
      local q = filled()
      local taken = q:get()
      assert.equals(kind.order[1], taken)
      local joiner = asched.spawn(q.join, q)
      asched.sleep(0)
      q:shutdown(true)             -- 3 unfinished -> 1
      asched.sleep(1)
      assert.is_false(joiner:done())
      q:task_done()
      joiner:await()
      assert_error_named("ValueError", error_of(q.task_done, q))
    end)

    it("wakes every waiting getter and putter with QueueShutDown at once", function()
      local t0 = asched.now()
      local empty = kind.new()
      local getters = spawn_each(2, function() return empty:get() end)
      local full = kind.new(1)
      put(full, "a")
      local putters = spawn_each(2, function(i) put(full, "putter " .. i) end)
      asched.sleep(1)
      empty:shutdown(true)
      full:shutdown(true)
      for _, t in ipairs(getters) do assert_shut_down(error_of(t.await, t)) end
      for _, t in ipairs(putters) do assert_shut_down(error_of(t.await, t)) end
      assert_elapsed(1, t0)
      assert.is_true(full:empty())
      full:join()
    end)

    it("an item promised to a woken getter is dropped too: the getter raises, and join returns", function()
      local q = kind.new()
      local getter = asched.spawn(function() return q:get() end)
      asched.sleep(0)
      put(q, "a")                  -- promised to the getter, which has not run
      q:shutdown(true)
      assert_shut_down(error_of(getter.await, getter))
      local t0 = asched.now()
      q:join()
      assert_elapsed(0, t0)
    end)

    it("after a plain shutdown, shutdown(true) still drops what is left", function()
      local q = filled()
      q:shutdown()
      assert.equals(kind.order[1], q:get())
      q:task_done()
      q:shutdown(true)
      assert.is_true(q:empty())
      q:join()
      assert_shut_down(error_of(q.get, q))
    end)
  end)
end
