-- cancellation.lua -- stopping a task from outside: task:cancel raises
-- CancelledError inside the task at the point where it waits, so it can clean
-- up; <close> variables run on the way out; a task cancelled before it
-- started never runs at all.
--
--   asched scripts/advanced/cancellation.lua
--   asched --virtual-time scripts/advanced/cancellation.lua   (instant)

local function stamp(fmt, ...)
  print(string.format("%5.2f  " .. fmt, asched.now(), ...))
end

---------------------------------------------------------------------------
print("=== 1. task:cancel ===")
-- cancel() only *requests* the cancellation: the task sees CancelledError at
-- its current suspension point (here, inside asched.sleep) the next time the
-- loop runs it. Awaiting a cancelled task raises CancelledError too.

local function long_job()
  stamp("long job: starting a 10 s sleep")
  asched.sleep(10)
  stamp("long job: finished (never printed)")
end

local job = asched.spawn(long_job)
asched.sleep(1)
stamp("main: cancel() -> %s", tostring(job:cancel("user pressed stop")))
stamp("main: right after cancel, done = %s (it has not seen the request yet)", tostring(job:done()))
local ok, err = pcall(job.await, job)
stamp("main: await raised %s", tostring(err))
stamp("main: cancelled = %s; cancelling again -> %s", tostring(job:cancelled()), tostring(job:cancel()))

---------------------------------------------------------------------------
print("\n=== 2. Catching CancelledError to clean up ===")
-- Like `except asyncio.CancelledError:` followed by `raise`: catch it with
-- pcall, tidy up, and raise it again so the task still ends cancelled.

local function worker()
  local connection = "db-connection-1"
  stamp("worker: opened %s", connection)
  local ok, err = pcall(asched.sleep, 10)
  if not ok and type(err) == "table" and err.name == "CancelledError" then
    stamp("worker: cancelled (%s), closing %s", err.message, connection)
    error(err)             -- re-raise: the cancellation is not ours to swallow
  end
end

local w = asched.spawn(worker)
asched.sleep(1)
w:cancel("shutting down")
pcall(w.await, w)
stamp("main: worker cancelled = %s", tostring(w:cancelled()))

---------------------------------------------------------------------------
print("\n=== 3. <close> variables run on cancellation ===")
-- Lua 5.4's to-be-closed variables are Python's `finally` and `with`: the
-- value's __close metamethod runs however the block is left -- by returning,
-- by an error, or by a cancellation. No pcall needed.

local function closer(name)
  return setmetatable({}, {__close = function(_, err)
    stamp("  __close %s (leaving because of: %s)", name, err and tostring(err) or "normal exit")
  end})
end

local function guarded()
  local outer <close> = closer("outer resource")
  local inner <close> = closer("inner resource")
  stamp("guarded: holding two resources, sleeping")
  asched.sleep(10)
end

local g = asched.spawn(guarded)
asched.sleep(1)
g:cancel()
pcall(g.await, g)
stamp("main: both closed, innermost first; cancelled = %s", tostring(g:cancelled()))

---------------------------------------------------------------------------
print("\n=== 4. Cancelled before it started ===")
-- A task starts on a later loop step, never inside spawn. Cancelled before
-- that step, its function never runs: nothing is printed below.

local never = asched.spawn(function() stamp("never: this line never prints") end)
never:cancel()
ok, err = pcall(never.await, never)
stamp("main: never ran, cancelled = %s, await raised %s", tostring(never:cancelled()), err.name)

---------------------------------------------------------------------------
print("\n=== 5. Swallowing the cancellation ===")
-- A task may catch CancelledError and return normally. Then it completes
-- normally with whatever it returned -- allowed, but it means the task
-- refused to stop, so do it only on purpose (e.g. to return a partial result).

local stubborn = asched.spawn(function()
  local done = 0
  for _ = 1, 10 do
    if not pcall(asched.sleep, 1) then
      stamp("stubborn: cancelled after %d steps, returning what I have", done)
      return done
    end
    done = done + 1
  end
  return done
end)
asched.sleep(3.5)
stubborn:cancel()
stamp("main: stubborn returned %d, cancelled = %s", stubborn:await(), tostring(stubborn:cancelled()))
