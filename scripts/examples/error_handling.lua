-- error_handling.lua -- what happens to an error raised inside a task: it is
-- stored in the task, re-raised by whoever awaits it, caught with pcall,
-- collected by gather, and -- if nobody ever looks -- reported on stderr.
--
--   asched scripts/examples/error_handling.lua
--   asched --virtual-time scripts/examples/error_handling.lua   (instant)
--
-- Python has try/except; Lua has pcall(f, ...), which calls f and returns
-- true and its results, or false and the error value.

local function fetch(name, seconds, fails)
  asched.sleep(seconds)
  if fails then
    error(name .. " is unreachable", 0)   -- level 0: no "file:line:" prefix
  end
  return name .. " ok"
end

---------------------------------------------------------------------------
print("=== 1. An error stays in its task until someone awaits it ===")
-- A failing task does not crash the program or the other tasks: the error is
-- kept in the task. task:await() re-raises the very same value in the
-- awaiting task, so it is caught like an error raised right there.

local task = asched.spawn(fetch, "server-a", 1, true)
asched.sleep(2)
print(string.format("task done: %s, failed quietly while main slept", tostring(task:done())))
local ok, err = pcall(task.await, task)      -- pcall(task:await()) would call too early
print(string.format("pcall(task.await, task) -> %s, %s", tostring(ok), err))

-- task:exception() returns the error without raising it, and
-- task:traceback() says where it was raised.
print(string.format("task:exception() -> %s", task:exception()))
local where = task:traceback():match("\n%s*([^\n%[][^\n]*:%d+:[^\n]*)")
print("task:traceback() names the line: " .. where:gsub("[^%s<]*/", ""))

---------------------------------------------------------------------------
print("\n=== 2. Error values are kept unchanged ===")
-- Lua may raise any value, not just strings. await re-raises it unchanged, so
-- a table carries structured details from the task to whoever handles it.

local structured = asched.spawn(function()
  asched.sleep(0.5)
  error({code = 503, reason = "service unavailable"})
end)
ok, err = pcall(structured.await, structured)
print(string.format("caught a %s: code %d, %s", type(err), err.code, err.reason))

---------------------------------------------------------------------------
print("\n=== 3. asched's own errors have .name and .message ===")
-- Errors raised by asched itself (a timeout, a cancellation, ...) are tables
-- with `name` and `message`; tostring gives "name: message". Match on name,
-- as Python code would match an exception class.

ok, err = pcall(asched.wait_for, function() return fetch("server-b", 5) end, 1)
print(string.format("err.name = %s, err.message = %s", err.name, err.message))
print(string.format("tostring(err) = %s", tostring(err)))
if err.name == "TimeoutError" then
  print("-> handled like `except asyncio.TimeoutError:`")
end

local cancelled = asched.spawn(fetch, "server-c", 5)
asched.sleep(0)                      -- let it start and begin its sleep
cancelled:cancel("no longer needed")
ok, err = pcall(cancelled.await, cancelled)
print(string.format("awaiting a cancelled task raises %s", tostring(err)))

---------------------------------------------------------------------------
print("\n=== 4. gather with return_exceptions: errors as values ===")
-- One failure among many: collect everything, then look at each result.
-- An error value is a string here; a success is "<name> ok".

local results = asched.gather({
  function() return fetch("db", 1) end,
  function() return fetch("cache", 1, true) end,
  function() return fetch("search", 1) end,
}, {return_exceptions = true})
for i = 1, results.n do
  local result = results[i]
  if result:match(" ok$") then
    print(string.format("  %d: success: %s", i, result))
  else
    print(string.format("  %d: failure: %s", i, result))
  end
end

---------------------------------------------------------------------------
print("\n=== 5. An error nobody retrieves is not lost ===")
-- This task fails, and nothing ever awaits it or asks for its result. asched
-- reports it on stderr with its traceback, at the latest when the run ends
-- (like asyncio's "Task exception was never retrieved"). The exit status
-- stays 0: the report is a warning about the program, not a failure of it.

local forgotten = asched.spawn(fetch, "server-d", 1, true)
forgotten.name = "forgotten"
asched.sleep(2)
print("main ends now; look for 'forgotten' on stderr")
