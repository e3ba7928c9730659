-- hostile_args_spec.lua (module) -- asched.run's options table, which can only be
-- given outside a task: read raw, every key checked before the loop starts, so a
-- refused call runs nothing, writes nothing, and leaves asched.run usable.
local asched = require("asched")

local FILE = debug.getinfo(1, "S").short_src

-- The error fn(...) raises; fails the spec if it returns.
local function error_of(fn, ...)
  local ok, err = pcall(fn, ...)
  assert.is_false(ok, "expected an error, but the call returned")
  return err
end

-- The message of an argument error raised by a call in this file, without its
-- "file:line: " prefix (which must name this file).
local function message_of(err)
  assert.equals("string", type(err), "expected a string error, got: " .. tostring(err))
  local message, found = err:gsub("^" .. FILE:gsub("%p", "%%%0") .. ":%d+: ", "")
  assert.equals(1, found, "no position prefix naming " .. FILE .. " in: " .. err)
  return message
end

-- Asserts that `text` is one of `choices`.
local function assert_one_of(choices, text)
  for _, choice in ipairs(choices) do
    if text == choice then return end
  end
  error("expected one of:\n  " .. table.concat(choices, "\n  ") .. "\ngot:\n  " .. tostring(text), 2)
end

-- A main function that counts its calls.
local function counted_main()
  local count = 0
  return function() count = count + 1 end, function() return count end
end

-- Asserts that asched.run still works: a fresh virtual-time run sleeps 0.5 s.
local function assert_run_works()
  collectgarbage()
  collectgarbage()
  local elapsed = asched.run({virtual_time = true}, function()
    local t0 = asched.now()
    local t = asched.spawn(function() asched.sleep(0.5); return "still fine" end)
    assert.equals("still fine", t:await())
    return asched.now() - t0
  end)
  assert.is_true(math.abs(elapsed - 0.5) < 1e-9, "expected 0.5 s to pass, " .. elapsed .. " s did")
end

-- A path that does not exist yet.
local function absent_path(suffix)
  local path = os.tmpname()
  os.remove(path)
  return path .. suffix
end

local function exists(path)
  local f = io.open(path)
  if f then f:close() end
  return f ~= nil
end

describe("asched.run's options", function()
  it("refuses an unknown option by its name and never calls fn", function()
    local main, calls = counted_main()
    local err = message_of(error_of(function() asched.run({tls = true}, main) end))
    assert.equals("bad argument #1 to 'run' (unknown option 'tls')", err)
    assert.equals(0, calls())
    assert_run_works()
  end)

  it("names 'run' with no position when pcall calls it directly", function()
    local main = counted_main()
    assert.equals("bad argument #1 to 'run' (unknown option 'tls')", error_of(asched.run, {tls = true}, main))
  end)

  it("refuses a non-string key", function()
    local main, calls = counted_main()
    local err = message_of(error_of(function() asched.run({true}, main) end))
    assert.equals("bad argument #1 to 'run' (unknown option [1])", err)
    assert.equals(0, calls())
  end)

  it("refuses a known option of the wrong type and never calls fn", function()
    local main, calls = counted_main()
    local cases = {
      {{virtual_time = 1}, "option 'virtual_time' must be a boolean, got number",
                           "option 'virtual_time' must be a boolean, got 1"},
      {{debug = "yes"}, "option 'debug' must be a boolean, got string"},
      {{seed = 1.5}, "option 'seed' must be an integer, got number", "option 'seed' must be an integer, got 1.5"},
      {{trace = 5}, "option 'trace' must be a string, got number", "option 'trace' must be a string, got 5"},
      {{timeline = {}}, "option 'timeline' must be a boolean or a file name, got table"},
    }
    for _, case in ipairs(cases) do
      local err = message_of(error_of(function() asched.run(case[1], main) end))
      local choices = {}
      for i = 2, #case do choices[#choices + 1] = "bad argument #1 to 'run' (" .. case[i] .. ")" end
      assert_one_of(choices, err)
    end
    assert.equals(0, calls())
    assert_run_works()
  end)

  it("refuses a numeric string as the seed, as timeout refuses \"1\"", function()
    local main, calls = counted_main()
    local ok, err = pcall(asched.run, {seed = "7"}, main)
    assert.is_false(ok)
    assert.matches("bad argument #1 to '[%w.]*run' %(option 'seed' must be an integer, got string%)", err)
    assert.equals(0, calls())
  end)

  it("checks every option before writing anything: no trace or timeline file appears", function()
    local main, calls = counted_main()
    local trace, timeline = absent_path(".json"), absent_path(".svg")
    local err = message_of(error_of(function()
      asched.run({trace = trace, timeline = timeline, virtual_time = true, tls = true}, main)
    end))
    assert.equals("bad argument #1 to 'run' (unknown option 'tls')", err)
    assert.equals(0, calls())
    assert.is_false(exists(trace), "a trace was written by a refused run")
    assert.is_false(exists(timeline), "a timeline was written by a refused run")
  end)

  it("checks the options before fn: both wrong reports the options", function()
    local err = message_of(error_of(function() asched.run({tls = true}, 5) end))
    assert.equals("bad argument #1 to 'run' (unknown option 'tls')", err)
  end)

  it("refuses a non-function after valid options, starting no loop", function()
    local err = message_of(error_of(function() asched.run({virtual_time = true}, 5) end))
    assert.equals("bad argument #2 to 'run' (function expected, got number)", err)
    assert_run_works()
  end)

  it("reads the options raw: an __index on the options table is never called", function()
    local opts = setmetatable({}, {__index = function(_, k) error("options read through __index: " .. tostring(k)) end})
    assert.equals("ran", asched.run(opts, function() return "ran" end))
  end)

  it("does not see an option inherited through __index: the clock stays real", function()
    local opts = setmetatable({}, {__index = {virtual_time = true}})
    -- 20 ms of busy work, then a pure yield: the real clock moves by at least
    -- 20 ms (CPU time never exceeds wall time); a virtual clock, which moves only
    -- to timers, would not move at all.
    local elapsed = asched.run(opts, function()
      local t0, c0 = asched.now(), os.clock()
      repeat until os.clock() - c0 >= 0.02
      asched.sleep(0)
      return asched.now() - t0
    end)
    assert.is_true(elapsed >= 0.02, "the clock moved by " .. elapsed .. " s: virtual time was turned on")
  end)

  it("accepts nil options and an empty table", function()
    assert.equals(1, asched.run({}, function() return 1 end))
    assert.equals(2, asched.run(function() return 2 end))
  end)
end)
