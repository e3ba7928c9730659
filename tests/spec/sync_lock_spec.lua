-- sync_lock_spec.lua -- asched.lock: mutual exclusion, FIFO with no barging,
-- cancelled waiters passing the lock on, guards and with, locked, and releasing an
-- unlocked lock (API.md, Synchronisation; issue 4).
local helpers = require("spec.helpers")
local sync = require("spec.sync_helpers")
local error_of, assert_error_named = helpers.error_of, helpers.assert_error_named
local free_permits, spawn_each = sync.free_permits, sync.spawn_each

describe("asched.lock", function()
  after_each(helpers.cancel_leftovers)

  it("starts unlocked; acquire locks it and release unlocks it", function()
    local lock = asched.lock()
    assert.is_false(lock:locked())
    lock:acquire()
    assert.is_true(lock:locked())
    lock:release()
    assert.is_false(lock:locked())
  end)

  it("lets one task at a time hold it", function()
    local lock = asched.lock()
    local inside, most = 0, 0
    local tasks = spawn_each(5, function()
      for _ = 1, 3 do
        local held <close> = lock:acquire()
        inside = inside + 1
        most = math.max(most, inside)
        asched.sleep(1)
        inside = inside - 1
      end
    end)
    for _, t in ipairs(tasks) do t:await() end
    assert.equals(1, most)
  end)

  it("is handed over in FIFO order with no barging: three tasks acquiring twice run 1,2,3,1,2,3", function()
    assert.same({1, 2, 3, 1, 2, 3}, sync.turns(asched.lock()))
  end)

  it("stays locked when released to a waiting task, so a newcomer cannot take it", function()
    local lock = asched.lock()
    lock:acquire()
    local order = {}
    local waiter = asched.spawn(function()
      lock:acquire()
      order[#order + 1] = "waiter"
      lock:release()
    end)
    asched.sleep(0)
    lock:release()
    assert.is_true(lock:locked())
    local newcomer = asched.spawn(function()
      lock:acquire()
      order[#order + 1] = "newcomer"
      lock:release()
    end)
    waiter:await()
    newcomer:await()
    assert.same({"waiter", "newcomer"}, order)
  end)
end)

describe("releasing an unlocked asched.lock", function()
  after_each(helpers.cancel_leftovers)

  it("raises a RuntimeError on a lock never acquired", function()
    local lock = asched.lock()
    local err = error_of(lock.release, lock)
    assert_error_named("RuntimeError", err)
    assert.equals("RuntimeError: " .. err.message, tostring(err))
    assert.is_false(lock:locked())
  end)

  it("raises a RuntimeError on the second release of one acquire", function()
    local lock = asched.lock()
    lock:acquire()
    lock:release()
    assert_error_named("RuntimeError", error_of(lock.release, lock))
    assert.equals(1, free_permits(lock))
  end)
end)

describe("cancelling a task waiting on asched.lock", function()
  after_each(helpers.cancel_leftovers)

  it("a waiter cancelled before the release leaves the queue: the next waiter gets the lock", function()
    local lock = asched.lock()
    lock:acquire()
    local got = {}
    local tasks = spawn_each(3, function(i)
      lock:acquire()
      got[#got + 1] = i
    end)
    asched.sleep(0)
    tasks[1]:cancel()
    lock:release()
    asched.sleep(1)
    assert.same({2}, got)
    assert.is_true(lock:locked())
  end)

  it("a waiter cancelled after the release woke it passes the lock to the next waiter", function()
    local lock = asched.lock()
    lock:acquire()
    local first = asched.spawn(function() return pcall(lock.acquire, lock) end)
    local second = asched.spawn(function() lock:acquire() return "second has it" end)
    asched.sleep(0)
    lock:release()
    first:cancel()
    local ok, err = first:await()
    assert.is_false(ok)
    assert_error_named("CancelledError", err)
    assert.equals("second has it", second:await())
    assert.is_true(lock:locked())
  end)

  it("a waiter cancelled after the release woke it, with nobody behind it, leaves the lock unlocked", function()
    local lock = asched.lock()
    lock:acquire()
    local waiter = asched.spawn(function() lock:acquire() end)
    asched.sleep(0)
    lock:release()
    waiter:cancel()
    pcall(waiter.await, waiter)
    assert.is_false(lock:locked())
    assert.equals(1, free_permits(lock))
  end)
end)

describe("a lock guard", function()
  after_each(helpers.cancel_leftovers)

  it("unlocks the lock when its <close> variable goes out of scope", function()
    local lock = asched.lock()
    do
      local held <close> = lock:acquire()
      assert.is_true(lock:locked())
    end
    assert.is_false(lock:locked())
  end)

  it("closed a second time does not release the lock another task now holds", function()
    local lock = asched.lock()
    local guard = lock:acquire()
    sync.close(guard)
    local other = asched.spawn(function()
      local held <close> = lock:acquire()
      asched.sleep(10)
    end)
    asched.sleep(1)
    sync.close(guard)             -- no-op: no RuntimeError, and the other keeps the lock
    assert.is_true(lock:locked())
    other:cancel()
    pcall(other.await, other)
    assert.is_false(lock:locked())
  end)

  it("never closed keeps the lock locked, even once collected", function()
    local lock = asched.lock()
    do
      local held = lock:acquire()
    end
    collectgarbage()
    collectgarbage()
    asched.sleep(0)
    assert.is_true(lock:locked())
  end)

  it("is released when the task holding it is cancelled, and the next waiter gets the lock", function()
    local lock = asched.lock()
    local holder = asched.spawn(function()
      local held <close> = lock:acquire()
      asched.sleep(100)
    end)
    asched.sleep(0)
    local waiter = asched.spawn(function() lock:acquire() return "waiter has it" end)
    asched.sleep(1)
    holder:cancel()
    assert_error_named("CancelledError", error_of(holder.await, holder))
    assert.equals("waiter has it", waiter:await())
  end)

  it("is released when the task holding it fails", function()
    local lock = asched.lock()
    local holder = asched.spawn(function()
      local held <close> = lock:acquire()
      asched.sleep(1)
      error("boom", 0)
    end)
    assert.equals("boom", error_of(holder.await, holder))
    assert.is_false(lock:locked())
  end)
end)

describe("Lock:with", function()
  after_each(helpers.cancel_leftovers)

  it("returns fn(...)'s values, holding the lock while fn runs", function()
    local lock = asched.lock()
    local got = table.pack(lock:with(function(a, b)
      assert.is_true(lock:locked())
      asched.sleep(1)
      return b, nil, a
    end, "a", "b"))
    assert.same({n = 3, "b", nil, "a"}, got)
    assert.is_false(lock:locked())
  end)

  it("unlocks when fn raises, and raises fn's error unchanged", function()
    local lock = asched.lock()
    local failure = {}
    assert.equals(failure, error_of(lock.with, lock, function() error(failure) end))
    assert.is_false(lock:locked())
  end)

  it("unlocks when the task is cancelled inside fn", function()
    local lock = asched.lock()
    local t = asched.spawn(function() lock:with(asched.sleep, 100) end)
    asched.sleep(1)
    assert.is_true(lock:locked())
    t:cancel()
    assert_error_named("CancelledError", error_of(t.await, t))
    assert.is_false(lock:locked())
  end)

  it("serialises tasks: each fn runs alone, in the order the tasks asked", function()
    local lock = asched.lock()
    local log = {}
    local tasks = spawn_each(3, function(i)
      lock:with(function()
        log[#log + 1] = "enter " .. i
        asched.sleep(1)
        log[#log + 1] = "leave " .. i
      end)
    end)
    for _, t in ipairs(tasks) do t:await() end
    assert.same({"enter 1", "leave 1", "enter 2", "leave 2", "enter 3", "leave 3"}, log)
  end)
end)
