-- helpers.lua -- what the specs in this folder share. Every spec runs in the one
-- loop and on the one virtual clock of the asched run that hosts busted, so a spec
-- measures time from asched.now() at its start and leaves no task behind.
local assert = require("luassert")   -- busted's assert lives in the spec files' own environment

local helpers = {}

-- The tasks still pending, except the one running (busted's own main task).
local function leftovers()
  local me, left = asched.current_task(), {}
  for _, t in ipairs(asched.all_tasks()) do
    if t ~= me then left[#left + 1] = t end
  end
  return left
end

-- For after_each: cancels every task the spec left pending and waits until each
-- has finished, retrieving its outcome so no error is reported at the end of the
-- run. Tasks that swallow the cancellation are cancelled again.
function helpers.cancel_leftovers()
  for _ = 1, 10 do
    local left = leftovers()
    if #left == 0 then return end
    for _, t in ipairs(left) do t:cancel("left over by a spec") end
    for _, t in ipairs(left) do pcall(t.await, t) end
  end
  error("some tasks keep ignoring their cancellation")
end

-- Calls fn(...) and returns the error it raises; fails the spec if it returns.
function helpers.error_of(fn, ...)
  local ok, err = pcall(fn, ...)
  assert(not ok, "expected an error, but the call returned")
  return err
end

-- Asserts that `err` is an asched error object named `name`.
function helpers.assert_error_named(name, err)
  assert.equals("table", type(err), "expected an asched error object, got: " .. tostring(err))
  assert.equals(name, err.name)
end

-- Asserts that exactly `seconds` of loop time passed from `t0` to `t1` (default:
-- now), to the nanosecond: the clock counts whole nanoseconds and asched.now()
-- reports them as a float, so a difference of two readings may be off in its last bit.
function helpers.assert_elapsed(seconds, t0, t1)
  local elapsed = (t1 or asched.now()) - t0
  assert(math.abs(elapsed - seconds) < 1e-9,
         string.format("expected %.9f s to have passed, but %.9f s did", seconds, elapsed))
end

-- A function that sleeps `seconds`, then returns the remaining arguments (nils kept).
function helpers.returns_after(seconds, ...)
  local values = table.pack(...)
  return function()
    asched.sleep(seconds)
    return table.unpack(values, 1, values.n)
  end
end

-- A function that sleeps `seconds`, then raises `err` unchanged (no position added).
function helpers.fails_after(seconds, err)
  return function()
    asched.sleep(seconds)
    error(err, 0)
  end
end

-- The loop clock once every task is idle. It waits on a task that never finishes
-- until the run gives up with a DeadlockError, which happens only when no timer is
-- left: a timer left behind would first move the clock to its deadline. Call it
-- once the spec's own tasks are finished or cancelled.
function helpers.idle_clock()
  local forever = asched.spawn(asched.sleep, math.huge)
  local ok, err = pcall(forever.await, forever)
  forever:cancel()
  pcall(forever.await, forever)
  assert(not ok and type(err) == "table" and err.name == "DeadlockError",
         "expected a DeadlockError once every task was idle, got: " .. tostring(err))
  return asched.now()
end

-- The message of an argument error raised by a call in the calling spec file,
-- without the "file:line: " position prefix, which must name that file (so the
-- error points at the user's call, as Lua's own argument errors do).
function helpers.argument_error_message(err)
  assert.equals("string", type(err), "expected a string error, got: " .. tostring(err))
  local file = debug.getinfo(2, "S").short_src
  local message, found = err:gsub("^" .. file:gsub("%p", "%%%0") .. ":%d+: ", "")
  assert.equals(1, found, "no position prefix naming " .. file .. " in: " .. err)
  return message
end

return helpers
