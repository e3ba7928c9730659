-- asched.run from a plain lua5.4 through the C module: what a run returns and
-- raises, the virtual clock option, and one fresh loop per call.
local asched = require("asched")

describe("asched.run", function()
  it("returns every value fn(...) returns, trailing nils included", function()
    local function count(...) return select("#", ...), ... end
    local n, a, b, c, d = count(asched.run(function(x, y)
      return x, nil, y, nil
    end, "one", "two"))
    assert.equal(4, n)
    assert.same({"one", nil, "two", nil}, {a, b, c, d})
  end)

  it("passes every argument after fn to fn, nils included", function()
    local n, last = asched.run(function(...)
      return select("#", ...), select(3, ...)
    end, nil, false, "third")
    assert.equal(3, n)
    assert.equal("third", last)
  end)

  it("returns the values of a main task that suspended before returning", function()
    assert.equal("late", asched.run({virtual_time = true}, function()
      asched.sleep(1)
      return "late"
    end))
  end)

  it("raises fn's error value unchanged: the same table, not a copy or a string", function()
    local failure = {reason = "disk full"}
    local ok, err = pcall(asched.run, function() error(failure) end)
    assert.is_false(ok)
    assert.equal(failure, err)
  end)

  it("raises a string error as error() made it, with no traceback or prefix added", function()
    local ok, err = pcall(asched.run, function() error("boom", 0) end)
    assert.is_false(ok)
    assert.equal("boom", err)
  end)

  it("raises a number error as the same number", function()
    local ok, err = pcall(asched.run, function() error(42) end)
    assert.is_false(ok)
    assert.equal(42, err)
    assert.equal("integer", math.type(err))
  end)

  it("raises the error unchanged when fn fails after suspending", function()
    local failure = {}
    local ok, err = pcall(asched.run, {virtual_time = true}, function()
      asched.sleep(5)
      error(failure)
    end)
    assert.is_false(ok)
    assert.equal(failure, err)
  end)

  it("runs a callable table as fn, passing it exactly the given arguments", function()
    local callable = setmetatable({}, {__call = function(self, ...) return select("#", ...), ... end})
    assert.same({2, "a", "b"}, {asched.run(callable, "a", "b")})
  end)

  it("checks that fn is callable, in Lua's argument-error form", function()
    local ok, err = pcall(function() asched.run(42) end)
    assert.is_false(ok)
    assert.matches("bad argument #1 to 'run' %(function expected, got number%)", err)
  end)
end)

describe("asched.run with {virtual_time = true}", function()
  it("makes asched.now() advance by exactly the time slept", function()
    local before, after = asched.run({virtual_time = true}, function()
      local t0 = asched.now()
      asched.sleep(100)
      return t0, asched.now()
    end)
    assert.equal(100, after - before)
  end)

  it("starts the virtual clock at 0, so sleep(100) returns with now() == 100", function()
    assert.equal(100, asched.run({virtual_time = true}, function()
      asched.sleep(100)
      return asched.now()
    end))
  end)

  it("makes an hour-long sleep cost no wall time", function()
    -- In a subprocess under `timeout`, so a real hour-long sleep fails in 10 s
    -- instead of hanging the suite.
    local code = [[
      local asched = require("asched")
      local now = asched.run({virtual_time = true}, function()
        asched.sleep(3600)
        return asched.now()
      end)
      io.write(now == 3600 and "slept 3600" or "now is " .. now)
    ]]
    local p = assert(io.popen("timeout 10 lua5.4 -e '" .. code .. "'; echo \" exit=$?\""))
    local out = p:read("a")
    p:close()
    assert.equal("slept 3600 exit=0\n", out)
  end)

  it("wakes concurrent sleepers in deadline order at their exact times", function()
    local woke = asched.run({virtual_time = true}, function()
      local log = {}
      local function sleeper(s)
        asched.sleep(s)
        log[#log + 1] = asched.now()
      end
      local tasks = {asched.spawn(sleeper, 3), asched.spawn(sleeper, 1), asched.spawn(sleeper, 2)}
      for _, t in ipairs(tasks) do t:await() end
      return log
    end)
    assert.same({1, 2, 3}, woke)
  end)
end)

describe("asched.run without options", function()
  it("runs on the real clock: a sleep takes at least its time in wall seconds", function()
    local elapsed = asched.run(function()
      local t0 = asched.now()
      asched.sleep(0.02)
      return asched.now() - t0
    end)
    assert.is_true(elapsed >= 0.02, "elapsed " .. elapsed)
    assert.is_true(elapsed < 5, "elapsed " .. elapsed)
  end)
end)

describe("consecutive runs", function()
  it("gives a second run a fresh loop whose virtual clock restarts at 0", function()
    local first = asched.run({virtual_time = true}, function()
      asched.sleep(50)
      return asched.now()
    end)
    local second_start, second_end = asched.run({virtual_time = true}, function()
      local t0 = asched.now()
      asched.sleep(1)
      return t0, asched.now()
    end)
    assert.equal(50, first)
    assert.equal(0, second_start)
    assert.equal(1, second_end)
  end)

  it("does not carry tasks of the first run into the second", function()
    asched.run({virtual_time = true}, function()
      asched.spawn(function() asched.sleep(10) end)
      asched.sleep(1)
    end)
    local others = asched.run({virtual_time = true}, function()
      return #asched.all_tasks()
    end)
    assert.equal(1, others) -- only the second run's main task
  end)
end)

describe("asched.run inside a running loop", function()
  it("raises in the main task and never calls the inner fn", function()
    local inner_ran = false
    local ok = asched.run(function()
      return pcall(asched.run, function() inner_ran = true end)
    end)
    assert.is_false(ok)
    assert.is_false(inner_ran)
  end)

  it("raises in a spawned task too", function()
    local ok = asched.run(function()
      return asched.spawn(function()
        return pcall(asched.run, function() end)
      end):await()
    end)
    assert.is_false(ok)
  end)

  it("leaves the outer run working: its task keeps sleeping and returns", function()
    local result = asched.run({virtual_time = true}, function()
      pcall(asched.run, function() end)
      asched.sleep(2)
      return asched.now()
    end)
    assert.equal(2, result)
  end)
end)
