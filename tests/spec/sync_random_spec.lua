-- sync_random_spec.lua -- thousands of tasks on one semaphore, one lock and one
-- bounded queue, cancelled at random while acquiring, holding, putting and getting:
-- nothing is lost (every permit comes back, every item put is received exactly
-- once) and nothing is stuck (API.md, Synchronisation; issue 4).
--
-- A fixed seed makes the run the same every time. All times are multiples of one
-- tick, and the canceller runs last at each tick, after the tasks whose sleeps end
-- there have released, put and got: so it often cancels a waiter that was just
-- handed a permit, the lock or an item but has not run yet -- it picks the oldest
-- waiter of a phase (the one a FIFO queue serves first) as often as a random one.
local helpers = require("spec.helpers")
local sync = require("spec.sync_helpers")

local SEED = 20240611
local TASKS = 3000
local PERMITS, MAXSIZE = 3, 4
local TICK = 0.01

-- The phases a task is cancelled in, and how often per tick one task in each is
-- picked (a list, so the random numbers are drawn in the same order every run).
local CANCEL_RATE = {
  {"acquiring the semaphore", 0.3}, {"holding the semaphore", 0.05},
  {"acquiring the lock", 0.3}, {"holding the lock", 0.1},
  {"putting", 0.3}, {"getting", 0.3},
}

local function ticks(lo, hi) return math.random(lo, hi) * TICK end

-- The tasks in one phase: pick a random one, or the one that arrived first.
-- `list` and `index` hold them for random picks (removal swaps in the last);
-- `arrivals[first..last]` holds them in arrival order, each entry valid while
-- `arrived[t]` still names it.
local function phase_set()
  return {list = {}, index = {}, arrivals = {}, arrived = {}, first = 1, last = 0}
end

local function phase_add(set, t)
  set.list[#set.list + 1] = t
  set.index[t] = #set.list
  set.last = set.last + 1
  set.arrivals[set.last] = t
  set.arrived[t] = set.last
end

local function phase_remove(set, t)
  local i = set.index[t]
  local last = set.list[#set.list]
  set.list[i], set.index[last] = last, i
  set.list[#set.list], set.index[t] = nil, nil
  set.arrived[t] = nil
end

local function oldest(set)
  while set.first <= set.last and set.arrived[set.arrivals[set.first]] ~= set.first do
    set.arrivals[set.first] = nil
    set.first = set.first + 1
  end
  return set.arrivals[set.first]
end

-- One run of the workload; returns what the spec checks.
local function run_workload()
  math.randomseed(SEED)
  local sem, lock, q = asched.semaphore(PERMITS), asched.lock(), asched.queue(MAXSIZE)
  local r = {
    sem = sem, lock = lock, q = q,
    in_sem = 0, most_in_sem = 0, in_lock = 0, most_in_lock = 0,
    put = {}, received = {}, received_twice = {},
    cancelled_while = {},       -- phase -> how many cancellations landed there
    phase = {},                 -- task -> the phase it is in now
    in_phase = {},              -- phase -> its phase_set
    permit_tasks = {}, queue_tasks = {},
  }
  for _, phase_rate in ipairs(CANCEL_RATE) do
    r.cancelled_while[phase_rate[1]] = 0
    r.in_phase[phase_rate[1]] = phase_set()
  end
  local next_item = 0

  local function set_phase(t, phase)
    if r.in_phase[r.phase[t]] then phase_remove(r.in_phase[r.phase[t]], t) end
    r.phase[t] = phase
    if r.in_phase[phase] then phase_add(r.in_phase[phase], t) end
  end

  -- A <close>-able value that calls fn when its scope ends, however it ends.
  local function on_exit(fn)
    return setmetatable({}, {__close = fn})
  end

  local function semaphore_user(self)
    asched.sleep(ticks(0, 300))
    set_phase(self, "acquiring the semaphore")
    local permit <close> = sem:acquire()
    set_phase(self, "holding the semaphore")
    r.in_sem = r.in_sem + 1
    r.most_in_sem = math.max(r.most_in_sem, r.in_sem)
    local leave <close> = on_exit(function() r.in_sem = r.in_sem - 1 end)
    asched.sleep(ticks(1, 10))
  end

  local function lock_user(self)
    asched.sleep(ticks(0, 300))
    set_phase(self, "acquiring the lock")
    lock:with(function()
      set_phase(self, "holding the lock")
      r.in_lock = r.in_lock + 1
      r.most_in_lock = math.max(r.most_in_lock, r.in_lock)
      local leave <close> = on_exit(function() r.in_lock = r.in_lock - 1 end)
      asched.sleep(ticks(0, 3))
    end)
  end

  local function putter(self)
    for _ = 1, math.random(1, 3) do
      asched.sleep(ticks(0, 200))
      next_item = next_item + 1
      local item = next_item
      set_phase(self, "putting")
      q:put(item)
      r.put[item] = true
      set_phase(self, "between")
    end
  end

  local function getter(self)
    for _ = 1, math.random(1, 3) do
      asched.sleep(ticks(100, 300))
      set_phase(self, "getting")
      local item = q:get()
      if r.received[item] then r.received_twice[#r.received_twice + 1] = item end
      r.received[item] = true
      set_phase(self, "between")
    end
  end

  local roles = {semaphore_user, lock_user, putter, getter}
  for _ = 1, TASKS do
    local role = math.random(#roles)
    local t
    t = asched.spawn(function()
      local finished <close> = on_exit(function() set_phase(t, "done") end)
      return roles[role](t)
    end)
    r.phase[t] = "starting"
    local list = role <= 2 and r.permit_tasks or r.queue_tasks
    list[#list + 1] = t
  end

  local cancelling = true
  local canceller = asched.spawn(function()
    while cancelling do
      asched.sleep(TICK)
      for _, phase_rate in ipairs(CANCEL_RATE) do
        local phase, rate = phase_rate[1], phase_rate[2]
        local set = r.in_phase[phase]
        if #set.list > 0 and math.random() < rate then
          local victim = math.random() < 0.5 and oldest(set) or set.list[math.random(#set.list)]
          victim:cancel("random")
          r.cancelled_while[phase] = r.cancelled_while[phase] + 1
        end
      end
    end
  end)

  -- Every semaphore and lock user ends, one way or another, unless a permit was lost.
  local _, pending = asched.wait(r.permit_tasks, {timeout = 1000})
  r.stuck_permit_tasks = #pending
  cancelling = false
  canceller:await()
  asched.sleep(1)   -- let the queue tasks settle: each now waits on the queue or is done

  -- A putter still waiting must face a full queue, a getter an empty one.
  r.waiting_putters, r.waiting_getters = #r.in_phase.putting.list, #r.in_phase.getting.list
  r.full_at_rest, r.empty_at_rest = q:full(), q:empty()

  for _, t in ipairs(r.queue_tasks) do t:cancel("the end") end
  for _, t in ipairs(r.queue_tasks) do pcall(t.await, t) end
  while not q:empty() do
    local item = q:get_nowait()
    if r.received[item] then r.received_twice[#r.received_twice + 1] = item end
    r.received[item] = true
  end
  return r
end

describe("thousands of tasks cancelled at random on a semaphore, a lock and a queue", function()
  after_each(helpers.cancel_leftovers)

  local r
  setup(function() r = run_workload() end)

  it("cancelled tasks in every phase: acquiring, holding, putting and getting", function()
    for _, phase_rate in ipairs(CANCEL_RATE) do
      local phase = phase_rate[1]
      local n = r.cancelled_while[phase]
      assert.is_true(n >= 20, phase .. ": only " .. n .. " cancellations")
    end
  end)

  it("moved many items through the queue", function()
    local put = 0
    for _ in pairs(r.put) do put = put + 1 end
    assert.is_true(put > 1000, "only " .. put .. " items were put")
  end)

  it("every semaphore and lock user finished: none was left waiting on a lost permit", function()
    assert.equals(0, r.stuck_permit_tasks)
  end)

  it("never let more tasks hold the semaphore than it has permits, nor two hold the lock", function()
    assert.equals(PERMITS, r.most_in_sem)
    assert.equals(1, r.most_in_lock)
  end)

  it("ends with every permit back: the semaphore has its initial count free and the lock is unlocked", function()
    assert.equals(0, r.in_sem)
    assert.equals(0, r.in_lock)
    assert.equals(PERMITS, sync.free_permits(r.sem))
    assert.is_false(r.lock:locked())
    assert.equals(1, sync.free_permits(r.lock))
  end)

  it("left no putter waiting on a queue with room, nor a getter waiting on a queue with items", function()
    if r.waiting_putters > 0 then
      assert.is_true(r.full_at_rest, r.waiting_putters .. " putters wait on a queue that is not full")
    end
    if r.waiting_getters > 0 then
      assert.is_true(r.empty_at_rest, r.waiting_getters .. " getters wait on a queue that is not empty")
    end
  end)

  it("received every item put exactly once, and none that a cancelled put did not put", function()
    assert.same({}, r.received_twice)
    local lost, invented = {}, {}
    for item in pairs(r.put) do
      if not r.received[item] then lost[#lost + 1] = item end
    end
    for item in pairs(r.received) do
      if not r.put[item] then invented[#invented + 1] = item end
    end
    table.sort(lost)
    table.sort(invented)
    assert.same({}, lost)
    assert.same({}, invented)
  end)
end)
