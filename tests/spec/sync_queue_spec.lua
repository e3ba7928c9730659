-- sync_queue_spec.lua -- asched.queue: FIFO, bounded and unbounded, nil items, the
-- nowait errors, size/empty/full, task_done/join, FIFO putters and getters, and
-- cancelled putters and getters losing no item (API.md, Synchronisation; issue 4).
local helpers = require("spec.helpers")
local sync = require("spec.sync_helpers")
local error_of, assert_error_named = helpers.error_of, helpers.assert_error_named
local assert_elapsed, spawn_each = helpers.assert_elapsed, sync.spawn_each

-- Takes every item left in `q` without waiting; returns them as a packed list.
local function drain(q)
  local items = {n = 0}
  while not q:empty() do
    items.n = items.n + 1
    items[items.n] = q:get_nowait()
  end
  return items
end

describe("asched.queue", function()
  after_each(helpers.cancel_leftovers)

  it("gives items back in the order they were put", function()
    local q = asched.queue()
    for i = 1, 5 do q:put(i) end
    local got = {}
    for i = 1, 5 do got[i] = q:get() end
    assert.same({1, 2, 3, 4, 5}, got)
  end)

  it("keeps FIFO order while it never empties, wraps around and grows", function()
    -- Items live in a ring of slots that doubles when full: put and get in
    -- uneven runs so the oldest item sits at every slot, across growths.
    local q, put, want = asched.queue(), 0, 0
    for round = 1, 60 do
      for _ = 1, round % 7 + 2 do put = put + 1; q:put(put) end
      for _ = 1, round % 5 + 1 do
        want = want + 1
        assert.equals(want, q:get())
      end
    end
    assert.equals(put - want, q:size())
    while not q:empty() do want = want + 1; assert.equals(want, q:get_nowait()) end
    assert.equals(put, want)
  end)

  it("keeps nil items in order through the ring", function()
    local q = asched.queue()
    q:put("a")
    for i = 1, 10 do q:put(i % 2 == 0 and i or nil) end
    assert.equals("a", q:get())
    for i = 1, 10 do assert.equals(i % 2 == 0 and i or nil, q:get()) end
    assert.is_true(q:empty())
  end)

  it("is unbounded when created with no maxsize or maxsize 0: put never waits", function()
    local t0 = asched.now()
    for _, q in ipairs({asched.queue(), asched.queue(0)}) do
      for i = 1, 1000 do q:put(i) end
      q:put_nowait("more")
      assert.is_false(q:full())
      assert.equals(1001, q:size())
    end
    assert.equals(t0, asched.now())
  end)

  it("takes nil as an item, in its place among the others", function()
    local q = asched.queue()
    q:put("a")
    q:put(nil)
    q:put_nowait(nil)
    q:put("d")
    assert.equals(4, q:size())
    assert.same({n = 4, "a", nil, nil, "d"}, drain(q))
  end)

  it("hands a nil item to a waiting getter", function()
    local q = asched.queue()
    local getter = asched.spawn(function() return "got", q:get(), "end" end)
    asched.sleep(1)
    q:put(nil)
    assert.same({n = 3, "got", nil, "end"}, table.pack(getter:await()))
  end)

  it("size, empty and full follow the items in a bounded queue", function()
    local q = asched.queue(2)
    assert.equals(0, q:size())
    assert.is_true(q:empty())
    assert.is_false(q:full())
    q:put("a")
    assert.equals(1, q:size())
    assert.is_false(q:empty())
    assert.is_false(q:full())
    q:put("b")
    assert.equals(2, q:size())
    assert.is_true(q:full())
    q:get()
    assert.equals(1, q:size())
    assert.is_false(q:full())
  end)

  it("get waits while the queue is empty and returns the item put later", function()
    local t0 = asched.now()
    local q = asched.queue()
    asched.spawn(function()
      asched.sleep(2)
      q:put("late")
    end)
    assert.equals("late", q:get())
    assert_elapsed(2, t0)
  end)

  it("put waits while a bounded queue is full, until a get makes room", function()
    local t0 = asched.now()
    local q = asched.queue(1)
    q:put("first")
    asched.spawn(function()
      asched.sleep(2)
      assert.equals("first", q:get())
    end)
    q:put("second")
    assert_elapsed(2, t0)
    assert.same({n = 1, "second"}, drain(q))
  end)

  it("put_nowait on a full queue raises QueueFull and leaves the queue as it was", function()
    local q = asched.queue(1)
    q:put_nowait("a")
    local err = error_of(q.put_nowait, q, "b")
    assert_error_named("QueueFull", err)
    assert.equals("QueueFull: " .. err.message, tostring(err))
    assert.same({n = 1, "a"}, drain(q))
  end)

  it("get_nowait on an empty queue raises QueueEmpty", function()
    local q = asched.queue()
    local err = error_of(q.get_nowait, q)
    assert_error_named("QueueEmpty", err)
    assert.equals("QueueEmpty: " .. err.message, tostring(err))
    q:put(1)
    q:get()
    assert_error_named("QueueEmpty", error_of(q.get_nowait, q))
  end)

  it("serves waiting getters in the order they came", function()
    local q = asched.queue()
    local tasks = spawn_each(3, function() return q:get() end)
    asched.sleep(1)
    q:put("a")
    q:put("b")
    q:put("c")
    assert.same({"a", "b", "c"}, {tasks[1]:await(), tasks[2]:await(), tasks[3]:await()})
  end)

  it("serves waiting putters in the order they came, so their items keep that order", function()
    local q = asched.queue(1)
    q:put("first")
    spawn_each(3, function(i) q:put("putter " .. i) end)
    asched.sleep(1)
    local got = {}
    for i = 1, 4 do got[i] = q:get() end
    assert.same({"first", "putter 1", "putter 2", "putter 3"}, got)
  end)

  it("keeps a slot freed by get for the waiting putter: put_nowait cannot barge in", function()
    local q = asched.queue(1)
    q:put("first")
    local putter = asched.spawn(function() q:put("waiting putter") end)
    asched.sleep(1)
    assert.equals("first", q:get_nowait())
    assert_error_named("QueueFull", error_of(q.put_nowait, q, "barger"))
    putter:await()
    assert.same({n = 1, "waiting putter"}, drain(q))
  end)

  it("producers and consumers blocked on a maxsize = 1 queue alternate without deadlock", function()
    local q = asched.queue(1)
    local log, received, most = {}, {}, 0
    local producers = spawn_each(3, function(p)
      for i = 1, 20 do
        q:put(p * 100 + i)
        most = math.max(most, q:size())
        log[#log + 1] = "put"
      end
    end)
    local consumers = spawn_each(3, function()
      for _ = 1, 20 do
        local item = q:get()
        received[#received + 1] = item
        log[#log + 1] = "get"
      end
    end)
    asched.gather(producers)
    asched.gather(consumers)
    assert.equals(60, #received)
    assert.is_true(q:empty())
    assert.equals(1, most, "the queue never held more than one item")
    -- every producer's items arrive in the order it put them
    local last = {}
    for _, item in ipairs(received) do
      local p = item // 100
      assert.is_true((last[p] or 0) < item % 100)
      last[p] = item % 100
    end
    -- neither side ran ahead: gets never outnumber puts, and puts stay within one
    -- item in the queue plus one in each consumer's hands of the gets
    local puts, gets = 0, 0
    for _, what in ipairs(log) do
      if what == "put" then puts = puts + 1 else gets = gets + 1 end
      assert.is_true(gets <= puts)
      assert.is_true(puts - gets <= 1 + #consumers)
    end
  end)
end)

describe("Queue task_done and join", function()
  after_each(helpers.cancel_leftovers)

  it("join returns at once when nothing was put", function()
    local t0 = asched.now()
    asched.queue():join()
    assert.equals(t0, asched.now())
  end)

  it("join waits until every item put was marked done, not just taken", function()
    local t0 = asched.now()
    local q = asched.queue()
    for i = 1, 3 do q:put(i) end
    asched.spawn(function()
      for _ = 1, 3 do
        q:get()
        asched.sleep(1)
        q:task_done()
      end
    end)
    local joiners = spawn_each(2, function()
      q:join()
      return asched.now()
    end)
    q:join()
    assert_elapsed(3, t0)
    for _, t in ipairs(joiners) do assert_elapsed(3, t0, t:await()) end
  end)

  it("join waits again for items put after an earlier join returned", function()
    local t0 = asched.now()
    local q = asched.queue()
    q:put("a")
    q:get()
    q:task_done()
    q:join()
    q:put("b")
    asched.spawn(function()
      asched.sleep(2)
      q:get()
      q:task_done()
    end)
    q:join()
    assert_elapsed(2, t0)
  end)

  it("task_done called more times than items were put raises a ValueError", function()
    local q = asched.queue()
    local err = error_of(q.task_done, q)
    assert_error_named("ValueError", err)
    assert.equals("ValueError: " .. err.message, tostring(err))
    q:put(1)
    q:put(2)
    q:task_done()
    q:task_done()
    assert_error_named("ValueError", error_of(q.task_done, q))
  end)

  it("counts nil items for join and task_done", function()
    local q = asched.queue()
    q:put(nil)
    q:put_nowait(nil)
    local joiner = asched.spawn(q.join, q)
    asched.sleep(1)
    q:task_done()
    asched.sleep(1)
    assert.is_false(joiner:done())
    q:task_done()
    joiner:await()
  end)
end)

describe("cancelling a task waiting on asched.queue", function()
  after_each(helpers.cancel_leftovers)

  it("a getter cancelled before an item comes leaves: the item goes to the next getter", function()
    local q = asched.queue()
    local tasks = spawn_each(2, function() return q:get() end)
    asched.sleep(0)
    tasks[1]:cancel()
    q:put("item")
    assert_error_named("CancelledError", error_of(tasks[1].await, tasks[1]))
    assert.equals("item", tasks[2]:await())
  end)

  it("a getter cancelled after being handed an item passes it to the next getter", function()
    local q = asched.queue()
    local tasks = spawn_each(2, function() return q:get() end)
    asched.sleep(0)
    q:put("item")             -- handed to the first getter
    tasks[1]:cancel()         -- before it ran
    assert_error_named("CancelledError", error_of(tasks[1].await, tasks[1]))
    assert.equals("item", tasks[2]:await())
    assert.is_true(q:empty())
  end)

  it("a getter cancelled after being handed an item, with nobody behind it, puts it back at the front", function()
    local q = asched.queue()
    local getter = asched.spawn(function() return q:get() end)
    asched.sleep(0)
    q:put("first")            -- handed to the getter
    q:put("second")           -- queued
    getter:cancel()
    assert_error_named("CancelledError", error_of(getter.await, getter))
    assert.same({n = 2, "first", "second"}, drain(q))
  end)

  it("a getter handed a nil item and cancelled passes the nil on", function()
    local q = asched.queue()
    local tasks = spawn_each(2, function() return "got", q:get() end)
    asched.sleep(0)
    q:put(nil)
    tasks[1]:cancel()
    pcall(tasks[1].await, tasks[1])
    assert.same({n = 2, "got", nil}, table.pack(tasks[2]:await()))
    q:put("after")
    assert.same({n = 1, "after"}, drain(q))
  end)

  it("a putter cancelled while the queue is full puts nothing; the next putter gets the slot", function()
    local q = asched.queue(1)
    q:put("first")
    local tasks = spawn_each(2, function(i) q:put("putter " .. i) end)
    asched.sleep(0)
    tasks[1]:cancel()
    assert.equals("first", q:get())
    assert_error_named("CancelledError", error_of(tasks[1].await, tasks[1]))
    tasks[2]:await()
    assert.same({n = 1, "putter 2"}, drain(q))
  end)

  it("a putter cancelled after a get freed a slot for it passes the slot to the next putter", function()
    local q = asched.queue(1)
    q:put("first")
    local tasks = spawn_each(2, function(i) q:put("putter " .. i) end)
    asched.sleep(0)
    assert.equals("first", q:get_nowait())  -- the slot is now the first putter's
    tasks[1]:cancel()                        -- before it ran
    assert_error_named("CancelledError", error_of(tasks[1].await, tasks[1]))
    tasks[2]:await()
    assert.same({n = 1, "putter 2"}, drain(q))
    q:put_nowait("room again")
    assert.same({n = 1, "room again"}, drain(q))
  end)

  it("a putter cancelled after a get freed a slot for it, with nobody behind it, leaves the slot free", function()
    local q = asched.queue(1)
    q:put("first")
    local putter = asched.spawn(function() q:put("never put") end)
    asched.sleep(0)
    q:get_nowait()
    putter:cancel()
    pcall(putter.await, putter)
    assert.is_true(q:empty())
    assert.is_false(q:full())
    q:put_nowait("fits")
    assert.same({n = 1, "fits"}, drain(q))
  end)

  it("a cancelled putter's item is not counted by join", function()
    local q = asched.queue(1)
    q:put("first")
    local putter = asched.spawn(function() q:put("never put") end)
    asched.sleep(0)
    putter:cancel()
    pcall(putter.await, putter)
    q:get()
    q:task_done()
    local t0 = asched.now()
    q:join()
    assert.equals(t0, asched.now())
  end)
end)

describe("asched.queue argument errors", function()
  after_each(helpers.cancel_leftovers)
  local message_of = helpers.argument_error_message

  it("a negative maxsize is an argument error", function()
    local err = message_of(error_of(function() asched.queue(-1) end))
    assert.matches("^bad argument #1 to 'queue' %(.+%)$", err)
  end)

  it("a maxsize that is not an integer is an argument error", function()
    local err = message_of(error_of(function() asched.queue(2.5) end))
    assert.matches("^bad argument #1 to 'queue' %(.+%)$", err)
    err = message_of(error_of(function() asched.queue("big") end))
    assert.matches("^bad argument #1 to 'queue' %(.+%)$", err)
  end)
end)
