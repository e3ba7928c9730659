-- sync_condition_spec.lua -- asched.condition: wait gives the lock up and takes it
-- back, notify(n), notify_all, wait_for, the lock being required, and cancellation
-- of a waiter before and after it is notified (API.md, Synchronisation; issue 4).
local helpers = require("spec.helpers")
local sync = require("spec.sync_helpers")
local error_of, assert_error_named = helpers.error_of, helpers.assert_error_named
local assert_elapsed, spawn_each = helpers.assert_elapsed, sync.spawn_each

-- A condition over a lock of our own, so the spec can ask the lock whether it is held.
local function condition_and_lock()
  local lock = asched.lock()
  return asched.condition(lock), lock
end

-- Spawns n tasks that each wait on `cond` once and log their number in `woke`.
local function waiters(cond, n, woke)
  local tasks = spawn_each(n, function(i)
    local held <close> = cond:acquire()
    cond:wait()
    woke[#woke + 1] = i
  end)
  asched.sleep(0)
  return tasks
end

-- notify(n) or notify_all() from the current task, holding the lock.
local function notify(cond, method, ...)
  local held <close> = cond:acquire()
  cond[method](cond, ...)
end

describe("asched.condition", function()
  after_each(helpers.cancel_leftovers)

  it("acquire and release go to the lock it was given", function()
    local cond, lock = condition_and_lock()
    cond:acquire()
    assert.is_true(lock:locked())
    cond:release()
    assert.is_false(lock:locked())
  end)

  it("makes a lock of its own when given none", function()
    local cond = asched.condition()
    cond:acquire()
    local other = asched.spawn(function() cond:acquire() return "other" end)
    asched.sleep(1)
    assert.is_false(other:done())
    cond:release()
    assert.equals("other", other:await())
  end)

  it("with() returns fn's values holding the lock, and releases it", function()
    local cond, lock = condition_and_lock()
    local got = table.pack(cond:with(function(x)
      assert.is_true(lock:locked())
      return x, nil
    end, "x"))
    assert.same({n = 2, "x", nil}, got)
    assert.is_false(lock:locked())
  end)

  it("wait gives the lock up while waiting and holds it again when it returns true", function()
    local t0 = asched.now()
    local cond, lock = condition_and_lock()
    local waiter = asched.spawn(function()
      local held <close> = cond:acquire()
      local r = cond:wait()
      return r, lock:locked(), asched.now()
    end)
    asched.sleep(1)
    assert.is_false(lock:locked(), "the waiting task gave the lock up")
    cond:acquire()
    cond:notify()
    asched.sleep(2)        -- holding the lock: the notified waiter cannot return yet
    assert.is_false(waiter:done())
    cond:release()
    local r, held, at = waiter:await()
    assert.is_true(r)
    assert.is_true(held)
    assert_elapsed(3, t0, at)
    assert.is_false(lock:locked())
  end)

  it("notify() wakes the oldest waiter only", function()
    local cond, woke = asched.condition(), {}
    local tasks = waiters(cond, 3, woke)
    notify(cond, "notify")
    asched.sleep(1)
    assert.same({1}, woke)
    assert.is_false(tasks[2]:done())
    assert.is_false(tasks[3]:done())
  end)

  it("notify(n) wakes the n oldest waiters, in the order they waited", function()
    local cond, woke = asched.condition(), {}
    local tasks = waiters(cond, 4, woke)
    notify(cond, "notify", 2)
    asched.sleep(1)
    assert.same({1, 2}, woke)
    notify(cond, "notify", 1)
    asched.sleep(1)
    assert.same({1, 2, 3}, woke)
    assert.is_false(tasks[4]:done())
  end)

  it("notify(n) with more than n waiting wakes them all and is not remembered for later waiters", function()
    local cond, woke = asched.condition(), {}
    waiters(cond, 2, woke)
    notify(cond, "notify", 5)
    asched.sleep(1)
    assert.same({1, 2}, woke)
    local late = waiters(cond, 1, woke)
    asched.sleep(1)
    assert.is_false(late[1]:done())
  end)

  it("notify_all wakes every waiter, which then hold the lock one at a time", function()
    local cond = asched.condition()
    local inside, most, woke = 0, 0, {}
    local tasks = spawn_each(4, function(i)
      local held <close> = cond:acquire()
      cond:wait()
      inside = inside + 1
      most = math.max(most, inside)
      woke[#woke + 1] = i
      asched.sleep(1)
      inside = inside - 1
    end)
    asched.sleep(0)
    notify(cond, "notify_all")
    for _, t in ipairs(tasks) do t:await() end
    assert.same({1, 2, 3, 4}, woke)
    assert.equals(1, most)
  end)
end)

describe("Condition:wait_for", function()
  after_each(helpers.cancel_leftovers)

  it("returns the predicate's value at once when it is already true, still holding the lock", function()
    local t0 = asched.now()
    local cond, lock = condition_and_lock()
    local held <close> = cond:acquire()
    local answer = {}
    assert.equals(answer, cond:wait_for(function() return answer end))
    assert.equals(t0, asched.now())
    assert.is_true(lock:locked())
  end)

  it("waits through notifications until the predicate is true, and returns its value", function()
    local t0 = asched.now()
    local cond, lock = condition_and_lock()
    local items, checks = {}, 0
    local consumer = asched.spawn(function()
      local held <close> = cond:acquire()
      local got = cond:wait_for(function()
        checks = checks + 1
        assert.is_true(lock:locked(), "the predicate runs holding the lock")
        return #items >= 3 and table.concat(items, ",")
      end)
      return got, asched.now()
    end)
    for i = 1, 3 do
      asched.sleep(1)
      local held <close> = cond:acquire()
      items[#items + 1] = "item" .. i
      cond:notify()
    end
    local got, at = consumer:await()
    assert.equals("item1,item2,item3", got)
    assert_elapsed(3, t0, at)
    assert.equals(4, checks)
  end)
end)

describe("using an asched.condition without holding its lock", function()
  after_each(helpers.cancel_leftovers)

  it("wait raises a RuntimeError", function()
    local cond = asched.condition()
    local err = error_of(cond.wait, cond)
    assert_error_named("RuntimeError", err)
    assert.equals("RuntimeError: " .. err.message, tostring(err))
  end)

  it("wait_for with a false predicate raises a RuntimeError", function()
    local cond = asched.condition()
    assert_error_named("RuntimeError", error_of(cond.wait_for, cond, function() return false end))
  end)

  it("notify raises a RuntimeError", function()
    local cond = asched.condition()
    assert_error_named("RuntimeError", error_of(cond.notify, cond))
  end)

  it("notify_all raises a RuntimeError", function()
    local cond = asched.condition()
    assert_error_named("RuntimeError", error_of(cond.notify_all, cond))
  end)

  it("release raises a RuntimeError, as the lock's release does", function()
    local cond = asched.condition()
    assert_error_named("RuntimeError", error_of(cond.release, cond))
  end)
end)

describe("cancelling a task in Condition:wait", function()
  after_each(helpers.cancel_leftovers)

  it("re-acquires the lock before raising CancelledError", function()
    local t0 = asched.now()
    local cond, lock = condition_and_lock()
    local waiter = asched.spawn(function()
      cond:acquire()
      local ok, err = pcall(cond.wait, cond)
      local held = lock:locked()
      local at = asched.now()
      cond:release()            -- would raise a RuntimeError if the lock were not held
      return ok, err, held, at
    end)
    asched.sleep(0)
    local holder = asched.spawn(function()
      local held <close> = cond:acquire()
      asched.sleep(3)
    end)
    asched.sleep(1)
    waiter:cancel("stop")
    local ok, err, held, at = waiter:await()
    assert.is_false(ok)
    assert_error_named("CancelledError", err)
    assert.equals("stop", err.message)
    assert.is_true(held)
    assert_elapsed(3, t0, at)     -- it waited for the holder to let go of the lock
    holder:await()
    assert.is_false(lock:locked())
  end)

  it("cancelled before being notified, it takes no notification: the next waiter gets it", function()
    local cond, woke = asched.condition(), {}
    local tasks = waiters(cond, 3, woke)
    tasks[1]:cancel()
    notify(cond, "notify")
    asched.sleep(1)
    assert.same({2}, woke)
    assert.is_true(tasks[1]:cancelled())
    assert.is_false(tasks[3]:done())
  end)

  it("a notified waiter cancelled before it ran passes its notification on", function()
    local cond, woke = asched.condition(), {}
    local tasks = waiters(cond, 3, woke)
    cond:acquire()
    cond:notify()
    tasks[1]:cancel()
    cond:release()
    asched.sleep(1)
    assert.same({2}, woke)
    assert_error_named("CancelledError", error_of(tasks[1].await, tasks[1]))
    assert.is_false(tasks[3]:done())
  end)

  it("notify(2) with the first notified waiter cancelled still wakes two", function()
    local cond, woke = asched.condition(), {}
    local tasks = waiters(cond, 4, woke)
    cond:acquire()
    cond:notify(2)
    tasks[1]:cancel()
    cond:release()
    asched.sleep(1)
    assert.same({2, 3}, woke)
    assert.is_false(tasks[4]:done())
  end)

  it("a cancelled wait_for re-acquires the lock and raises CancelledError", function()
    local cond, lock = condition_and_lock()
    local waiter = asched.spawn(function()
      local held <close> = cond:acquire()
      local ok, err = pcall(cond.wait_for, cond, function() return false end)
      return ok, err, lock:locked()
    end)
    asched.sleep(1)
    waiter:cancel()
    local ok, err, held = waiter:await()
    assert.is_false(ok)
    assert_error_named("CancelledError", err)
    assert.is_true(held)
    assert.is_false(lock:locked())
  end)
end)

describe("asched.condition argument errors", function()
  after_each(helpers.cancel_leftovers)
  local message_of = helpers.argument_error_message

  it("a lock that is not an asched.lock is an argument error", function()
    local err = message_of(error_of(function() asched.condition("lock") end))
    assert.matches("^bad argument #1 to 'condition' %(.+%)$", err)
  end)

  it("wait_for with a predicate that is not callable is an argument error", function()
    local cond = asched.condition()
    cond:acquire()
    local err = message_of(error_of(function() cond:wait_for(42) end))
    assert.matches("^bad argument #%d to 'wait_for' %(.+%)$", err)
    cond:release()
  end)

  it("counts arguments as Lua does: after self in a method call, from self in a plain one", function()
    local cond = asched.condition()
    cond:acquire()
    assert.matches("^bad argument #1 to 'notify'", message_of(error_of(function() cond:notify(1.5) end)))
    assert.matches("^bad argument #2 to 'notify'", message_of(error_of(function() cond.notify(cond, 1.5) end)))
    cond:release()
  end)
end)
