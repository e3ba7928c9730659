-- combine_no_leak_spec.lua -- wrapping and cancelling 100,000 times, in each of the
-- ways below, leaves no task, timer, waiter or memory behind (issue 3, "No leak").
local helpers = require("spec.helpers")

local CYCLES = 100000
-- A table of the loop's may double once along the way and keep its size (seen:
-- 32 KB); a leak of even one small object per cycle would be thousands of KB.
local SLACK_KB = 256

-- Collects until nothing more is freed: an object with a finalizer (a wait set,
-- a task) keeps what it references alive for one more cycle, so chains of them
-- need several.
local function memory_after_full_collect()
  local count = math.huge
  for _ = 1, 20 do
    collectgarbage("collect")
    local now = collectgarbage("count")
    if now >= count then return now end
    count = now
  end
  return count
end

-- Runs `cycle` CYCLES times (after a warm-up that lets the loop's tables reach
-- their size) and asserts that only the current task is left, that no timer is
-- left (the idle clock does not move) and that memory stayed flat.
local function assert_no_leak(cycle)
  for _ = 1, 1000 do cycle() end
  assert.same({asched.current_task()}, asched.all_tasks())   -- fail fast, before the long run
  local before = memory_after_full_collect()
  for _ = 1, CYCLES do cycle() end
  local after = memory_after_full_collect()
  assert.same({asched.current_task()}, asched.all_tasks())
  local now = asched.now()
  assert.equals(now, helpers.idle_clock(), "a timer was left behind")
  assert(after - before < SLACK_KB,
         string.format("memory grew by %.1f KB over %d cycles", after - before, CYCLES))
end

local function sleep_long() asched.sleep(10) end

describe("wrapping and cancelling 100,000 times", function()
  after_each(helpers.cancel_leftovers)

  it("wait_for with a function that times out leaves nothing behind", function()
    assert_no_leak(function() pcall(asched.wait_for, sleep_long, 0.5) end)
  end)

  it("wait_for with a task that times out leaves nothing behind", function()
    assert_no_leak(function() pcall(asched.wait_for, asched.spawn(sleep_long), 0.5) end)
  end)

  it("wait_for whose caller is cancelled leaves nothing behind", function()
    assert_no_leak(function()
      local caller = asched.spawn(asched.wait_for, asched.spawn(sleep_long), 5)
      asched.sleep(0)
      caller:cancel()
      pcall(caller.await, caller)
      asched.sleep(0)
    end)
  end)

  it("nested timeout scopes that expire leave nothing behind", function()
    assert_no_leak(function() pcall(asched.timeout, 0.5, asched.timeout, 1, sleep_long) end)
  end)

  it("timeout scopes that finish in time leave nothing behind", function()
    assert_no_leak(function() asched.timeout(10, asched.sleep, 0) end)
  end)

  it("gather that gets cancelled leaves nothing behind", function()
    assert_no_leak(function()
      local caller = asched.spawn(asched.gather, {sleep_long, sleep_long})
      asched.sleep(0)
      caller:cancel()
      pcall(caller.await, caller)
      asched.sleep(0)
    end)
  end)

  it("shield whose caller is cancelled leaves nothing behind", function()
    assert_no_leak(function()
      local inner = asched.spawn(asched.sleep, 0.5)
      local caller = asched.spawn(asched.shield, inner)
      asched.sleep(0)
      caller:cancel()
      pcall(caller.await, caller)
      inner:await()
    end)
  end)

  it("wait and as_completed that give up on a long-lived task leave no waiter on it", function()
    local long_lived = asched.spawn(asched.sleep, 1e9)
    local function cycle()
      asched.wait({long_lived}, {timeout = 0.5})
      pcall(function() for _ in asched.as_completed({long_lived}, {timeout = 0.5}) do end end)
    end
    for _ = 1, 1000 do cycle() end
    local before = memory_after_full_collect()
    for _ = 1, CYCLES do cycle() end
    local after = memory_after_full_collect()
    assert(after - before < SLACK_KB,
           string.format("memory grew by %.1f KB over %d cycles", after - before, CYCLES))
    long_lived:cancel()
    pcall(long_lived.await, long_lived)
    assert.same({asched.current_task()}, asched.all_tasks())
  end)
end)
