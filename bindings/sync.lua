-- sync.lua -- semaphore, bounded_semaphore, lock, event, condition and queue.
-- Compiled into the binary (embed.cmake) and run once by luaopen_asched.
--
-- Each is a small state machine in Lua over one C primitive, the wait queue
-- (runtime/waitq.c): a FIFO of waiting tasks where grant(v) hands v to the
-- oldest waiter and wakes it. Handing over -- a permit, the lock, a queue
-- item or a free slot goes straight to the oldest waiter -- is what makes
-- every queue FIFO with no barging: a task that arrives later cannot take
-- what a waiter was given. A waiter cancelled after its grant gets the grant
-- back with the error and passes it on before raising, so nothing is lost.
-- Where asyncio and Trio differ, see the closing note of issue 4.

local asched, prim = ...

local waitq, check_in_task = prim.waitq, prim.check_in_task
local new_error, is_callable = prim.new_error, prim.is_callable
local arg_error, type_name = prim.arg_error, prim.type_name
local error, pcall, type, format = error, pcall, type, string.format
local setmetatable, getmetatable, tointeger = setmetatable, getmetatable, math.tointeger

local function raise(name, message)
  error(new_error(name, message), 0)
end

-- A new type: methods check that `self` is one of theirs.
local function class(name)
  local c = {__name = "asched." .. name}
  c.__index = c
  return c
end

local function check(self, c, fname)
  if getmetatable(self) ~= c then
    arg_error(1, fname, format("%s expected, got %s", c.__name, type_name(self)))
  end
  return self
end

-- A count argument: nil (the default) or a non-negative integer.
local function count_of(n, default, fname)
  if n == nil then return default end
  local i = tointeger(n)
  if i == nil or i < 0 then
    arg_error(1, fname, format("non-negative integer expected, got %s",
                               type(n) == "number" and tostring(n) or type_name(n)))
  end
  return i
end

-- Waits in queue q; returns the granted value. On an error (a cancellation)
-- a grant already received is handed to pass_on(owner, value) first.
local function wait_in(q, fname, owner, pass_on)
  local granted, value, err = q:wait(fname)
  if err ~= nil then
    if granted and pass_on then pass_on(owner, value) end
    error(err, 0)
  end
  return value
end

---------------------------------------------------------------------------
-- Guards: `local permit <close> = sem:acquire()` releases once when closed.

local Guard = class("Guard")

function Guard:release()
  if self.released then return end
  self.released = true
  self.owner:release()
end

Guard.__close = Guard.release

local function guard(owner)
  return setmetatable({owner = owner, released = false}, Guard)
end

---------------------------------------------------------------------------
-- Semaphores and locks share one mechanism: a count of free permits, and a
-- permit released while tasks wait is handed to the oldest of them.

local Semaphore = class("Semaphore")
local BoundedSemaphore = class("BoundedSemaphore")
local Lock = class("Lock")

local function release_permit(self)
  if not self._waiters:grant() then self._free = self._free + 1 end
end

local function acquire_permit(self, fname)
  check_in_task(fname)
  if self._free > 0 and self._waiters:empty() then
    self._free = self._free - 1
  else
    wait_in(self._waiters, fname, self, release_permit)
  end
end

local function define_permits(c, label, release_check)
  function c:acquire()
    check(self, c, "acquire")
    acquire_permit(self, "acquire")
    return guard(self)
  end

  function c:release()
    check(self, c, "release")
    release_check(self)
    release_permit(self)
  end

  function c:locked()
    check(self, c, "locked")
    return self._free == 0
  end

  function c:with(fn, ...)
    check(self, c, "with")
    if not is_callable(fn) then arg_error(2, "with", "function expected, got " .. type_name(fn)) end
    local permit <close> = self:acquire()
    return fn(...)
  end

  c.__tostring = function(self)
    return format("%s (%d free)", label, self._free)
  end
end

define_permits(Semaphore, "Semaphore", function() end)
define_permits(BoundedSemaphore, "BoundedSemaphore", function(self)
  if self._free >= self._bound then
    raise("ValueError", "bounded_semaphore released too many times")
  end
end)
define_permits(Lock, "Lock", function(self)
  if self._free ~= 0 then raise("RuntimeError", "release of an unlocked lock") end
end)

function asched.semaphore(n)
  n = count_of(n, 1, "semaphore")
  return setmetatable({_free = n, _waiters = waitq("semaphore")}, Semaphore)
end

function asched.bounded_semaphore(n)
  n = count_of(n, 1, "bounded_semaphore")
  return setmetatable({_free = n, _bound = n, _waiters = waitq("bounded_semaphore")}, BoundedSemaphore)
end

function asched.lock()
  return setmetatable({_free = 1, _waiters = waitq("lock")}, Lock)
end

---------------------------------------------------------------------------
-- Event: set wakes every waiter; a waiter once woken returns true even if
-- the event is cleared again before it runs.

local Event = class("Event")

function asched.event()
  return setmetatable({_set = false, _waiters = waitq("event")}, Event)
end

function Event:set()
  check(self, Event, "set")
  if not self._set then
    self._set = true
    self._waiters:grant_all()
  end
end

function Event:clear()
  check(self, Event, "clear")
  self._set = false
end

function Event:is_set()
  check(self, Event, "is_set")
  return self._set
end

function Event:wait()
  check(self, Event, "wait")
  check_in_task("wait")
  if not self._set then wait_in(self._waiters, "wait") end
  return true
end

---------------------------------------------------------------------------
-- Condition: wait releases the lock, waits for a notification and takes the
-- lock back before returning or raising -- also when cancelled. A notified
-- waiter cancelled before it ran passes its notification on.

local Condition = class("Condition")

function asched.condition(lock)
  if lock == nil then lock = asched.lock() end
  if getmetatable(lock) ~= Lock then
    arg_error(1, "condition", "asched.Lock expected, got " .. type_name(lock))
  end
  return setmetatable({_lock = lock, _waiters = waitq("condition")}, Condition)
end

function Condition:acquire() check(self, Condition, "acquire") return self._lock:acquire() end
function Condition:release() check(self, Condition, "release") return self._lock:release() end
function Condition:locked() check(self, Condition, "locked") return self._lock:locked() end

function Condition:with(fn, ...)
  check(self, Condition, "with")
  return self._lock:with(fn, ...)
end

local function pass_notification(self)
  self._waiters:grant()
end

function Condition:wait()
  check(self, Condition, "wait")
  check_in_task("wait")
  if not self._lock:locked() then raise("RuntimeError", "cannot wait on an un-acquired lock") end
  self._lock:release()
  local ok, err = pcall(wait_in, self._waiters, "wait", self, pass_notification)
  -- Take the lock back whatever happened. Only cancellations are retried
  -- (and remembered): any other error while re-acquiring must not spin.
  while true do
    local acquired, e = pcall(acquire_permit, self._lock, "wait")
    if acquired then break end
    if type(e) ~= "table" or e.name ~= "CancelledError" then error(e, 0) end
    if ok then ok, err = false, e end
  end
  if not ok then error(err, 0) end
  return true
end

function Condition:wait_for(predicate)
  check(self, Condition, "wait_for")
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
  check(self, Condition, fname)
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

---------------------------------------------------------------------------
-- Queue: items in a deque indexed head..tail (so nil is an item). An item
-- put while getters wait goes straight to the oldest getter; a slot freed
-- while putters wait is reserved for the oldest putter.

local Queue = class("Queue")

function asched.queue(maxsize)
  maxsize = count_of(maxsize, 0, "queue")
  return setmetatable({
    _maxsize = maxsize, _items = {}, _head = 1, _tail = 0,
    _reserved = 0,      -- free slots already handed to waiting putters
    _unfinished = 0,    -- items put and not yet marked done
    _getters = waitq("queue get"), _putters = waitq("queue put"), _joiners = waitq("queue join"),
  }, Queue)
end

local function size(q) return q._tail - q._head + 1 end

local function full(q)
  return q._maxsize > 0 and size(q) + q._reserved >= q._maxsize
end

local function push_back(q, v)
  q._tail = q._tail + 1
  q._items[q._tail] = v
end

local function pop_front(q)
  local v = q._items[q._head]
  q._items[q._head] = nil
  q._head = q._head + 1
  return v
end

-- An item given back by a getter cancelled after receiving it: to the next
-- getter, else to the front of the deque, where it was the oldest.
local function give_back(q, v)
  if not q._getters:grant(v) then
    q._head = q._head - 1
    q._items[q._head] = v
  end
end

-- A slot became free: reserve it for the oldest waiting putter.
local function free_slot(q)
  if q._putters:grant() then q._reserved = q._reserved + 1 end
end

-- A putter cancelled after a slot was reserved for it passes the slot on.
local function pass_slot(q)
  q._reserved = q._reserved - 1
  free_slot(q)
end

local function enqueue(q, v)
  q._unfinished = q._unfinished + 1
  if q._getters:grant(v) then
    -- Straight to a getter: the deque did not grow, so a slot is still free.
    if not full(q) then free_slot(q) end
  else
    push_back(q, v)
  end
end

function Queue:put(v)
  check(self, Queue, "put")
  check_in_task("put")
  if full(self) or not self._putters:empty() then
    wait_in(self._putters, "put", self, pass_slot)
    self._reserved = self._reserved - 1
  end
  enqueue(self, v)
end

function Queue:put_nowait(v)
  check(self, Queue, "put_nowait")
  if full(self) or not self._putters:empty() then raise("QueueFull", "the queue is full") end
  enqueue(self, v)
end

function Queue:get()
  check(self, Queue, "get")
  check_in_task("get")
  if size(self) > 0 then
    local v = pop_front(self)
    free_slot(self)
    return v
  end
  return wait_in(self._getters, "get", self, give_back)
end

function Queue:get_nowait()
  check(self, Queue, "get_nowait")
  if size(self) == 0 then raise("QueueEmpty", "the queue is empty") end
  local v = pop_front(self)
  free_slot(self)
  return v
end

function Queue:size() check(self, Queue, "size") return size(self) end
function Queue:empty() check(self, Queue, "empty") return size(self) == 0 end
function Queue:full() check(self, Queue, "full") return full(self) end

function Queue:task_done()
  check(self, Queue, "task_done")
  if self._unfinished <= 0 then raise("ValueError", "task_done() called more times than items were put") end
  self._unfinished = self._unfinished - 1
  if self._unfinished == 0 then self._joiners:grant_all() end
end

function Queue:join()
  check(self, Queue, "join")
  check_in_task("join")
  if self._unfinished > 0 then wait_in(self._joiners, "join") end
end

Queue.__tostring = function(q)
  return format("Queue (%d items, maxsize %d)", size(q), q._maxsize)
end
