-- The end of a run through the module: pending tasks are cancelled and clean
-- up before asched.run returns, a deadlock reaches the main task, and a failed
-- run leaves no loop behind. (The stderr report of pending tasks is pinned by
-- the cli specs, which can capture stderr.)
local asched = require("asched")

local VIRTUAL = {virtual_time = true}

local function closer(log, entry)
  return setmetatable({}, {__close = function() log[#log + 1] = entry end})
end

describe("the end of a run", function()
  it("cancels a task still sleeping when the main task returns", function()
    local sleeper = asched.run(VIRTUAL, function()
      local t = asched.spawn(function() asched.sleep(1000) end)
      asched.sleep(1)
      return t
    end)
    assert.is_true(sleeper:done())
    assert.is_true(sleeper:cancelled())
  end)

  it("runs a pending task's <close> variables before asched.run returns", function()
    local log = {}
    asched.run(VIRTUAL, function()
      asched.spawn(function()
        local guard <close> = closer(log, "closed")
        asched.sleep(1000)
      end)
      asched.sleep(1)
      log[#log + 1] = "main returns"
    end)
    log[#log + 1] = "run returned"
    assert.same({"main returns", "closed", "run returned"}, log)
  end)

  it("lets a pending task catch CancelledError and sleep during its cleanup before asched.run returns", function()
    local log = {}
    asched.run(VIRTUAL, function()
      asched.spawn(function()
        local guard <close> = closer(log, "closed")
        local ok, err = pcall(asched.sleep, 1000)
        log[#log + 1] = "caught " .. tostring(not ok and err.name)
        asched.sleep(5)
        log[#log + 1] = "cleaned up at " .. asched.now()
      end)
      asched.sleep(1)
    end)
    log[#log + 1] = "run returned"
    assert.same({"caught CancelledError", "cleaned up at 6.0", "closed", "run returned"}, log)
  end)

  it("cleans up pending tasks before re-raising the main task's error", function()
    local log = {}
    local failure = {}
    local ok, err = pcall(asched.run, VIRTUAL, function()
      asched.spawn(function()
        local guard <close> = closer(log, "closed")
        asched.sleep(1000)
      end)
      asched.sleep(1)
      error(failure)
    end)
    log[#log + 1] = "run raised"
    assert.is_false(ok)
    assert.equal(failure, err)
    assert.same({"closed", "run raised"}, log)
  end)

  it("cancels a task that awaits another pending task, and the awaited one too", function()
    local inner, outer = asched.run(VIRTUAL, function()
      local a = asched.spawn(function() asched.sleep(1000) end)
      local b = asched.spawn(function() a:await() end)
      asched.sleep(1)
      return a, b
    end)
    assert.is_true(inner:cancelled())
    assert.is_true(outer:cancelled())
  end)

  it("never runs a task that had not started when the main task ended", function()
    local ran = false
    local child = asched.run(VIRTUAL, function()
      return asched.spawn(function() ran = true end)
    end)
    assert.is_false(ran)
    assert.is_true(child:cancelled())
  end)

  it("is not held up by tasks that keep each other ready", function()
    local turns = 0
    local spinner = asched.run(VIRTUAL, function()
      local t = asched.spawn(function()
        while true do
          turns = turns + 1
          asched.sleep(0)
        end
      end)
      asched.sleep(0)
      return t
    end)
    assert.is_true(spinner:cancelled())
    assert.equals(1, turns)
  end)
end)

describe("a deadlock", function()
  it("raises DeadlockError in the main task when nothing can wake it, which main can catch", function()
    local ok, err = asched.run(VIRTUAL, function()
      local stuck = asched.spawn(function() asched.sleep(math.huge) end)
      return pcall(stuck.await, stuck)
    end)
    assert.is_false(ok)
    assert.equal("DeadlockError", err.name)
  end)

  it("lets main carry on after catching DeadlockError and return normally", function()
    local result = asched.run(VIRTUAL, function()
      local stuck = asched.spawn(function() asched.sleep(math.huge) end)
      pcall(stuck.await, stuck)
      asched.sleep(2)
      return "recovered at " .. asched.now()
    end)
    assert.equal("recovered at 2.0", result)
  end)

  it("names every waiting task in its message, one line each", function()
    local main_name, err = asched.run(VIRTUAL, function()
      local stuck = asched.spawn(function() asched.sleep(math.huge) end)
      stuck.name = "stuck"
      local watcher = asched.spawn(function() stuck:await() end)
      watcher.name = "watcher"
      local _, e = pcall(stuck.await, stuck)
      return asched.current_task().name, e
    end)
    local lines = {}
    for line in err.message:gmatch("[^\n]+") do lines[#lines + 1] = line end
    local function count(name)
      local n = 0
      for _, line in ipairs(lines) do
        if line:find(name, 1, true) == line:find("%S") then n = n + 1 end
      end
      return n
    end
    assert.equal(1, count(main_name), err.message)
    assert.equal(1, count("stuck"), err.message)
    assert.equal(1, count("watcher"), err.message)
  end)

  it("says in its message what each waiting task waits on", function()
    local err = asched.run(VIRTUAL, function()
      local stuck = asched.spawn(function() asched.sleep(math.huge) end)
      stuck.name = "stuck"
      local watcher = asched.spawn(function() stuck:await() end)
      watcher.name = "watcher"
      local _, e = pcall(stuck.await, stuck)
      return e
    end)
    local function line_of(name)
      for line in err.message:gmatch("[^\n]+") do
        if line:match("^%s*" .. name) then return line end
      end
      return ""
    end
    local stuck_waits_on = line_of("stuck"):gsub("^%s*stuck", "")
    local watcher_waits_on = line_of("watcher"):gsub("^%s*watcher", "")
    assert.matches("sleep", stuck_waits_on, 1, true)
    -- the watcher awaits the task named "stuck", so that is the name it shows
    assert.matches("stuck", watcher_waits_on, 1, true)
  end)

  it("is raised by asched.run when main does not catch it, and never hangs", function()
    local ok, err = pcall(asched.run, function()
      local stuck = asched.spawn(function() asched.sleep(math.huge) end)
      stuck:await()
    end)
    assert.is_false(ok)
    assert.equal("DeadlockError", err.name)
    assert.matches("^DeadlockError: ", tostring(err))
  end)
end)

describe("a run that fails", function()
  local function assert_no_loop()
    assert.is_nil(asched.current_task())
    assert.same({}, asched.all_tasks())
    assert.is_false(pcall(asched.spawn, function() end))
    assert.equal(7, asched.run(VIRTUAL, function()
      asched.sleep(7)
      return asched.now()
    end))
  end

  it("with fn's error leaves no loop behind: the next run starts afresh", function()
    pcall(asched.run, VIRTUAL, function()
      asched.spawn(function() asched.sleep(1000) end)
      asched.sleep(1)
      error("failed")
    end)
    assert_no_loop()
  end)

  it("with an uncaught DeadlockError leaves no loop behind", function()
    pcall(asched.run, VIRTUAL, function()
      asched.spawn(function() asched.sleep(math.huge) end):await()
    end)
    assert_no_loop()
  end)

  it("because run was called inside a loop leaves the outer loop's state intact and none after", function()
    local ok = pcall(asched.run, VIRTUAL, function()
      pcall(asched.run, function() end)
      error("outer failed")
    end)
    assert.is_false(ok)
    assert_no_loop()
  end)
end)
