-- timeouts.lua -- putting a deadline on work: asched.wait_for around a
-- function or a task, asched.timeout around a block of code, and timeouts
-- nested inside each other.
--
--   asched scripts/advanced/timeouts.lua
--   asched --virtual-time scripts/advanced/timeouts.lua   (instant)
--
-- Every timeout in asched works by cancellation: when the deadline passes,
-- the work is cancelled at its current suspension point (its cleanup and
-- <close> variables run), and only then is TimeoutError raised.

-- Times are printed in seconds since the start of each section.
local start
local function section(title)
  print(title)
  start = asched.now()
end
local function stamp(fmt, ...)
  print(string.format("%5.2f  " .. fmt, asched.now() - start, ...))
end

local function query(name, seconds)
  local log <close> = setmetatable({}, {__close = function(_, err)
    if err then stamp("  %s stopped early (%s)", name, err.name) end
  end})
  asched.sleep(seconds)
  return name .. " answered"
end

---------------------------------------------------------------------------
section("=== 1. wait_for with a function ===")
-- asched.wait_for(fn, seconds) is asyncio.wait_for(coro, seconds). The
-- function runs in the caller's own task under the deadline. The two calls
-- run one after the other: the slow one gives up 2 s after the fast one ended.

stamp("%s", asched.wait_for(function() return query("fast query", 1) end, 2))
local ok, err = pcall(asched.wait_for, function() return query("slow query", 5) end, 2)
stamp("slow query: %s", tostring(err))

---------------------------------------------------------------------------
section("\n=== 2. wait_for with a task ===")
-- Given a task, wait_for awaits it under the deadline. On expiry the task is
-- cancelled as well -- wait_for does not leave it running behind your back.
-- (Use asched.shield(task) inside if it must survive.)

local report = asched.spawn(query, "report", 3)
ok, err = pcall(asched.wait_for, report, 1)
stamp("report: %s; the task was cancelled: %s", tostring(err), tostring(report:cancelled()))

---------------------------------------------------------------------------
section("\n=== 3. asched.timeout: a deadline for a whole block ===")
-- asched.timeout(seconds, fn) is Python 3.11's `async with asyncio.timeout(s):`.
-- The block may do several things in a row; the deadline covers them all.

ok, err = pcall(asched.timeout, 2.5, function()
  stamp("step 1: %s", query("login", 1))
  stamp("step 2: %s", query("search", 1))
  stamp("step 3: %s", query("download", 1))   -- starts at 2.0, would end at 3.0
end)
stamp("block: %s", ok and "completed" or tostring(err))

-- A nil deadline means "no limit": handy when the limit is a setting.
stamp("no deadline: %s", asched.timeout(nil, query, "patient query", 4))

---------------------------------------------------------------------------
section("\n=== 4. Nested timeouts ===")
-- Each timeout raises only its own expiry. The inner one expiring first is a
-- TimeoutError the outer block can catch and recover from; the outer one
-- expiring first reaches the inner block as a cancellation -- not a timeout
-- of its own -- and comes out of the outer block as the outer's TimeoutError.

ok, err = pcall(asched.timeout, 5, function()
  local inner_ok, inner_err = pcall(asched.timeout, 1, query, "inner, 1 s limit", 3)
  stamp("inside outer: inner gave %s; carrying on", tostring(inner_err))
  return query("fallback", 1)
end)
stamp("outer 5 s, inner 1 s -> %s", ok and err or tostring(err))

ok, err = pcall(asched.timeout, 1, function()
  local inner_ok, inner_err = pcall(asched.timeout, 5, query, "inner, 5 s limit", 3)
  stamp("inside outer: inner saw %s", inner_err.name)
  error(inner_err)           -- a cancellation must be passed on, never swallowed
end)
stamp("outer 1 s, inner 5 s -> %s", tostring(err))
