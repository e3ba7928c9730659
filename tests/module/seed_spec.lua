-- asched.run's `seed` option (the program's --seed): tasks that are ready at
-- the same instant run in an order drawn from the seed instead of FIFO, so an
-- order-dependent bug shows up, and the same seed replays the same order.
local asched = require("asched")

-- The order in which `n` tasks that all wake at t = 1 run, as a string.
local function wake_order(options, n)
  options.virtual_time = true
  return asched.run(options, function()
    local log, tasks = {}, {}
    for i = 1, n do
      tasks[i] = asched.spawn(function()
        asched.sleep(1)
        log[#log + 1] = i
      end)
    end
    asched.gather(tasks)
    return table.concat(log, " ")
  end)
end

-- A planted bug: the reader assumes the writer, woken by the same deadline,
-- has already run. FIFO always runs the writer first (it was spawned first).
local function racy_cache(options)
  options.virtual_time = true
  return asched.run(options, function()
    local cache
    local writer = asched.spawn(function() asched.sleep(1); cache = "value" end)
    local reader = asched.spawn(function()
      asched.sleep(1)
      return assert(cache, "cache read before it was written")
    end)
    asched.gather({writer, reader})
  end)
end

local function fails(options)
  return not pcall(racy_cache, options)
end

describe("asched.run without a seed", function()
  it("runs tasks woken at the same instant in FIFO order, every time", function()
    local fifo = "1 2 3 4 5 6 7 8 9 10 11 12"
    for _ = 1, 5 do assert.equal(fifo, wake_order({}, 12)) end
  end)

  it("never finds the planted order-dependent bug", function()
    for _ = 1, 20 do assert.is_false(fails({})) end
  end)
end)

describe("asched.run with a seed", function()
  it("runs every task exactly once, in some order", function()
    local order = wake_order({seed = 7}, 12)
    local seen = {}
    for i in order:gmatch("%d+") do seen[#seen + 1] = tonumber(i) end
    table.sort(seen)
    assert.same({1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}, seen)
  end)

  it("replays the same order for the same seed", function()
    for seed = 1, 10 do
      assert.equal(wake_order({seed = seed}, 12), wake_order({seed = seed}, 12))
    end
  end)

  it("draws different orders from different seeds, not FIFO alone", function()
    local orders, distinct = {}, 0
    for seed = 1, 10 do
      local order = wake_order({seed = seed}, 12)
      if not orders[order] then orders[order], distinct = true, distinct + 1 end
    end
    assert.is_true(distinct >= 5, "only " .. distinct .. " distinct orders from 10 seeds")
    assert.is_nil(orders["1 2 3 4 5 6 7 8 9 10 11 12"])
  end)

  it("finds the planted bug with some seed, and that seed finds it every time", function()
    local failing
    for seed = 1, 50 do
      if fails({seed = seed}) then failing = seed; break end
    end
    assert.is_not_nil(failing, "no seed in 1..50 ran the reader first")
    for _ = 1, 3 do assert.is_true(fails({seed = failing})) end
  end)

  it("also shuffles tasks spawned in the same step", function()
    local orders = {}
    for seed = 1, 10 do
      orders[asched.run({seed = seed}, function()
        local log, tasks = {}, {}
        for i = 1, 8 do tasks[i] = asched.spawn(function() log[#log + 1] = i end) end
        asched.gather(tasks)
        return table.concat(log, " ")
      end)] = true
    end
    local n = 0
    for _ in pairs(orders) do n = n + 1 end
    assert.is_true(n > 1, "every seed ran the spawned tasks in the same order")
  end)

  it("never reorders across instants: an earlier deadline still runs first", function()
    for seed = 1, 20 do
      local order = asched.run({virtual_time = true, seed = seed}, function()
        local log = {}
        local late = asched.spawn(function() asched.sleep(2); log[#log + 1] = "late" end)
        local early = asched.spawn(function() asched.sleep(1); log[#log + 1] = "early" end)
        asched.gather({late, early})
        return table.concat(log, " ")
      end)
      assert.equal("early late", order)
    end
  end)

  it("rejects a seed that is not an integer, in Lua's style", function()
    for _, bad in ipairs({1.5, "x", true, {}}) do
      local ok, err = pcall(asched.run, {seed = bad}, function() end)
      assert.is_false(ok)
      assert.matches("bad argument #1 to '[%w.]*run' %(option 'seed' must be an integer, got ", err)
    end
  end)

  it("accepts negative and zero seeds", function()
    assert.equal(wake_order({seed = -3}, 6), wake_order({seed = -3}, 6))
    assert.equal(wake_order({seed = 0}, 6), wake_order({seed = 0}, 6))
  end)
end)
