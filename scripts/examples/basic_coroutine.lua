-- basic_coroutine.lua -- the first step: a function that sleeps, called
-- directly (it runs in the current task, one call after the other) and then
-- spawned as tasks (they run concurrently), and awaiting a task's result.
--
--   asched scripts/examples/basic_coroutine.lua
--   asched --virtual-time scripts/examples/basic_coroutine.lua   (instant)
--
-- In Python a coroutine function must be declared `async def` and every call
-- awaited. In Lua any function may suspend: asched runs every task as a Lua
-- coroutine, and asched.sleep yields it to the loop.

-- An ordinary Lua function. Nothing marks it as "async": it suspends only
-- because it calls asched.sleep, which must run inside a task.
local function greet(name, seconds)
  print(string.format("%5.2f  hello, %s (sleeping %.1f s)", asched.now(), name, seconds))
  asched.sleep(seconds)
  print(string.format("%5.2f  goodbye, %s", asched.now(), name))
  return "greeted " .. name
end

---------------------------------------------------------------------------
print("=== 1. Calling the function directly: sequential ===")
-- The script is the main task, so it may call greet itself. The call runs
-- greet inside the main task and returns when greet returns -- exactly like
-- `await greet(...)` in Python. Two calls take the sum of their sleeps.
-- Lua functions have no colour: there is no coroutine object to forget to
-- await, and no "coroutine was never awaited" warning.

local start = asched.now()
print(greet("Ada", 1))
print(greet("Brian", 1))
print(string.format("Two direct calls took %.2f seconds", asched.now() - start))

---------------------------------------------------------------------------
print("\n=== 2. asched.spawn: concurrent ===")
-- asched.spawn(fn, ...) is asyncio.create_task(fn(...)): it wraps the call in
-- a new task and returns at once. The task starts on a later loop step, when
-- the main task suspends -- here, in task:await below.

start = asched.now()
local ada = asched.spawn(greet, "Ada", 1)
local brian = asched.spawn(greet, "Brian", 1)
-- Tasks are named task-1, task-2, ... (the main task is task-1).
print(string.format("Spawned %s and %s; neither has started yet", ada.name, brian.name))

---------------------------------------------------------------------------
print("\n=== 3. task:await: wait for a task and get its result ===")
-- task:await() suspends the main task until the task is done and returns what
-- the task's function returned. While main waits for Ada, Brian runs too.

print(ada:await())
print(brian:await())
print(string.format("Two spawned tasks took %.2f seconds", asched.now() - start))

-- Awaiting a finished task does not suspend: it returns the result again.
print(string.format("Awaiting %s again: %s (done: %s)", ada.name, ada:await(), tostring(ada:done())))

---------------------------------------------------------------------------
print("\n=== 4. A task may return several values ===")
-- A Lua function may return several values; await returns them all.

local divide = asched.spawn(function(a, b)
  asched.sleep(0.5)
  return a // b, a % b
end, 17, 5)
local quotient, remainder = divide:await()
print(string.format("17 = 5 * %d + %d", quotient, remainder))
