-- time_spec.lua -- asched.sleep, asched.now and the order in which timers wake
-- tasks, on the virtual clock (API.md, Time). Argument errors are in bad_input_spec.
local helpers = require("spec.helpers")
local assert_elapsed = helpers.assert_elapsed

describe("asched.sleep", function()
  after_each(helpers.cancel_leftovers)

  it("returns the value it was given", function()
    local value = {}
    assert.equals(value, asched.sleep(0.5, value))
    assert.equals("v", asched.sleep(0, "v"))
  end)

  it("returns nil when given no value", function()
    assert.is_nil(asched.sleep(0.5))
  end)

  it("returns after exactly the given seconds on the virtual clock", function()
    local t0 = asched.now()
    asched.sleep(1.5)
    assert_elapsed(1.5, t0)
  end)

  it("lets other tasks run while it waits", function()
    local t0 = asched.now()
    local a = asched.spawn(function() asched.sleep(3); return asched.now() end)
    local b = asched.spawn(function() asched.sleep(1); return asched.now() end)
    asched.sleep(2)
    assert.is_true(b:done())
    assert.is_false(a:done())
    assert_elapsed(1, t0, b:result())
    assert_elapsed(3, t0, a:await())
  end)

  it("runs concurrent sleeps in the time of the longest", function()
    local t0 = asched.now()
    local tasks = {}
    for i = 1, 5 do tasks[i] = asched.spawn(asched.sleep, i * 0.25) end
    for i = 1, 5 do tasks[i]:await() end
    assert_elapsed(1.25, t0)
  end)

  it("counts a negative duration as 0: returns its value without moving the clock", function()
    local t0 = asched.now()
    assert.equals("neg", asched.sleep(-5, "neg"))
    assert.equals(t0, asched.now())
  end)

  it("with a negative duration still yields like sleep(0)", function()
    local ran = false
    asched.spawn(function() ran = true end)
    asched.sleep(-1)
    assert.is_true(ran)
  end)

  it("never ends early, even for a duration shorter than the clock's resolution", function()
    local t0 = asched.now()
    asched.sleep(1e-10)
    assert.is_true(asched.now() > t0, "a 1e-10 s sleep returned with the clock unmoved")
  end)

  it("never ends before its deadline when other timers fire earlier", function()
    local t0 = asched.now()
    local woke_at
    local sleeper = asched.spawn(function() asched.sleep(0.75); woke_at = asched.now() end)
    for _ = 1, 5 do
      asched.sleep(0.125)
      if asched.now() - t0 < 0.75 - 1e-9 then assert.is_nil(woke_at) end
    end
    sleeper:await()
    assert_elapsed(0.75, t0, woke_at)
  end)

  it("math.huge sleeps until the task is cancelled", function()
    local t0 = asched.now()
    local t = asched.spawn(asched.sleep, math.huge)
    asched.sleep(1000)
    assert.is_false(t:done())
    t:cancel()
    assert.equals("CancelledError", select(2, pcall(t.await, t)).name)
    assert_elapsed(1000, t0)
  end)
end)

describe("asched.sleep(0)", function()
  after_each(helpers.cancel_leftovers)

  it("does not move the clock", function()
    local t0 = asched.now()
    for _ = 1, 100 do asched.sleep(0) end
    assert.equals(t0, asched.now())
  end)

  it("resumes the task after every task that was already ready has had its turn", function()
    local log = {}
    for i = 1, 3 do asched.spawn(function() log[#log + 1] = "task " .. i end) end
    asched.sleep(0)
    log[#log + 1] = "yielder"
    assert.same({"task 1", "task 2", "task 3", "yielder"}, log)
  end)

  it("resumes the task before tasks that became ready after it yielded", function()
    local log = {}
    asched.spawn(function()
      log[#log + 1] = "first"
      asched.spawn(function() log[#log + 1] = "spawned after the yield" end)
    end)
    asched.sleep(0)
    log[#log + 1] = "yielder"
    asched.sleep(0)
    assert.same({"first", "yielder", "spawned after the yield"}, log)
  end)

  it("lets tasks that all yield take turns round-robin", function()
    local log = {}
    local function worker(name)
      for i = 1, 3 do log[#log + 1] = name .. i; asched.sleep(0) end
    end
    local a, b = asched.spawn(worker, "a"), asched.spawn(worker, "b")
    a:await()
    b:await()
    assert.same({"a1", "b1", "a2", "b2", "a3", "b3"}, log)
  end)

  it("keeps the virtual clock from jumping to a timer while any task is ready", function()
    local log = {}
    asched.spawn(function() asched.sleep(1e-9); log[#log + 1] = "timer" end)
    asched.spawn(function()
      for i = 1, 3 do log[#log + 1] = "yield " .. i; asched.sleep(0) end
    end)
    asched.sleep(1)
    assert.same({"yield 1", "yield 2", "yield 3", "timer"}, log)
  end)
end)

describe("timer order", function()
  after_each(helpers.cancel_leftovers)

  it("wakes sleepers in deadline order, not in the order they went to sleep", function()
    local log = {}
    for _, d in ipairs({0.5, 0.25, 1, 0.75}) do
      asched.spawn(function() asched.sleep(d); log[#log + 1] = d end)
    end
    asched.sleep(2)
    assert.same({0.25, 0.5, 0.75, 1}, log)
  end)

  it("fires equal deadlines in the order the timers were set", function()
    -- task i sets its timer after `turns[i]` yields, so the timers are set in an
    -- order unrelated to the spawn order, all at the same clock reading.
    local turns = {5, 2, 8, 0, 3, 7, 1, 9, 4, 6}
    local set, woke = {}, {}
    for i, k in ipairs(turns) do
      asched.spawn(function()
        for _ = 1, k do asched.sleep(0) end
        set[#set + 1] = i
        asched.sleep(1)
        woke[#woke + 1] = i
      end)
    end
    asched.sleep(2)
    assert.same({4, 7, 2, 5, 9, 1, 10, 6, 3, 8}, set)
    assert.same(set, woke)
  end)

  it("fires equal deadlines set at different times in the order they were set", function()
    local t0 = asched.now()
    local log = {}
    -- `late` is spawned first but sets its timer (t0+1, for 1 s) after `early`
    -- set its own (t0, for 2 s): both are due at t0+2.
    asched.spawn(function() asched.sleep(1); asched.sleep(1); log[#log + 1] = "late" end)
    asched.spawn(function() asched.sleep(2); log[#log + 1] = "early" end)
    asched.sleep(3)
    assert.same({"early", "late"}, log)
    assert_elapsed(3, t0)
  end)

  it("runs the tasks a deadline wakes, and what they make ready, before a later deadline fires", function()
    local log = {}
    asched.spawn(function() asched.sleep(1 + 1e-9); log[#log + 1] = "later deadline" end)
    asched.spawn(function()
      asched.sleep(1)
      log[#log + 1] = "woken"
      asched.spawn(function() log[#log + 1] = "spawned by the woken task" end)
      asched.sleep(0)
      log[#log + 1] = "woken, after yielding"
    end)
    asched.sleep(2)
    assert.same({"woken", "spawned by the woken task", "woken, after yielding",
                 "later deadline"}, log)
  end)

  it("resumes tasks in the order they became ready, whatever woke them", function()
    local log = {}
    -- x and b are woken by the same deadline (x's timer set first); a is woken
    -- when x finishes, so after b was already made ready.
    local x = asched.spawn(function() asched.sleep(1); log[#log + 1] = "x" end)
    asched.spawn(function() x:await(); log[#log + 1] = "a, awaiting x" end)
    asched.spawn(function() asched.sleep(1); log[#log + 1] = "b" end)
    asched.sleep(2)
    assert.same({"x", "b", "a, awaiting x"}, log)
  end)
end)

describe("asched.now", function()
  after_each(helpers.cancel_leftovers)

  it("returns a number of seconds", function()
    assert.equals("number", type(asched.now()))
  end)

  it("does not move while a task runs without suspending", function()
    local t0 = asched.now()
    local x = 0
    for i = 1, 100000 do x = x + i end
    assert.equals(t0, asched.now())
  end)

  it("is exact under virtual time: ten sleeps of 0.1 s make exactly 1 s", function()
    local t0 = asched.now()
    for _ = 1, 10 do asched.sleep(0.1) end
    assert_elapsed(1, t0)
  end)

  it("jumps straight to the next deadline when every task waits", function()
    local t0 = asched.now()
    asched.sleep(3600)
    assert_elapsed(3600, t0)
  end)

  it("never goes backwards", function()
    local last = asched.now()
    for _, d in ipairs({0.3, 0, 1e-9, 2, 0, 0.001}) do
      asched.sleep(d)
      assert.is_true(asched.now() >= last)
      last = asched.now()
    end
  end)
end)
