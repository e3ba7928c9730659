-- context_managers.lua -- Python's `async with` in Lua 5.4: a to-be-closed
-- variable (`local x <close> = ...`) releases a semaphore permit, a lock or
-- any resource of your own when its block ends -- by return, by error or by
-- cancellation. And `:with(fn)`, the same thing as one call.
--
--   asched scripts/advanced/context_managers.lua
--   asched --virtual-time scripts/advanced/context_managers.lua   (instant)
--
--   Python                                 Lua with asched
--   async with sem:                        local permit <close> = sem:acquire()
--       ...                                ...   -- released at the block's end
--   async with lock: ...                   local guard <close> = lock:acquire()
--   (no one-liner)                         lock:with(fn, ...)

local function stamp(fmt, ...)
  print(string.format("%5.2f  " .. fmt, asched.now(), ...))
end

---------------------------------------------------------------------------
print("=== 1. A semaphore permit held by a <close> variable ===")
-- sem:acquire() suspends until a permit is free and returns a guard. Stored
-- in a <close> variable, the guard releases the permit when the variable
-- goes out of scope: at the end of the function here.

local permits = asched.semaphore(2)

local function download(name)
  local permit <close> = permits:acquire()
  stamp("%s: got a permit, downloading", name)
  asched.sleep(1)
  stamp("%s: done", name)
end                                     -- <- the permit is released here

asched.gather({
  function() download("a") end,
  function() download("b") end,
  function() download("c") end,
  function() download("d") end,
})
stamp("four downloads, two permits: two rounds of one second")

---------------------------------------------------------------------------
print("\n=== 2. A lock, released even when the block fails ===")
-- A lock is a semaphore of one. The <close> guard releases it on error too,
-- so a failing task cannot leave it locked for everyone else.

local lock = asched.lock()
local balance = 100

local function withdraw(amount)
  local guard <close> = lock:acquire()
  local seen = balance
  asched.sleep(0.5)                     -- another task may run here...
  if amount > seen then
    error(string.format("cannot withdraw %d from %d", amount, seen), 0)
  end
  balance = seen - amount               -- ...but none touches balance meanwhile
  stamp("withdrew %d, balance %d", amount, balance)
end

local outcome = asched.gather({
  function() withdraw(30) end,
  function() withdraw(500) end,
  function() withdraw(50) end,
}, {return_exceptions = true})
stamp("the failed withdrawal said: %s", outcome[2])
stamp("balance %d, lock still held: %s", balance, tostring(lock:locked()))

---------------------------------------------------------------------------
print("\n=== 3. :with(fn, ...) ===")
-- lock:with(fn, ...) and sem:with(fn, ...) acquire, call fn(...), release --
-- even on error or cancellation -- and return fn's values. Good for one call.

local total = lock:with(function(a, b)
  stamp("inside lock:with, locked = %s", tostring(lock:locked()))
  return a + b
end, 20, 22)
stamp("lock:with returned %d, locked = %s", total, tostring(lock:locked()))

---------------------------------------------------------------------------
print("\n=== 4. A resource of your own ===")
-- Any value whose metatable has __close works in a <close> variable. The
-- second argument of __close is the error that is unwinding the block, or
-- nil on a normal exit -- here, the CancelledError of a cancelled task.

local Connection = {}
Connection.__index = Connection
Connection.__close = function(conn, err)
  stamp("  closing %s (%s)", conn.name, err and tostring(err) or "normal exit")
end

local function connect(name)
  asched.sleep(0.1)                     -- opening may itself suspend
  stamp("  opened %s", name)
  return setmetatable({name = name}, Connection)
end

local function use_connection(name, seconds)
  local conn <close> = connect(name)
  asched.sleep(seconds)
  return conn.name .. " finished its work"
end

stamp("%s", use_connection("conn-1", 1))

local task = asched.spawn(use_connection, "conn-2", 10)
asched.sleep(1)
task:cancel("shutdown")
pcall(task.await, task)
stamp("conn-2's task cancelled: %s -- and its connection was closed", tostring(task:cancelled()))
