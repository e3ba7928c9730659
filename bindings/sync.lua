-- sync.lua -- condition, and `with` for semaphores and locks. Compiled into the
-- binary (embed.cmake) and run once by luaopen_asched.
--
-- Semaphore, bounded semaphore, lock, event and queue are in C
-- (runtime/sync.c): they are on the hot path. What is here is composition:
-- `with` is a <close> guard around a call, and a condition is a lock plus a
-- wait queue (runtime/waitq.c), whose grant hands a notification to the
-- oldest waiter; a waiter cancelled after its notification passes it on.

local asched, prim = ...

local waitq, check_in_task = prim.waitq, prim.check_in_task
local new_error, is_callable = prim.new_error, prim.is_callable
local arg_error, type_name = prim.arg_error, prim.type_name
local error, pcall, type = error, pcall, type
local setmetatable, getmetatable, tointeger = setmetatable, getmetatable, math.tointeger

local function raise(name, message)
  error(new_error(name, message), 0)
end

---------------------------------------------------------------------------
-- with(fn, ...) for the permit types: acquire, call, release however it ends.

for _, make in ipairs({asched.semaphore, asched.bounded_semaphore, asched.lock}) do
  local mt = getmetatable(make())
  mt.__index.with = function(self, fn, ...)
    if getmetatable(self) ~= mt then
      arg_error(1, "with", mt.__name .. " expected, got " .. type_name(self))
    end
    if not is_callable(fn) then arg_error(2, "with", "function expected, got " .. type_name(fn)) end
    local permit <close> = self:acquire()
    return fn(...)
  end
end

---------------------------------------------------------------------------
-- Condition: wait releases the lock, waits for a notification and takes the
-- lock back before returning or raising -- also when cancelled. A notified
-- waiter cancelled before it ran passes its notification on.

local Lock = getmetatable(asched.lock())
local Condition = {__name = "asched.Condition"}
Condition.__index = Condition

local function check(self, fname)
  if getmetatable(self) ~= Condition then
    arg_error(1, fname, "asched.Condition expected, got " .. type_name(self))
  end
  return self
end

function asched.condition(lock)
  if lock == nil then lock = asched.lock() end
  if getmetatable(lock) ~= Lock then
    arg_error(1, "condition", "asched.Lock expected, got " .. type_name(lock))
  end
  return setmetatable({_lock = lock, _waiters = waitq("condition")}, Condition)
end

function Condition:acquire() check(self, "acquire") return self._lock:acquire() end
function Condition:release() check(self, "release") return self._lock:release() end
function Condition:locked() check(self, "locked") return self._lock:locked() end

function Condition:with(fn, ...)
  check(self, "with")
  return self._lock:with(fn, ...)
end

-- Waits for a notification; on an error, one already received goes on.
local function wait_notified(self)
  local granted, _, err = self._waiters:wait("wait")
  if err ~= nil then
    if granted then self._waiters:grant() end
    error(err, 0)
  end
end

function Condition:wait()
  check(self, "wait")
  check_in_task("wait")
  if not self._lock:locked() then raise("RuntimeError", "cannot wait on an un-acquired lock") end
  self._lock:release()
  local ok, err = pcall(wait_notified, self)
  -- Take the lock back whatever happened. Only cancellations are retried
  -- (and remembered): any other error while re-acquiring must not spin.
  while true do
    local acquired, e = pcall(self._lock.acquire, self._lock)
    if acquired then break end
    if type(e) ~= "table" or e.name ~= "CancelledError" then error(e, 0) end
    if ok then ok, err = false, e end
  end
  if not ok then error(err, 0) end
  return true
end

function Condition:wait_for(predicate)
  check(self, "wait_for")
  if not is_callable(predicate) then
    arg_error(2, "wait_for", "function expected, got " .. type_name(predicate))
  end
  local result = predicate()
  while not result do
    self:wait()
    result = predicate()
  end
  return result
end

local function check_notify(self, fname)
  check(self, fname)
  if not self._lock:locked() then raise("RuntimeError", "cannot notify on an un-acquired lock") end
end

function Condition:notify(n)
  check_notify(self, "notify")
  n = n == nil and 1 or tointeger(n)
  if n == nil or n < 0 then arg_error(2, "notify", "non-negative integer expected") end
  for _ = 1, n do
    if not self._waiters:grant() then break end
  end
end

function Condition:notify_all()
  check_notify(self, "notify_all")
  self._waiters:grant_all()
end
