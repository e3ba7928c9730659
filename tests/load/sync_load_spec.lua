-- sync_load_spec.lua -- issue 19, load: a hundred thousand tasks through each
-- synchronisation primitive (ASCHED_LONG=1; fewer by default), cancelled at
-- random in every phase, under virtual time with a fixed seed. At the end
-- everything is accounted for: every permit is free again, the lock is free,
-- every item put was got exactly once or dropped by shutdown(true), every
-- barrier round released exactly its parties, and every task ended done,
-- cancelled (exactly the ones the driver cancelled) or failed as expected.
--
-- Runs as busted's main task inside asched: ASCHED_VIRTUAL_TIME=1 busted
-- --lua=asched load/sync_load_spec.lua, from tests/ (tests/CMakeLists.txt).
local helpers = require("spec.helpers")
local sync = require("spec.sync_helpers")
local load = require("load.support")

local SEED = load.seed(19190419)
local N = load.size(20000, 100000)     -- tasks per primitive
local TICK = 0.01

local function ticks(lo, hi) return TICK * math.random(lo, hi) end
local function me() return asched.current_task() end

-- With probability `p`, the running task sleeps 0 to `most` ticks in phase
-- `label` (so cancellations land there too).
local function pause(phase, p, label, most)
  if math.random() < p then
    phase[me()] = label
    asched.sleep(ticks(0, most))
  end
end

-- No task of the run is left behind once it is over, nor anything else on the
-- Lua heap (`heap`: load.heap_kb() before the run).
local function assert_no_task_left(heap)
  local left = #asched.all_tasks() - 1          -- busted's own main task
  assert.equals(0, left, "tasks left pending after the run")
  load.assert_heap_back(heap)
end

-- ---- semaphore, bounded semaphore, lock ----------------------------------------

-- N tasks through `sem` (k permits), in three styles: a <close> guard, :with, and
-- acquire/release by hand (the guard dropped unclosed: it must release nothing,
-- even when collected). Counts who holds it at every moment.
local function permits_run(sem, k)
  math.randomseed(SEED)
  local phase = {}
  local s = {holding = 0, most = 0, acquired = 0, released = 0}
  local v = load.violations()
  local function hold(self)
    phase[self] = "holding"
    s.acquired = s.acquired + 1
    s.holding = s.holding + 1
    s.most = math.max(s.most, s.holding)
    if s.holding > k then v.add("%d tasks hold %d permits", s.holding, k) end
  end
  local function unhold()
    s.holding = s.holding - 1
    s.released = s.released + 1
  end
  local function body()
    local self = me()
    pause(phase, 0.5, "before", 2)
    phase[self] = "acquiring"
    local style = math.random(3)
    if style == 1 then
      local permit <close> = sem:acquire()
      hold(self)
      local leave <close> = load.on_exit(unhold)
      asched.sleep(ticks(0, 3))
    elseif style == 2 then
      sem:with(function()
        hold(self)
        local leave <close> = load.on_exit(unhold)
        asched.sleep(ticks(0, 3))
      end)
    else
      sem:acquire()                    -- its guard is dropped, never closed
      hold(self)
      local ok, err = pcall(asched.sleep, ticks(0, 3))
      unhold()
      sem:release()
      if not ok then error(err, 0) end
    end
    phase[self] = "after"
    if math.random() < 0.3 then asched.sleep(0) end
  end
  local r = load.churn({
    n = N, phase = phase, body = body, tick = TICK, targets = {{"holding", 0.5}},
    step = function()
      if math.random() < 0.01 then collectgarbage() end   -- collects the unclosed guards
    end,
  })
  r.s, r.v = s, v
  return r
end

local function assert_permits(r, sem, k, heap)
  load.assert_churn(r, N, {"starting", "before", "acquiring", "holding"})
  r.v.assert_none("holders")
  assert.equals(0, r.s.holding, "tasks still counted as holding")
  assert.equals(r.s.acquired, r.s.released, "acquired and released")
  assert.equals(k, r.s.most, "most holders at once")
  assert.equals(k, sync.free_permits(sem, k + 1), "permits free at the end")
  assert_no_task_left(heap)
  load.report(tostring(sem):match("^%a+"), r, {acquired = r.s.acquired})
end

describe("load: " .. N .. " tasks cancelled at random", function()
  after_each(helpers.cancel_leftovers)

  it("through a semaphore(5): every permit comes back, never more than 5 holders", function()
    local heap = load.heap_kb()
    local sem = asched.semaphore(5)
    local r = permits_run(sem, 5)
    assert_permits(r, sem, 5, heap)
    assert.is_false(sem:locked())
  end)

  it("through a bounded_semaphore(3): every permit comes back, and not one more", function()
    local heap = load.heap_kb()
    local sem = asched.bounded_semaphore(3)
    local r = permits_run(sem, 3)
    assert_permits(r, sem, 3, heap)
    local ok, err = pcall(sem.release, sem)
    assert.is_false(ok)
    assert.equals("ValueError", load.error_name(err))
  end)

  it("through a lock: one holder at a time, and free at the end", function()
    local heap = load.heap_kb()
    local lock = asched.lock()
    local r = permits_run(lock, 1)
    assert_permits(r, lock, 1, heap)
    assert.is_false(lock:locked())
    local ok, err = pcall(lock.release, lock)
    assert.is_false(ok)
    assert.equals("RuntimeError", load.error_name(err))
  end)

  -- ---- event ----------------------------------------------------------------------

  it("waiting on an event set and cleared at random: every waiter wakes at the next set", function()
    local heap = load.heap_kb()
    math.randomseed(SEED)
    local ev = asched.event()
    local phase, since, v = {}, {}, load.violations()
    local sets, woken = 0, 0
    local function body()
      local self = me()
      for _ = 1, math.random(1, 2) do
        pause(phase, 0.5, "before", 3)
        phase[self] = "waiting"
        local at, was_set = sets, ev:is_set()
        since[self] = at
        local got = ev:wait()
        since[self] = nil
        woken = woken + 1
        if got ~= true then v.add("wait returned %s", tostring(got)) end
        if not was_set and sets == at then v.add("woke with no set since it began to wait") end
        phase[self] = "after"
      end
    end
    local r = load.churn({
      n = N, phase = phase, body = body, tick = TICK,
      step = function(live)
        -- A set wakes every waiter at once: by the driver's next step, all have run.
        for _, t in ipairs(live) do
          if since[t] and since[t] < sets and not t:done() then
            v.add("%s still waits, though the event was set after it began", t.name)
          end
        end
        local x = math.random()
        if x < 0.04 then
          sets = sets + 1
          ev:set()
          if math.random() < 0.5 then ev:clear() end   -- those woken still return true
        elseif x < 0.15 then
          ev:clear()
        end
      end,
      settle = function()
        sets = sets + 1
        ev:set()
      end,
      finished = function(t) since[t] = nil end,
    })
    load.assert_churn(r, N, {"starting", "before", "waiting"})
    v.assert_none("event waits")
    assert.is_true(woken >= N, "only " .. woken .. " waits returned")
    assert.is_true(sets > N // 2000, "only " .. sets .. " sets")
    load.report("event", r, {sets = sets, waits_returned = woken})
    assert_no_task_left(heap)
  end)

  -- ---- condition -------------------------------------------------------------------

  it("through a condition: producers notify, consumers wait_for; nothing lost, lock exclusive", function()
    local heap = load.heap_kb()
    math.randomseed(SEED)
    local cond = asched.condition(asched.lock())
    local phase, v = {}, load.violations()
    local s = {items = 0, produced = 0, consumed = 0}
    local holder
    local wait_serial, serial = setmetatable({}, {__mode = "k"}), 0   -- the order consumers began to wait
    local function enter(self)
      if holder ~= nil then v.add("%s holds the lock while %s does", self.name, holder.name) end
      holder = self
    end
    local function leave(self)
      if holder ~= self then v.add("%s leaves a lock held by %s", self.name, tostring(holder and holder.name)) end
      holder = nil
    end
    local function available() return s.items > 0 end

    local function consumer(self)
      phase[self] = "acquiring"
      local guard <close> = cond:acquire()
      enter(self)
      local inside <close> = load.on_exit(function() leave(self) end)
      phase[self] = "waiting"
      serial = serial + 1
      wait_serial[self] = serial
      if math.random() < 0.5 then
        leave(self)                        -- wait_for releases the lock...
        local ok, err = pcall(cond.wait_for, cond, available)
        enter(self)                        -- ...and takes it back, cancelled or not
        if not ok then error(err, 0) end
      else
        while s.items == 0 do
          leave(self)
          local ok, err = pcall(cond.wait, cond)
          enter(self)
          if not ok then error(err, 0) end
        end
      end
      if s.items <= 0 then v.add("%s consumed from an empty stock", self.name) end
      s.items = s.items - 1
      s.consumed = s.consumed + 1
      phase[self] = "holding"
      if math.random() < 0.05 then asched.sleep(ticks(0, 1)) end
    end

    local function producer(self)
      phase[self] = "acquiring"
      cond:with(function()
        enter(self)
        local inside <close> = load.on_exit(function() leave(self) end)
        s.items = s.items + 1
        s.produced = s.produced + 1
        if math.random() < 0.1 then cond:notify_all() else cond:notify(1) end
        phase[self] = "holding"
        if math.random() < 0.05 then asched.sleep(ticks(0, 1)) end
      end)
    end

    -- At rest (every task idle), a consumer may wait only on an empty stock: else
    -- a notification was lost. Newcomers would hide a lost one by taking the
    -- stock themselves, so the driver pauses now and then to look.
    local steps, rests, probes = 0, 0, 0
    local function waiting_consumers(live, r)
      local waiting = {}
      for _, t in ipairs(live) do
        if phase[t] == "waiting" and not r.requested_in[t] then waiting[#waiting + 1] = t end
      end
      return waiting
    end
    local function check_rest(live, r)
      local waiting = waiting_consumers(live, r)
      if #waiting > 0 and s.items > 0 then
        v.add("at rest, %d consumers wait while %d items are in stock", #waiting, s.items)
      end
      rests = rests + 1
    end
    -- A probe of "a notified waiter that is cancelled passes its notification
    -- on": one item and notify(1), which goes to the oldest waiter; then the
    -- oldest (up to three) are cancelled before they run. One of the others
    -- must get the item.
    local function probe(live, r)
      local waiting = waiting_consumers(live, r)
      if #waiting < 2 or s.items > 0 then return end
      table.sort(waiting, function(a, b) return wait_serial[a] < wait_serial[b] end)
      local driver = me()
      cond:with(function()
        enter(driver)
        s.items = s.items + 1
        s.produced = s.produced + 1
        cond:notify(1)
        leave(driver)
      end)
      for k = 1, math.min(3, #waiting - 1) do r.cancel(waiting[k], "waiting, at a probe") end
      asched.sleep(1)
      if s.items ~= 0 then v.add("a notification given to a waiter cancelled before it ran was lost") end
      probes = probes + 1
    end
    local r = load.churn({
      n = N, phase = phase, tick = TICK, targets = {{"waiting", 0.5}, {"holding", 0.2}},
      step = function(live, r)
        steps = steps + 1
        if steps % 10 == 0 then
          asched.sleep(1)
          check_rest(live, r)
          probe(live, r)
        end
      end,
      body = function()
        local self = me()
        pause(phase, 0.5, "before", 2)
        if math.random() < 0.55 then return consumer(self) else return producer(self) end
      end,
      settle = function(live, r)
        -- The consumers left wait for items nobody will produce: cancelled.
        check_rest(live, r)
        for _, t in ipairs(live) do
          if phase[t] ~= "waiting" then v.add("%s rests in phase %s", t.name, tostring(phase[t])) end
          r.cancel(t, "at rest")
        end
      end,
    })
    load.assert_churn(r, N, {"starting", "acquiring", "waiting", "holding"})
    v.assert_none("condition")
    assert.is_true(rests > N // 1000, "only " .. rests .. " rests")
    assert.is_true(probes > N // 2000, "only " .. probes .. " probes")
    assert.equals(s.produced - s.consumed, s.items, "stock = produced - consumed")
    assert.is_true(s.items >= 0)
    assert.is_nil(holder)
    assert.is_false(cond:locked())
    assert_no_task_left(heap)
    load.report("condition", r, {produced = s.produced, consumed = s.consumed, left = s.items, rests = rests, probes = probes})
  end)
end)

-- ---- queues ------------------------------------------------------------------------

-- What the queue should hold, in the order it gives items out: the items whose
-- put returned, less those whose get returned. A get must return model:pop().
local function model(kind)
  local m = {count = 0, head = 1, tail = 0, items = {}}
  function m.push(id, prio)
    m.tail = m.tail + 1
    m.items[m.tail] = {id = id, prio = prio}
    m.count = m.count + 1
  end
  function m.pop()
    if m.count == 0 then return nil end
    local at
    if kind == "fifo" then
      at = m.head
    elseif kind == "lifo" then
      at = m.tail
    else                                -- lowest priority; equal ones in put order
      for i = m.head, m.tail do
        local e = m.items[i]
        if e and (not at or e.prio < m.items[at].prio) then at = i end
      end
    end
    local e = m.items[at]
    m.items[at] = nil
    m.count = m.count - 1
    while m.head <= m.tail and m.items[m.head] == nil do m.head = m.head + 1 end
    while m.tail >= m.head and m.items[m.tail] == nil do m.tail = m.tail - 1 end
    if m.count == 0 then m.head, m.tail = 1, 0 end
    return e
  end
  function m.clear()
    local ids = {}
    for i = m.head, m.tail do
      if m.items[i] then ids[#ids + 1] = m.items[i].id end
    end
    m.items, m.head, m.tail, m.count = {}, 1, 0, 0
    return ids
  end
  return m
end

local QUEUES = {
  fifo = asched.queue, lifo = asched.lifo_queue, priority = asched.priority_queue,
}
local SEGMENT = 1000                  -- tasks per queue; each queue ends shut down

-- N tasks through queues of `kind`, SEGMENT tasks per queue: putters and getters,
-- some with put_nowait/get_nowait; every queue is shut down, gracefully or
-- immediately, in the middle of the traffic or once it is over.
local function queue_run(kind)
  math.randomseed(SEED)
  local v = load.violations()
  local totals = load.churn_total()
  totals.put, totals.got, totals.dropped, totals.full, totals.empty, totals.rests = 0, 0, 0, 0, 0, 0
  local next_id = 0
  local segments = N // SEGMENT
  for seg = 1, segments do
    local sizes = kind == "priority" and {1, 2, 3, 5, 8} or {0, 1, 2, 3, 5, 8}
    local maxsize = sizes[math.random(#sizes)]
    local q = QUEUES[kind](maxsize)
    local m, state, phase = model(kind), {}, {}
    local how = ({"graceful at the end", "immediate at the end", "graceful midway", "immediate midway"})[seg % 4 + 1]

    local function put_done(id, prio)
      state[id] = "queued"
      m.push(id, prio)
      totals.put = totals.put + 1
    end
    local function got(id, prio)
      local e = m.pop()
      if not e then
        v.add("%s queue %d: got %s from a queue that should be empty", kind, seg, tostring(id))
      elseif e.id ~= id or (kind == "priority" and e.prio ~= prio) then
        v.add("%s queue %d: got %s (priority %s), expected %s (priority %s)", kind, seg,
              tostring(id), tostring(prio), tostring(e.id), tostring(e.prio))
        if e then m.push(e.id, e.prio) end
      end
      if state[id] ~= "queued" then
        v.add("%s queue %d: got item %s, whose state was %s", kind, seg, tostring(id), tostring(state[id]))
      end
      state[id] = "got"
      totals.got = totals.got + 1
      q:task_done()
    end
    local function shutdown()
      local immediate = how:match("immediate") ~= nil
      if q:size() ~= m.count then v.add("%s queue %d: size %d, model %d", kind, seg, q:size(), m.count) end
      if immediate then
        for _, id in ipairs(m.clear()) do
          state[id] = "dropped"
          totals.dropped = totals.dropped + 1
        end
      end
      q:shutdown(immediate)
    end

    local function putter(self)
      for _ = 1, math.random(1, 3) do
        pause(phase, 0.5, "between", 3)
        next_id = next_id + 1
        local id, prio = next_id, math.random(1, 4)
        phase[self] = "putting"
        local args = kind == "priority" and {prio, id} or {id}
        if math.random() < 0.2 then
          local ok, err = pcall(q.put_nowait, q, table.unpack(args))
          if ok then
            put_done(id, prio)
          elseif load.error_name(err) == "QueueFull" then
            totals.full = totals.full + 1
          else
            error(err, 0)
          end
        else
          q:put(table.unpack(args))
          put_done(id, prio)
        end
      end
    end

    local function getter(self)
      for _ = 1, math.random(1, 3) do
        pause(phase, 0.5, "between", 3)
        phase[self] = "getting"
        if math.random() < 0.2 then
          local ok, id, prio = pcall(q.get_nowait, q)
          if ok then
            got(id, prio)
          elseif load.error_name(id) == "QueueEmpty" then
            totals.empty = totals.empty + 1
          else
            error(id, 0)
          end
        else
          got(q:get())
        end
      end
    end

    local steps, shut_at = 0, math.random(5, SEGMENT // 50)
    local r = load.churn({
      n = SEGMENT, phase = phase, tick = TICK, width = 300, batch = 50, drain = 100,
      targets = {{"putting", 0.3}, {"getting", 0.3}},
      body = function()
        local self = me()
        if math.random() < 0.5 then return putter(self) else return getter(self) end
      end,
      expect = function(outcome) return outcome == "done" or outcome == "failed:QueueShutDown" end,
      step = function(live, r)
        steps = steps + 1
        if q:size() ~= m.count then v.add("%s queue %d: size %d, model %d", kind, seg, q:size(), m.count) end
        if maxsize > 0 and q:size() > maxsize then v.add("%s queue %d: size %d > %d", kind, seg, q:size(), maxsize) end
        if steps == shut_at and how:match("midway") then shutdown() end
        if steps % 7 == 0 then
          -- At rest, a getter waits only on an empty queue, a putter on a full one.
          asched.sleep(1)
          local getters, putters = 0, 0
          for _, t in ipairs(live) do
            if not r.requested_in[t] and not t:done() then
              if phase[t] == "getting" then getters = getters + 1 end
              if phase[t] == "putting" then putters = putters + 1 end
            end
          end
          if getters > 0 and not q:empty() then v.add("%s queue %d: %d getters wait, %d items in", kind, seg, getters, q:size()) end
          if putters > 0 and not q:full() then v.add("%s queue %d: %d putters wait, room for more", kind, seg, putters) end
          totals.rests = totals.rests + 1
        end
      end,
      settle = function()
        if how:match("at the end") then shutdown() end
      end,
    })
    if how:match("at the end") and r.outcomes["failed:QueueShutDown"] == 0 then
      shutdown()                        -- nobody waited: shut it down anyway
    end
    -- What is left after a graceful shutdown comes out in order, then QueueShutDown.
    while true do
      local ok, id, prio = pcall(q.get_nowait, q)
      if not ok then
        if load.error_name(id) ~= "QueueShutDown" then
          v.add("%s queue %d: get_nowait after shutdown raised %s", kind, seg, tostring(id))
        end
        break
      end
      got(id, prio)
    end
    if q:size() ~= 0 or m.count ~= 0 then v.add("%s queue %d: %d left (model %d)", kind, seg, q:size(), m.count) end
    for id, st in pairs(state) do
      if st == "queued" then v.add("%s queue %d: item %d neither got nor dropped", kind, seg, id) end
    end
    local joined = pcall(asched.timeout, 1, q.join, q)
    if not joined then v.add("%s queue %d: join did not return", kind, seg) end
    local ok, err = pcall(q.task_done, q)
    if ok or load.error_name(err) ~= "ValueError" then
      v.add("%s queue %d: one task_done too many did not raise ValueError", kind, seg)
    end
    load.add_churn(totals, r)
  end
  totals.v = v
  return totals
end

describe("load: " .. N .. " tasks through queues, cancelled at random, each queue shut down", function()
  after_each(helpers.cancel_leftovers)

  for _, kind in ipairs({"fifo", "lifo", "priority"}) do
    it(kind .. ": every item put is got exactly once, in order, or dropped by shutdown(true)", function()
      local heap = load.heap_kb()
      local t = queue_run(kind)
      load.assert_churn(t, N, {"starting", "between", "putting", "getting"})
      t.v.assert_none(kind .. " queues")
      assert.equals(t.put, t.got + t.dropped, "put = got + dropped")
      assert.is_true(t.put > N // 2, "only " .. t.put .. " items were put")
      assert.is_true(t.dropped > 0, "shutdown(true) never dropped an item")
      assert.is_true(t.outcomes["failed:QueueShutDown"] > 0, "no task saw QueueShutDown")
      assert.is_true(t.full > 0 and t.empty > 0, "put_nowait never met a full queue, or get_nowait an empty one")
      assert_no_task_left(heap)
      assert.is_true(t.rests > N // 1000, "only " .. t.rests .. " rests")
      load.report(kind .. " queues", t, {put = t.put, got = t.got, dropped = t.dropped, rests = t.rests})
    end)
  end
end)

-- ---- barrier -----------------------------------------------------------------------

-- N tasks through barriers of 2..7 parties (SEGMENT tasks per barrier), reset and
-- aborted at random. Every release is an "event" (a round filled, or a
-- reset/abort); each waiter knows which event must release it (the next one after
-- its call), so each round can be checked: `parties` distinct indices, less the
-- waiters cancelled after the round filled; each reset breaks exactly the waiters
-- it found.
local function barrier_run()
  math.randomseed(SEED)
  local v = load.violations()
  local totals = load.churn_total()
  totals.rounds, totals.resets, totals.refused, totals.cancelled_after_release = 0, 0, 0, 0
  for seg = 1, N // SEGMENT do
    local parties = ({2, 3, 4, 7})[math.random(4)]
    local b = asched.barrier(parties)
    local phase, called_at = {}, {}
    local epoch, events = 0, {}
    local function release_event(kind, size)
      epoch = epoch + 1
      events[epoch] = {kind = kind, size = size, returned = 0, broken = 0, cancelled_after = 0, indices = {}}
    end
    local function break_it(kind)
      release_event(kind, b:n_waiting())
      if kind == "abort" then b:abort() else b:reset() end
      totals.resets = totals.resets + 1
    end

    local function body()
      local self = me()
      for _ = 1, math.random(1, 2) do
        pause(phase, 0.6, "before", 3)
        phase[self] = "waiting"
        local at, broken = epoch, b:broken()
        if not broken and b:n_waiting() == parties - 1 then
          release_event("fill", parties)   -- this call fills the round
        end
        called_at[self] = at
        local ok, index = pcall(b.wait, b)
        called_at[self] = nil
        if broken then
          if ok or load.error_name(index) ~= "BrokenBarrierError" then
            v.add("wait on a broken barrier did not raise BrokenBarrierError")
          end
          totals.refused = totals.refused + 1
          error(index, 0)
        end
        local ev = events[at + 1]
        if not ok then
          local name = load.error_name(index)
          if name == "BrokenBarrierError" then
            if not ev or ev.kind == "fill" then v.add("BrokenBarrierError with no reset since the wait began")
            else ev.broken = ev.broken + 1 end
          elseif name ~= "CancelledError" then
            v.add("wait raised %s", tostring(index))
          end
          error(index, 0)
        end
        if not ev or ev.kind ~= "fill" then
          v.add("wait returned %s, but no round filled since it began", tostring(index))
        else
          ev.returned = ev.returned + 1
          if math.type(index) ~= "integer" or index < 0 or index >= parties then
            v.add("index %s out of 0..%d", tostring(index), parties - 1)
          elseif ev.indices[index] then
            v.add("index %d given twice in one round", index)
          end
          ev.indices[index] = true
        end
        phase[self] = "after"
      end
    end

    local broken_for = 0
    local r = load.churn({
      n = SEGMENT, phase = phase, body = body, tick = TICK, width = 300, batch = 50, drain = 100,
      targets = {{"waiting", 0.3}},
      expect = function(outcome) return outcome == "done" or outcome == "failed:BrokenBarrierError" end,
      on_cancel = function(t, p)
        -- Cancelled after its round filled (or was broken) but before it ran:
        -- it raises CancelledError, and its index is not given to anyone else.
        if p == "waiting" and called_at[t] and epoch > called_at[t] then
          local ev = events[called_at[t] + 1]
          ev.cancelled_after = ev.cancelled_after + 1
          totals.cancelled_after_release = totals.cancelled_after_release + 1
        end
      end,
      step = function(live, r)
        -- Who waits now: those that called wait since the last release and
        -- were not cancelled (a cancelled waiter leaves at once).
        local waiting = 0
        for _, t in ipairs(live) do
          if called_at[t] == epoch and not r.requested_in[t] then waiting = waiting + 1 end
        end
        if b:n_waiting() ~= waiting then
          v.add("barrier %d: n_waiting() is %d, but %d tasks wait", seg, b:n_waiting(), waiting)
        end
        if b:broken() then
          broken_for = broken_for - 1
          if broken_for <= 0 then break_it("reset") end
        elseif math.random() < 0.01 then
          break_it("reset")
        elseif math.random() < 0.005 then
          break_it("abort")
          broken_for = math.random(1, 3)
        end
      end,
      settle = function() break_it("reset") end,
    })
    if b:broken() then break_it("reset") end
    for i, ev in ipairs(events) do
      local accounted = (ev.kind == "fill" and ev.returned or ev.broken) + ev.cancelled_after
      if accounted ~= ev.size then
        v.add("barrier %d, release %d (%s of %d): %d returned, %d broken, %d cancelled after it", seg, i,
              ev.kind, ev.size, ev.returned, ev.broken, ev.cancelled_after)
      end
      if ev.kind == "fill" then totals.rounds = totals.rounds + 1 end
    end
    if b:n_waiting() ~= 0 or b:broken() then v.add("barrier %d not empty and whole at the end", seg) end
    -- A fresh round still fills with exactly `parties` waiters.
    local round = asched.gather((function()
      local list = {}
      for i = 1, parties do list[i] = function() return b:wait() end end
      return list
    end)())
    local indices = {}
    for i = 1, parties do indices[i] = round[i] end
    table.sort(indices)
    for i = 1, parties do
      if indices[i] ~= i - 1 then v.add("barrier %d: a last round gave %s", seg, table.concat(indices, ",")) break end
    end
    load.add_churn(totals, r)
  end
  totals.v = v
  return totals
end

describe("load: " .. N .. " tasks through barriers, cancelled, reset and aborted at random", function()
  after_each(helpers.cancel_leftovers)

  it("releases every round with distinct indices, and each reset breaks exactly its waiters", function()
    local heap = load.heap_kb()
    local t = barrier_run()
    load.assert_churn(t, N, {"starting", "before", "waiting"})
    t.v.assert_none("barrier rounds")
    assert.is_true(t.rounds > N // 10, "only " .. t.rounds .. " rounds")
    assert.is_true(t.refused > 0, "no wait met an aborted barrier")
    assert.is_true(t.cancelled_after_release > 0, "no waiter was cancelled between its release and its turn")
    assert_no_task_left(heap)
    load.report("barriers", t, {rounds = t.rounds, resets = t.resets, refused = t.refused,
                                cancelled_after_release = t.cancelled_after_release})
  end)
end)
