-- after_run_spec.lua -- objects that outlive their loop (issue 19): every
-- method of every object type, found through the metatables, called on
-- objects made in one asched.run -- in every state a run can leave them in --
-- after that run has ended (no loop at all), and inside a later run (another
-- loop). Each call may work or raise an error; it may never crash, hang or
-- break the next run. A full collection and a fresh run close each case.
local asched = require("asched")

-- Objects as a run leaves them: idle, held, with waiters cancelled at the
-- end, with items, shut down, a task done / failed / cancelled at the end.
local function make_objects()
  local objects = {}
  asched.run({virtual_time = true}, function()
    local held_sem = asched.semaphore(1)
    local guard = held_sem:acquire()
    local held_lock = asched.lock()
    local lock_guard = held_lock:acquire()
    local full = asched.queue(1)
    full:put("item")
    local shut = asched.lifo_queue()
    shut:put(1)
    shut:shutdown()
    local prio = asched.priority_queue()
    prio:put(1, "x")
    local event, cond, barrier = asched.event(), asched.condition(), asched.barrier(2)
    local failed = asched.spawn(error, "expected failure")
    local done = asched.spawn(function() return 1 end)
    -- Tasks left waiting on each thing when the run ends (cancelled then).
    local waiting = {
      asched.spawn(function() held_sem:acquire() end),
      asched.spawn(function() held_lock:acquire() end),
      asched.spawn(function() full:put("more") end),
      asched.spawn(function() event:wait() end),
      asched.spawn(function() cond:with(function() cond:wait() end) end),
      asched.spawn(function() barrier:wait() end),
      asched.spawn(function() asched.queue():get() end),
      asched.spawn(function() asched.queue():join() end),
    }
    asched.sleep(0.01)
    pcall(failed.await, failed)
    objects = {
      {"a semaphore still held", held_sem}, {"its guard", guard},
      {"a bounded semaphore", asched.bounded_semaphore(2)},
      {"a lock still held", held_lock}, {"its guard", lock_guard},
      {"a full queue", full}, {"a shut-down LIFO queue", shut}, {"a priority queue", prio},
      {"an event", event}, {"a condition", cond}, {"a barrier", barrier},
      {"a task done", done}, {"a task that failed", failed},
      {"a task waiting when the run ended", waiting[1]},
      {"a task never run", asched.spawn(function() end)},
      {"a process killed at the run's end", asched.process.spawn({"sleep", "1000"})},
      {"a pipe stream closed at the run's end", asched.process.spawn({"cat"}, {stdin = "pipe", stdout = "pipe"}).stdout},
      {"a UDP socket closed at the run's end", asched.udp.bind(nil, 0)},
      {"an HTTP server closed at the run's end", asched.http.listen(nil, 0, function() return 200 end)},
      {"a TCP server closed at the run's end", asched.tcp.listen(nil, 0, function() end)},
    }
  end)
  return objects
end

local function methods_of(object)
  local mt = getmetatable(object)
  local index = type(mt.__index) == "table" and mt.__index or mt.__methods
  local names = {}
  for name, value in pairs(index) do
    if type(value) == "function" then names[#names + 1] = name end
  end
  table.sort(names)
  return names, index
end

local ARGUMENTS = {{}, {1}, {1, "v"}, {function() return true end}}

-- Calls every method with each argument list; returns how many calls raised.
local function call_all(object)
  local names, index = methods_of(object)
  local raised = 0
  for _, name in ipairs(names) do
    for _, args in ipairs(ARGUMENTS) do
      local ok, err = pcall(index[name], object, table.unpack(args))
      if not ok then
        raised = raised + 1
        assert(type(err) == "string" or type(err) == "table", name .. " raised a " .. type(err))
      end
    end
  end
  return raised
end

describe("an object from a run that has ended", function()
  for i, case in ipairs(make_objects()) do
    local what = case[1]
    it("(" .. what .. ") takes every method call outside any run without crashing", function()
      local object = make_objects()[i][2]
      call_all(object)
      collectgarbage()
      assert.equal(3, asched.run(function() asched.sleep(0) return 3 end))
    end)

    it("(" .. what .. ") takes every method call inside a later run without crashing or hanging", function()
      local object = make_objects()[i][2]
      asched.run({virtual_time = true}, function()
        -- Each call in a task of its own, given one virtual second.
        local names, index = methods_of(object)
        for _, name in ipairs(names) do
          for _, args in ipairs(ARGUMENTS) do
            local t = asched.spawn(index[name], object, table.unpack(args))
            pcall(asched.wait_for, t, 1)
          end
        end
      end)
      collectgarbage()
      assert.equal(3, asched.run(function() asched.sleep(0) return 3 end))
    end)
  end
end)

-- The other context a task's functions can be called from by mistake: a
-- to_thread function, which runs in a Lua state of its own on a worker
-- thread. There every module function is called with no arguments and with
-- two numbers; it may work or raise an error naming it ("not inside a task",
-- an argument error), but never crash or hang.
describe("every module function called inside a to_thread function", function()
  it("returns or raises in the worker, and the run goes on", function()
    local names = {}
    for name, value in pairs(asched) do
      if type(value) == "function" and name ~= "debug" then names[#names + 1] = name end
    end
    table.sort(names)
    local results = asched.run({virtual_time = true}, function()
      local results = {}
      for _, name in ipairs(names) do
        results[name] = asched.to_thread(function(name)
          local a = require("asched")
          local outcomes = {}
          for i, args in ipairs({{}, {1, 2}}) do
            local ok, err = pcall(a[name], table.unpack(args))
            outcomes[i] = ok and "returned" or (type(err) == "table" and tostring(err.message) or tostring(err))
          end
          return outcomes
        end, name)
      end
      return results
    end)
    assert.equal("returned", asched.run(function() return "returned" end))
    for _, name in ipairs(names) do
      for _, outcome in ipairs(results[name]) do
        if outcome ~= "returned" then assert.matches(name, outcome, 1, true) end
      end
    end
    assert.equal("asched.sleep: not inside a task", results.sleep[2])
  end)
end)
