-- sync_queue_kinds_spec.lua -- asched.lifo_queue and asched.priority_queue: last in
-- first out; put(priority, value) and get() -> value, priority, lowest first and
-- equal priorities in put order; the rest of the queue interface on both (bounds,
-- nowait errors, nil items, FIFO getters and putters, task_done/join); priority
-- argument errors (NaN included); and, for all three kinds, the worked example of
-- API.md's Synchronisation section: two items put while several getters wait and
-- the first getter cancelled in the same step keep their order.
local helpers = require("spec.helpers")
local sync = require("spec.sync_helpers")
local error_of, assert_error_named = helpers.error_of, helpers.assert_error_named
local assert_elapsed, spawn_each = helpers.assert_elapsed, sync.spawn_each

-- Takes every item left in `q` without waiting; returns the first values (the item)
-- as a packed list.
local function drain(q)
  local items = {n = 0}
  while not q:empty() do
    items.n = items.n + 1
    items[items.n] = q:get_nowait()
  end
  return items
end

-- Takes every item left in a priority queue; returns {value, priority} pairs.
local function drain_pairs(q)
  local pairs_ = {}
  while not q:empty() do
    local v, p = q:get_nowait()
    pairs_[#pairs_ + 1] = {v, p}
  end
  return pairs_
end

-- A small deterministic pseudo-random sequence (the spec must not touch math.random).
local function lcg(seed)
  local state = seed
  return function(n)
    state = (state * 1103515245 + 12345) % 2147483648
    return state % n
  end
end

describe("asched.lifo_queue", function()
  after_each(helpers.cancel_leftovers)

  it("gives items back last in, first out", function()
    local q = asched.lifo_queue()
    for i = 1, 5 do q:put(i) end
    local got = {}
    for i = 1, 5 do got[i] = q:get() end
    assert.same({5, 4, 3, 2, 1}, got)
  end)

  it("interleaved puts and gets always take the newest item", function()
    local q = asched.lifo_queue()
    q:put("a")
    q:put("b")
    assert.equals("b", q:get())
    q:put("c")
    assert.equals("c", q:get())
    assert.equals("a", q:get())
    assert.is_true(q:empty())
  end)

  it("takes nil as an item, in its place among the others", function()
    local q = asched.lifo_queue()
    q:put("a")
    q:put(nil)
    q:put_nowait("c")
    assert.equals(3, q:size())
    assert.same({n = 3, "c", nil, "a"}, drain(q))
  end)

  it("size, empty and full follow the items; put_nowait on a full queue raises QueueFull", function()
    local q = asched.lifo_queue(2)
    assert.is_true(q:empty())
    q:put_nowait("a")
    q:put_nowait("b")
    assert.equals(2, q:size())
    assert.is_true(q:full())
    local err = error_of(q.put_nowait, q, "c")
    assert_error_named("QueueFull", err)
    assert.same({n = 2, "b", "a"}, drain(q))
    assert_error_named("QueueEmpty", error_of(q.get_nowait, q))
  end)

  it("is unbounded with no maxsize or 0", function()
    for _, q in ipairs({asched.lifo_queue(), asched.lifo_queue(0)}) do
      for i = 1, 100 do q:put_nowait(i) end
      assert.is_false(q:full())
      assert.equals(100, q:get())
    end
  end)

  it("get waits while empty; waiting getters are served in the order they came", function()
    local t0 = asched.now()
    local q = asched.lifo_queue()
    local tasks = spawn_each(3, function() return q:get() end)
    asched.sleep(1)
    q:put("x")
    asched.sleep(0)
    assert.is_true(tasks[1]:done())
    assert.is_false(tasks[2]:done())
    q:put("y")
    q:put("z")
    assert.equals("x", tasks[1]:await())
    -- both woken in the same step: each takes the newest item when it runs
    assert.same({"z", "y"}, {tasks[2]:await(), tasks[3]:await()})
    assert_elapsed(1, t0)
  end)

  it("waiting putters enter in the order they came, then come out last in first out", function()
    local q = asched.lifo_queue(1)
    q:put("first")
    local putters = spawn_each(2, function(i) q:put("putter " .. i) end)
    asched.sleep(1)
    assert.equals("first", q:get())
    asched.sleep(0)
    assert.is_true(putters[1]:done())
    assert.is_false(putters[2]:done())
    assert.equals("putter 1", q:get())
    putters[2]:await()
    assert.same({n = 1, "putter 2"}, drain(q))
  end)

  it("task_done and join count its items", function()
    local t0 = asched.now()
    local q = asched.lifo_queue()
    for i = 1, 3 do q:put(i) end
    asched.spawn(function()
      for _ = 1, 3 do
        q:get()
        asched.sleep(1)
        q:task_done()
      end
    end)
    q:join()
    assert_elapsed(3, t0)
    assert_error_named("ValueError", error_of(q.task_done, q))
  end)

  it("a maxsize that is not a non-negative integer is an argument error", function()
    local message_of = helpers.argument_error_message
    assert.matches("^bad argument #1 to 'lifo_queue' %(.+%)$", message_of(error_of(function() asched.lifo_queue(-1) end)))
    assert.matches("^bad argument #1 to 'lifo_queue' %(.+%)$", message_of(error_of(function() asched.lifo_queue(1.5) end)))
    assert.matches("^bad argument #1 to 'lifo_queue' %(.+%)$", message_of(error_of(function() asched.lifo_queue({}) end)))
  end)
end)

describe("asched.priority_queue", function()
  after_each(helpers.cancel_leftovers)

  it("gives the lowest priority first, and get returns value, priority", function()
    local q = asched.priority_queue()
    q:put(3, "c")
    q:put(1, "a")
    q:put(2, "b")
    assert.same({"a", 1}, {q:get()})
    assert.same({"b", 2}, {q:get_nowait()})
    assert.same({"c", 3}, {q:get()})
    assert.is_true(q:empty())
  end)

  it("gives equal priorities back in put order (stable)", function()
    local q = asched.priority_queue()
    q:put(1, "one-a")
    q:put(0, "zero-a")
    q:put(1, "one-b")
    q:put_nowait(0, "zero-b")
    q:put(1, "one-c")
    q:put(0, "zero-c")
    assert.same({n = 6, "zero-a", "zero-b", "zero-c", "one-a", "one-b", "one-c"}, drain(q))
  end)

  it("orders any numbers: negative, fractional, integer and float alike, and the infinities", function()
    local q = asched.priority_queue()
    q:put(2, "2")
    q:put(-1.5, "-1.5")
    q:put(math.huge, "inf")
    q:put(2.0, "2.0")
    q:put(-math.huge, "-inf")
    q:put(0.25, "0.25")
    q:put(math.mininteger, "minint")
    q:put(-0.0, "-0.0")
    q:put(0, "0")
    assert.same({n = 9, "-inf", "minint", "-1.5", "-0.0", "0", "0.25", "2", "2.0", "inf"}, drain(q))
  end)

  -- Integers that a double cannot tell apart (beyond 2^53) must not tie: the
  -- heap compares priorities exactly, as Lua's `<` (and Python) does.
  it("orders integer priorities exactly, beyond 2^53 too, as Lua's < does", function()
    local q = asched.priority_queue()
    q:put((1 << 53) + 1, "2^53+1")
    q:put(1 << 53, "2^53")
    q:put(math.maxinteger, "maxinteger")
    q:put(math.maxinteger - 1, "maxinteger-1")
    q:put(math.mininteger + 1, "mininteger+1")
    q:put(math.mininteger, "mininteger")
    assert.same({n = 6, "mininteger", "mininteger+1", "2^53", "2^53+1", "maxinteger-1", "maxinteger"}, drain(q))
  end)

  it("returns each priority as it was given: an integer stays an integer, a float a float", function()
    local q = asched.priority_queue()
    q:put(1, "int")
    q:put(1.0, "float")
    local _, p1 = q:get()
    local _, p2 = q:get()
    assert.equals("integer", math.type(p1))
    assert.equals("float", math.type(p2))
  end)

  it("a long run of puts and gets matches a stable sort by priority", function()
    local rand = lcg(7)
    local q = asched.priority_queue()
    local model, seq, got, expected = {}, 0, {}, {}
    local function take_model()
      local best = 1
      for i = 2, #model do
        local a, b = model[i], model[best]
        if a.p < b.p or (a.p == b.p and a.seq < b.seq) then best = i end
      end
      return table.remove(model, best)
    end
    for _ = 1, 400 do
      if rand(3) > 0 or #model == 0 then
        seq = seq + 1
        local p = rand(6) - 2
        q:put(p, seq)
        model[#model + 1] = {p = p, seq = seq}
      else
        local v, p = q:get()
        local m = take_model()
        got[#got + 1] = {v, p}
        expected[#expected + 1] = {m.seq, m.p}
      end
    end
    while #model > 0 do
      local v, p = q:get()
      local m = take_model()
      got[#got + 1] = {v, p}
      expected[#expected + 1] = {m.seq, m.p}
    end
    assert.same(expected, got)
    assert.is_true(q:empty())
  end)

  it("takes nil as a value (put with a priority only)", function()
    local q = asched.priority_queue()
    q:put(2, "b")
    q:put(1, nil)
    q:put_nowait(3)
    assert.equals(3, q:size())
    assert.same({{nil, 1}, {"b", 2}, {nil, 3}}, drain_pairs(q))
  end)

  it("hands a waiting getter the value and its priority", function()
    local q = asched.priority_queue()
    local getter = asched.spawn(function() return table.pack(q:get()) end)
    asched.sleep(1)
    q:put(7, "seven")
    assert.same({n = 2, "seven", 7}, getter:await())
  end)

  it("getters woken in the same step each take the lowest item left when they run", function()
    local q = asched.priority_queue()
    local tasks = spawn_each(3, function() return q:get() end)
    asched.sleep(0)
    q:put(5, "five")
    q:put(1, "one")
    q:put(3, "three")
    assert.same({"one", "three", "five"}, {tasks[1]:await(), tasks[2]:await(), (tasks[3]:await())})
  end)

  it("bounded: full, QueueFull, and a waiting putter's item enters by its priority", function()
    local q = asched.priority_queue(2)
    q:put(5, "five")
    q:put(6, "six")
    assert.is_true(q:full())
    assert_error_named("QueueFull", error_of(q.put_nowait, q, 0, "zero"))
    local putter = asched.spawn(function() q:put(1, "one") end)
    asched.sleep(1)
    assert.is_false(putter:done())
    assert.same({"five", 5}, {q:get()})
    putter:await()
    assert.same({{"one", 1}, {"six", 6}}, drain_pairs(q))
  end)

  it("task_done and join count its items", function()
    local q = asched.priority_queue()
    q:put(2, "b")
    q:put(1, "a")
    local joiner = asched.spawn(q.join, q)
    asched.sleep(0)
    q:get()
    q:task_done()
    asched.sleep(0)
    assert.is_false(joiner:done())
    q:get()
    q:task_done()
    joiner:await()
    assert_error_named("ValueError", error_of(q.task_done, q))
  end)
end)

describe("asched.priority_queue argument errors", function()
  after_each(helpers.cancel_leftovers)
  local message_of = helpers.argument_error_message

  -- Calls q:put(...) or q:put_nowait(...) with method syntax, as a user would.
  local calls = {
    put = function(q, ...) return q:put(...) end,
    put_nowait = function(q, ...) return q:put_nowait(...) end,
  }

  it("a priority that is not a number is an argument error of put and put_nowait", function()
    local q = asched.priority_queue()
    for method, call in pairs(calls) do
      local cases = {
        {"1", "string"}, {nil, "nil"}, {true, "boolean"}, {{}, "table"},
      }
      for _, case in ipairs(cases) do
        local err = message_of(error_of(function() call(q, case[1], "value") end))
        assert.equals("bad argument #1 to '" .. method .. "' (number expected, got " .. case[2] .. ")", err)
      end
      assert.equals("bad argument #1 to '" .. method .. "' (number expected, got no value)",
                    message_of(error_of(function() call(q) end)))
    end
    assert.is_true(q:empty())
  end)

  it("a NaN priority is an argument error (it has no place in the order)", function()
    local q = asched.priority_queue()
    for method, call in pairs(calls) do
      local err = message_of(error_of(function() call(q, 0 / 0, "value") end))
      assert.matches("^bad argument #1 to '" .. method .. "' %(.*NaN.*%)$", err)
    end
    assert.is_true(q:empty())
    assert.equals(0, q:size())
  end)

  it("a bad priority is reported even while the queue is full or shut down, before anything waits", function()
    local t0 = asched.now()
    local q = asched.priority_queue(1)
    q:put(1, "a")
    local err = message_of(error_of(function() q:put("high", "b") end))
    assert.equals("bad argument #1 to 'put' (number expected, got string)", err)
    q:shutdown()
    err = message_of(error_of(function() q:put_nowait(0 / 0, "b") end))
    assert.matches("^bad argument #1 to 'put_nowait' %(.*NaN.*%)$", err)
    assert_elapsed(0, t0)
    assert.same({{"a", 1}}, drain_pairs(q))
  end)

  it("a maxsize that is not a non-negative integer is an argument error", function()
    assert.matches("^bad argument #1 to 'priority_queue' %(.+%)$",
                   message_of(error_of(function() asched.priority_queue(-2) end)))
    assert.matches("^bad argument #1 to 'priority_queue' %(.+%)$",
                   message_of(error_of(function() asched.priority_queue(0.5) end)))
  end)

  it("a queue method called on something else names the queue type", function()
    local q = asched.priority_queue()
    local err = message_of(error_of(function() q.get(asched.barrier(1)) end))
    assert.equals("bad argument #1 to 'get' (asched.PriorityQueue expected, got asched.Barrier)", err)
    local lq = asched.lifo_queue()
    err = message_of(error_of(function() lq.put(q, 1) end))
    assert.equals("bad argument #1 to 'put' (asched.LifoQueue expected, got asched.PriorityQueue)", err)
  end)
end)

-- The worked example of API.md's Synchronisation section, for every kind: two items
-- put while several getters wait, the first getter cancelled in the same step: the
-- second getter gets the first item (the one the kind gives first), the next
-- get the second.
local kinds = {
  {name = "asched.queue", new = function() return asched.queue() end,
   put = function(q, v) q:put(v) end, first = "a", second = "b"},
  {name = "asched.lifo_queue", new = function() return asched.lifo_queue() end,
   put = function(q, v) q:put(v) end, first = "b", second = "a"},
  {name = "asched.priority_queue", new = function() return asched.priority_queue() end,
   put = function(q, v) q:put(v == "a" and 2 or 1, v) end, first = "b", second = "a"},
}

for _, kind in ipairs(kinds) do
  describe(kind.name .. ": items keep their order when a woken getter is cancelled", function()
    after_each(helpers.cancel_leftovers)

    it("two items put while two getters wait, the first getter cancelled in the same step", function()
      local q = kind.new()
      local getters = spawn_each(2, function() return q:get() end)
      asched.sleep(0)
      kind.put(q, "a")
      kind.put(q, "b")
      getters[1]:cancel()
      assert_error_named("CancelledError", error_of(getters[1].await, getters[1]))
      assert.equals(kind.first, getters[2]:await())
      assert.equals(kind.second, q:get())
      assert.is_true(q:empty())
    end)

    it("two items put while three getters wait, the first cancelled in the same step: the second and third get them in order", function()
      local q = kind.new()
      local getters = spawn_each(3, function() return q:get() end)
      asched.sleep(0)
      kind.put(q, "a")
      kind.put(q, "b")
      getters[1]:cancel()
      assert_error_named("CancelledError", error_of(getters[1].await, getters[1]))
      assert.equals(kind.first, getters[2]:await())
      assert.equals(kind.second, getters[3]:await())
      assert.is_true(q:empty())
      -- nothing was left promised: the next item is there for the next get
      kind.put(q, "c")
      assert.equals("c", q:get_nowait())
    end)

    it("two items put while two getters wait, the first cancelled before the puts: items in order", function()
      local q = kind.new()
      local getters = spawn_each(2, function() return q:get() end)
      asched.sleep(0)
      getters[1]:cancel()
      kind.put(q, "a")
      kind.put(q, "b")
      assert_error_named("CancelledError", error_of(getters[1].await, getters[1]))
      assert.equals(kind.first, getters[2]:await())
      assert.equals(kind.second, q:get())
    end)
  end)
end

-- As in asyncio, an item put while getters wait is in the queue until a woken
-- getter runs and takes whatever comes next then: what the queue reports and who
-- gets what do not depend on which getter was woken for which item.
for _, kind in ipairs(kinds) do
  describe(kind.name .. ": a woken getter takes what is next when it runs", function()
    after_each(helpers.cancel_leftovers)

    it("an item put for a waiting getter counts in size() until the getter has run", function()
      local q = kind.new()
      local getter = asched.spawn(function() return q:get() end)
      asched.sleep(0)
      kind.put(q, "a")
      assert.equals(1, q:size())
      assert.is_false(q:empty())
      assert.equals("a", getter:await())
      assert.equals(0, q:size())
    end)

    it("a get_nowait in the same step takes the item the kind gives first; the woken getter the next", function()
      local q = kind.new()
      local getter = asched.spawn(function() return q:get() end)
      asched.sleep(0)
      kind.put(q, "a")
      kind.put(q, "b")
      assert.equals(kind.first, q:get_nowait())
      assert.equals(kind.second, getter:await())
      assert.is_true(q:empty())
    end)

    it("the woken getter takes the item the kind gives first, even one put after it was woken", function()
      local q = kind.new()
      local getter = asched.spawn(function() return q:get() end)
      asched.sleep(0)
      kind.put(q, "a")
      kind.put(q, "b")
      assert.equals(kind.first, getter:await())
      assert.equals(kind.second, q:get_nowait())
    end)

    it("no get barges in on an item promised to a woken getter", function()
      local q = kind.new()
      local getter = asched.spawn(function() return q:get() end)
      asched.sleep(0)
      kind.put(q, "a")
      assert_error_named("QueueEmpty", error_of(q.get_nowait, q))
      assert.equals("a", getter:await())
    end)

    it("a bounded queue is full while its item waits for the woken getter", function()
      local q = kind.name == "asched.priority_queue" and asched.priority_queue(1)
        or kind.name == "asched.lifo_queue" and asched.lifo_queue(1) or asched.queue(1)
      local getter = asched.spawn(function() return q:get() end)
      asched.sleep(0)
      kind.put(q, "a")
      assert.is_true(q:full())
      local put_b = kind.name == "asched.priority_queue" and function() q:put_nowait(1, "b") end
        or function() q:put_nowait("b") end
      assert_error_named("QueueFull", error_of(put_b))
      assert.equals("a", getter:await())
    end)

    it("an immediate shutdown drops an item put for a woken getter, which raises QueueShutDown", function()
      local q = kind.new()
      local getter = asched.spawn(function() return q:get() end)
      asched.sleep(0)
      kind.put(q, "a")
      q:shutdown(true)
      assert_error_named("QueueShutDown", error_of(getter.await, getter))
      assert.equals(0, q:size())
    end)

    it("a woken getter cancelled before it ran leaves its item first in line", function()
      local q = kind.new()
      local getter = asched.spawn(function() return q:get() end)
      asched.sleep(0)
      kind.put(q, "a")
      getter:cancel()
      assert_error_named("CancelledError", error_of(getter.await, getter))
      kind.put(q, "b")
      assert.equals(kind.first, q:get_nowait())
      assert.equals(kind.second, q:get_nowait())
    end)
  end)
end
