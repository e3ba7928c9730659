-- sync_barrier_spec.lua -- asched.barrier (asyncio 3.11's Barrier): wait releasing a
-- full round with distinct arrival indices 0 .. parties-1, refilling at once (no
-- draining phase), reset and abort raising BrokenBarrierError, parties / n_waiting /
-- broken, waiters cancelled before the round fills leaving it (including the race
-- with an arrival in the same step), and argument errors (API.md, Synchronisation
-- and Errors). The CPython BarrierTests translations are in asyncio_locks_queues_spec.
local helpers = require("spec.helpers")
local sync = require("spec.sync_helpers")
local error_of, assert_error_named = helpers.error_of, helpers.assert_error_named
local assert_elapsed, spawn_each = helpers.assert_elapsed, sync.spawn_each

-- A task body: waits on `b` and returns its index.
local function waiter(b)
  return function() return b:wait() end
end

-- Awaits every task of `tasks`; returns their first results as a list.
local function results(tasks)
  local r = {}
  for i, t in ipairs(tasks) do r[i] = t:await() end
  return r
end

describe("asched.barrier", function()
  after_each(helpers.cancel_leftovers)

  it("has a parties field, and a fresh barrier has nobody waiting and is not broken", function()
    local b = asched.barrier(3)
    assert.equals(3, b.parties)
    assert.equals("integer", math.type(b.parties))
    assert.equals(0, b:n_waiting())
    assert.is_false(b:broken())
  end)

  it("wait suspends until parties tasks wait, then releases them all at that instant", function()
    local t0 = asched.now()
    local b = asched.barrier(3)
    local seen = {}
    local tasks = spawn_each(3, function(i)
      asched.sleep(i - 1)
      seen[i] = b:n_waiting()          -- before this task arrives
      b:wait()
      return asched.now()
    end)
    for _, released_at in ipairs(results(tasks)) do assert_elapsed(2, t0, released_at) end
    assert.same({0, 1, 2}, seen)
    assert.equals(0, b:n_waiting())
    assert.is_false(b:broken())
  end)

  it("gives distinct indices in arrival order; the last arrival gets parties-1 without suspending", function()
    local b = asched.barrier(3)
    local tasks = spawn_each(2, waiter(b))
    asched.sleep(0)
    assert.equals(2, b:n_waiting())
    assert.equals(2, b:wait())
    -- main did not suspend: the two released tasks have not run yet
    assert.is_false(tasks[1]:done())
    assert.is_false(tasks[2]:done())
    assert.equals(0, b:n_waiting())
    assert.same({0, 1}, results(tasks))
  end)

  it("a barrier of one party never suspends and always gives index 0", function()
    local t0 = asched.now()
    local b = asched.barrier(1)
    for _ = 1, 3 do
      assert.equals(0, b:wait())
      assert.equals(0, b:n_waiting())
    end
    assert.equals(t0, asched.now())
    assert.is_false(b:broken())
  end)

  it("refills at once: a task that waits again before the others of its round resumed counts toward the next round", function()
    local t0 = asched.now()
    local b = asched.barrier(2)
    local other = asched.spawn(function()
      local first = b:wait()
      local waiting_when_resumed = b:n_waiting()
      local second = b:wait()
      return first, waiting_when_resumed, second
    end)
    asched.sleep(0)
    assert.equals(1, b:wait())         -- fills round 1; `other` is released but has not run
    assert.equals(0, b:wait())         -- the first of round 2, though `other` has not left round 1
    assert.same({0, 1, 1}, {other:await()})
    assert_elapsed(0, t0)
  end)

  it("round after round, each round gives 0 .. parties-1 and no task passes a round ahead of the others", function()
    local b = asched.barrier(3)
    local rounds, done_before = {{}, {}, {}, {}}, {}
    local tasks = spawn_each(3, function(i)
      for r = 1, 4 do
        asched.sleep(((i + r) % 3) * 0.5)
        local index = b:wait()
        done_before[#done_before + 1] = r > 1 and #rounds[r - 1] or 3
        table.insert(rounds[r], index)
      end
    end)
    results(tasks)
    for r = 1, 4 do
      table.sort(rounds[r])
      assert.same({0, 1, 2}, rounds[r])
    end
    for _, n in ipairs(done_before) do assert.equals(3, n) end
    assert.equals(0, b:n_waiting())
  end)

  it("reset makes the current waiters raise BrokenBarrierError at once and leaves the barrier whole", function()
    local t0 = asched.now()
    local b = asched.barrier(3)
    local tasks = spawn_each(2, waiter(b))
    asched.sleep(1)
    b:reset()
    assert.equals(0, b:n_waiting())
    assert.is_false(b:broken())
    for _, t in ipairs(tasks) do
      local err = error_of(t.await, t)
      assert_error_named("BrokenBarrierError", err)
      assert.equals("BrokenBarrierError: " .. err.message, tostring(err))
    end
    assert_elapsed(1, t0)
    -- usable again: a full round passes
    tasks = spawn_each(2, waiter(b))
    asched.sleep(0)
    assert.equals(2, b:wait())
    assert.same({0, 1}, results(tasks))
  end)

  it("abort makes the current waiters raise BrokenBarrierError, and every later wait too, until reset", function()
    local t0 = asched.now()
    local b = asched.barrier(2)
    local first = asched.spawn(waiter(b))
    asched.sleep(1)
    b:abort()
    assert.is_true(b:broken())
    assert.equals(0, b:n_waiting())
    assert_error_named("BrokenBarrierError", error_of(first.await, first))
    -- later waits raise at once, and are not counted
    for _ = 1, 3 do
      assert_error_named("BrokenBarrierError", error_of(b.wait, b))
      assert.equals(0, b:n_waiting())
    end
    local late = asched.spawn(waiter(b))
    assert_error_named("BrokenBarrierError", error_of(late.await, late))
    assert_elapsed(1, t0)
    assert.is_true(b:broken())
    b:reset()
    assert.is_false(b:broken())
    local again = asched.spawn(waiter(b))
    asched.sleep(0)
    assert.equals(1, b:wait())
    assert.equals(0, again:await())
  end)

  it("reset and abort on a barrier nobody waits on only change broken()", function()
    local b = asched.barrier(2)
    b:reset()
    assert.is_false(b:broken())
    b:abort()
    b:abort()
    assert.is_true(b:broken())
    b:reset()
    b:reset()
    assert.is_false(b:broken())
    assert.equals(0, b:n_waiting())
  end)

  it("a round already released keeps its indices when reset or abort follows in the same step", function()
    for _, method in ipairs({"reset", "abort"}) do
      local b = asched.barrier(3)
      local tasks = spawn_each(2, waiter(b))
      asched.sleep(0)
      assert.equals(2, b:wait())       -- releases the round
      b[method](b)                     -- before the released tasks resumed
      assert.same({0, 1}, results(tasks))
      assert.equals(method == "abort", b:broken())
    end
  end)
end)

describe("cancelling a task waiting on asched.barrier", function()
  after_each(helpers.cancel_leftovers)

  it("a waiter cancelled before the round fills leaves it at once; the barrier is not broken", function()
    local b = asched.barrier(4)
    local tasks = spawn_each(3, waiter(b))
    asched.sleep(0)
    assert.equals(3, b:n_waiting())
    tasks[2]:cancel()
    assert.equals(2, b:n_waiting())    -- left the moment it was cancelled
    assert_error_named("CancelledError", error_of(tasks[2].await, tasks[2]))
    assert.equals(2, b:n_waiting())
    assert.is_false(b:broken())
    assert.is_false(tasks[1]:done())
    assert.is_false(tasks[3]:done())
    -- two more arrivals fill the round; the indices stay distinct, in arrival order
    local late = asched.spawn(waiter(b))
    asched.sleep(0)
    assert.equals(3, b:n_waiting())
    assert.equals(3, b:wait())
    assert.same({0, 1, 2}, {tasks[1]:await(), tasks[3]:await(), late:await()})
    assert.is_false(b:broken())
  end)

  it("a waiter cancelled while another task, already ready, arrives in the same step: the arrival does not pass a 2-party barrier alone", function()
    local b = asched.barrier(2)
    local w1 = asched.spawn(waiter(b))
    asched.sleep(0)
    assert.equals(1, b:n_waiting())
    local w2 = asched.spawn(waiter(b))  -- ready: it arrives in the next step
    w1:cancel()                          -- in this same step
    asched.sleep(0)                      -- w2 has arrived, w1 has taken its cancellation
    assert.is_false(w2:done())
    assert.equals(1, b:n_waiting())
    assert.is_false(b:broken())
    assert_error_named("CancelledError", error_of(w1.await, w1))
    -- w2 passes with a real partner
    assert.equals(1, b:wait())
    assert.equals(0, w2:await())
  end)

  it("a waiter whose asched.timeout expires leaves the round; the barrier is not broken", function()
    local t0 = asched.now()
    local b = asched.barrier(2)
    local err = error_of(asched.timeout, 1, b.wait, b)
    assert_error_named("TimeoutError", err)
    assert_elapsed(1, t0)
    assert.equals(0, b:n_waiting())
    assert.is_false(b:broken())
    local partner = asched.spawn(waiter(b))
    asched.sleep(0)
    assert.equals(1, b:wait())
    assert.equals(0, partner:await())
  end)

  it("a waiter cancelled after its round was released raises CancelledError; the others keep their indices", function()
    local b = asched.barrier(3)
    local tasks = spawn_each(2, waiter(b))
    asched.sleep(0)
    assert.equals(2, b:wait())
    tasks[1]:cancel()                    -- released, not yet resumed
    assert_error_named("CancelledError", error_of(tasks[1].await, tasks[1]))
    assert.equals(1, tasks[2]:await())
    assert.is_false(b:broken())
    assert.equals(0, b:n_waiting())
  end)
end)

describe("asched.barrier argument errors", function()
  after_each(helpers.cancel_leftovers)
  local message_of = helpers.argument_error_message

  it("parties must be a positive integer", function()
    local cases = {
      {function() return asched.barrier(0) end, "got 0"},
      {function() return asched.barrier(-4) end, "got -4"},
      {function() return asched.barrier() end, "got no value"},
      {function() return asched.barrier(nil) end, "got nil"},
      {function() return asched.barrier(1.5) end, "got 1.5"},
      {function() return asched.barrier("x") end, "got string"},
      {function() return asched.barrier({}) end, "got table"},
    }
    for _, case in ipairs(cases) do
      assert.equals("bad argument #1 to 'barrier' (positive integer expected, " .. case[2] .. ")",
                    message_of(error_of(case[1])))
    end
  end)

  it("a float with an integer value is accepted", function()
    assert.equals(2, asched.barrier(2.0).parties)
  end)

  it("a method called on something that is not a barrier names the Barrier type", function()
    local b = asched.barrier(2)
    assert.equals("bad argument #1 to 'wait' (asched.Barrier expected, got number)",
                  message_of(error_of(function() b.wait(5) end)))
    assert.equals("bad argument #1 to 'n_waiting' (asched.Barrier expected, got asched.Queue)",
                  message_of(error_of(function() b.n_waiting(asched.queue()) end)))
    for _, name in ipairs({"wait", "reset", "abort", "n_waiting", "broken"}) do
      assert.equals("bad argument #1 to '" .. name .. "' (asched.Barrier expected, got no value)",
                    message_of(error_of(function() b[name]() end)))
    end
    local fake = setmetatable({}, {__index = {wait = b.wait}})
    assert.equals("calling 'wait' on bad self (asched.Barrier expected, got table)",
                  message_of(error_of(function() fake:wait() end)))
    assert.equals(0, b:n_waiting())
  end)
end)
