-- scheduler.lua -- a minimal coroutine scheduler on luv, the Lua+libuv peer of
-- asched in the benchmark suite (bench/). One Lua coroutine per task; libuv
-- does the waiting:
--   * sleep(s > 0) uses one uv timer, closed when it fires or is cancelled;
--   * sleep(0) and every other wake-up go through a FIFO ready queue, drained
--     once per loop iteration by a uv idle handle (active only while the
--     queue is non-empty, so an empty queue lets the loop block on timers);
--   * a timer callback resumes its task directly (it runs on the loop, outside
--     any coroutine).
-- Tasks: spawn(fn, ...) -> task; task:await(); task:cancel(); gather(tasks);
-- as_completed(tasks); queue(maxsize); semaphore(n); wait_for(fn, seconds),
-- which cancels fn's work on expiry (a pending sleep's timer is stopped and
-- the coroutine resumed with an error, so it unwinds). run(fn, ...) runs a
-- main task until it ends.
local uv = require "luv"

local co_create, co_resume, co_yield, co_status, co_close =
  coroutine.create, coroutine.resume, coroutine.yield, coroutine.status, coroutine.close
local select, setmetatable, error, pcall, unpack, ceil =
  select, setmetatable, error, pcall, table.unpack, math.ceil

local M = {}

local function named_error(name)
  return setmetatable({name = name}, {__tostring = function(e) return e.name end})
end
M.CancelledError = named_error("CancelledError")
M.TimeoutError = named_error("TimeoutError")
local CANCELLED = M.CancelledError

local Task = {}
Task.__index = Task

local current              -- the running task, nil on the loop itself

---------------------------------------------------------------------------
-- Ready queue: tasks to resume, in FIFO order, one batch per loop iteration.

local ready, nready, spare = {}, 0, {}
local idle = uv.new_idle()
local idle_on = false
local step, drain

local function schedule(t)
  nready = nready + 1
  ready[nready] = t
  if not idle_on then idle_on = true; idle:start(drain) end
end

drain = function()
  local batch, n = ready, nready
  ready, nready = spare, 0            -- what runs now schedules into the next batch
  for i = 1, n do
    local t = batch[i]
    batch[i] = nil
    step(t)
  end
  spare = batch
  if nready == 0 then idle_on = false; idle:stop() end
end

---------------------------------------------------------------------------
-- Running a task one step, and finishing it.

local function complete(t, ok, ...)
  t.finished = true
  if ok then
    if select("#", ...) <= 1 then t.value = ... else t.values = table.pack(...) end
  else
    t.err = ...
    co_close(t.co)                    -- runs its pending <close> variables
  end
  t.co = nil
  local waiters = t.waiters
  if waiters then
    t.waiters = nil
    for i = 1, #waiters do waiters[i](t) end
  end
end

local function finish(t, ok, ...)
  current = nil
  if co_status(t.co) ~= "dead" then return end
  return complete(t, ok, ...)
end

step = function(t)
  if t.finished then return end
  current = t
  local args = t.args
  if args then
    t.args = nil
    local reason = t.cancel_pending
    if reason then                    -- cancelled before it ever ran: never runs
      current, t.cancel_pending = nil, nil
      return complete(t, false, reason)
    end
    return finish(t, co_resume(t.co, unpack(args, 1, args.n)))
  end
  return finish(t, co_resume(t.co))
end

local function on_done(t, fn)
  local w = t.waiters
  if w then w[#w + 1] = fn else t.waiters = {fn} end
end

---------------------------------------------------------------------------
-- Parking: the running task waits on a record w (t.waiter = w) until
-- someone holding w wakes it. Waking a record the task no longer waits on
-- does nothing, so stale wake-ups are harmless. t.detach(w), if set, undoes
-- the wait when the task is cancelled (stops a timer, cancels an awaited task).

local function raise_if_cancelled(t)
  local reason = t.cancel_pending
  if reason then t.cancel_pending = nil; error(reason, 0) end
end

local function park(w, detach)
  local t = current
  raise_if_cancelled(t)
  t.waiter, t.detach = w, detach
  co_yield()
  raise_if_cancelled(t)
end

local function wake(t, w)
  if t.waiter == w then t.waiter = nil; schedule(t) end
end

function M.spawn(fn, ...)
  local t = setmetatable({co = co_create(fn), args = table.pack(...)}, Task)
  schedule(t)
  return t
end

function M.current() return current end

function Task:done() return self.finished == true end

function Task:result()
  if self.err ~= nil then error(self.err, 0) end
  if self.values then return unpack(self.values, 1, self.values.n) end
  return self.value
end

local function cancel_awaited(w) w.target:cancel() end

function Task:await()
  if not self.finished then
    local w = {task = current, target = self}
    on_done(self, function() wake(w.task, w) end)
    park(w, cancel_awaited)
  end
  return self:result()
end

-- Cancels the task with `reason` (CancelledError by default) at its current
-- or next suspension point. A cancellation of the task itself wins over a
-- timeout scope's.
function Task:cancel(reason)
  if self.finished then return false end
  reason = reason or CANCELLED
  if self.cancel_pending == nil or reason == CANCELLED then self.cancel_pending = reason end
  local w = self.waiter
  if w then
    self.waiter = nil
    local detach = self.detach
    if detach then detach(w) end
    schedule(self)
  end
  return true
end

---------------------------------------------------------------------------
-- Sleeping.

local function close_timer(timer) timer:stop(); timer:close() end

function M.sleep(seconds)
  local t = current
  if seconds <= 0 then                -- a yield: every task already ready goes first
    raise_if_cancelled(t)
    schedule(t)
    co_yield()
    return raise_if_cancelled(t)
  end
  local timer = uv.new_timer()
  uv.update_time()                    -- measure from now, not from the iteration's start
  timer:start(ceil(seconds * 1000), 0, function()
    timer:close()
    if t.waiter == timer then
      t.waiter = nil
      step(t)
    end
  end)
  park(timer, close_timer)
end

---------------------------------------------------------------------------
-- gather, as_completed, wait_for.

-- Waits for every task; returns {n = #tasks, first value of each}. The first
-- failure is raised at once; a cancellation of the caller cancels them all.
function M.gather(tasks)
  local n = #tasks
  local pending, failed = 0, nil
  local w = {task = current}
  local function on_child(t)
    pending = pending - 1
    if t.err ~= nil and not failed then failed = t end
    if pending == 0 or failed then wake(w.task, w) end
  end
  for i = 1, n do
    local t = tasks[i]
    if not t.finished then
      pending = pending + 1
      on_done(t, on_child)
    elseif t.err ~= nil and not failed then
      failed = t
    end
  end
  if pending > 0 and not failed then
    park(w, function() for i = 1, n do tasks[i]:cancel() end end)
  end
  if failed then error(failed.err, 0) end
  local results = {n = n}
  for i = 1, n do
    local t = tasks[i]
    results[i] = t.values and t.values[1] or t.value
  end
  return results
end

-- An iterator over the tasks in the order they finish.
function M.as_completed(tasks)
  local n, given = #tasks, 0
  local finished, head, tail = {}, 1, 0
  local w                             -- the consumer's record while it waits
  local function on_child(t)
    tail = tail + 1
    finished[tail] = t
    if w then wake(w.task, w) end
  end
  for i = 1, n do
    local t = tasks[i]
    if t.finished then on_child(t) else on_done(t, on_child) end
  end
  return function()
    if given == n then return nil end
    while head > tail do
      w = {task = current}
      park(w)
      w = nil
    end
    local t = finished[head]
    finished[head] = nil
    head, given = head + 1, given + 1
    return t
  end
end

local function end_wait_for(t, scope, timer, ok, ...)
  if not timer:is_closing() then close_timer(timer) end
  if t.cancel_pending == scope then t.cancel_pending = nil end -- expired too late to matter
  if ok then return ... end
  local err = ...
  if err == scope then error(M.TimeoutError, 0) end
  error(err, 0)
end

-- Runs fn in the running task under a deadline: on expiry fn's work is
-- cancelled where it waits (with a reason only this call turns into
-- TimeoutError) and TimeoutError is raised once it has unwound.
function M.wait_for(fn, seconds)
  local t = current
  local scope = {}
  local timer = uv.new_timer()
  uv.update_time()
  timer:start(ceil(seconds * 1000), 0, function()
    timer:close()
    t:cancel(scope)
  end)
  return end_wait_for(t, scope, timer, pcall(fn))
end

---------------------------------------------------------------------------
-- FIFO lists of waiter records, skipping the ones whose task left.

local function fifo() return {first = 1, last = 0} end

local function push(q, w)
  local last = q.last + 1
  q.last = last
  q[last] = w
end

-- The oldest record whose task still waits on it, or nil; dropped if `take`.
local function oldest(q, take)
  local first = q.first
  while first <= q.last do
    local w = q[first]
    if w.task.waiter == w then
      if take then q[first] = nil; first = first + 1 end
      q.first = first
      return w
    end
    q[first] = nil
    first = first + 1
  end
  q.first, q.last = 1, 0
  return nil
end

---------------------------------------------------------------------------
-- Queue(maxsize): put suspends while full, get while empty. What is put goes
-- straight to the oldest getter; space goes straight to the oldest putter.

local Queue = {}
Queue.__index = Queue

function M.queue(maxsize)
  return setmetatable({items = fifo(), count = 0, maxsize = maxsize or 0,
                       getters = fifo(), putters = fifo()}, Queue)
end

local function offer(q, item)         -- to the oldest getter, else into the buffer
  local g = oldest(q.getters, true)
  if g then
    g.item, g.served = item, true
    wake(g.task, g)
  else
    push(q.items, item)
    q.count = q.count + 1
  end
end

function Queue:put(item)
  if self.maxsize <= 0 or self.count < self.maxsize or oldest(self.getters) then
    return offer(self, item)
  end
  local w = {task = current, item = item}
  push(self.putters, w)
  park(w)                             -- woken once a get moved the item in
end

function Queue:get()
  if self.count > 0 then
    local items = self.items
    local item = items[items.first]
    items[items.first] = nil
    items.first = items.first + 1
    self.count = self.count - 1
    local p = oldest(self.putters, true)
    if p then
      offer(self, p.item)
      wake(p.task, p)
    end
    return item
  end
  local w = {task = current}
  push(self.getters, w)
  local ok, err = pcall(park, w)
  if ok then return w.item end
  if w.served then offer(self, w.item) end -- cancelled after being served: pass it on
  error(err, 0)
end

---------------------------------------------------------------------------
-- Semaphore(n): FIFO, no barging; a release goes straight to the oldest
-- waiter. acquire() returns the semaphore, whose __close releases it, so
-- `local permit <close> = sem:acquire()` works.

local Semaphore = {}
Semaphore.__index = Semaphore

function M.semaphore(n)
  return setmetatable({value = n, waiters = fifo()}, Semaphore)
end

function Semaphore:acquire()
  if self.value > 0 and not oldest(self.waiters) then
    self.value = self.value - 1
    return self
  end
  local w = {task = current}
  push(self.waiters, w)
  local ok, err = pcall(park, w)
  if ok then return self end
  if w.served then self:release() end -- cancelled after being served: pass it on
  error(err, 0)
end

function Semaphore:release()
  local w = oldest(self.waiters, true)
  if w then
    w.served = true
    wake(w.task, w)
  else
    self.value = self.value + 1
  end
end

Semaphore.__close = Semaphore.release

---------------------------------------------------------------------------

-- Runs fn(...) as the main task until it ends; returns its values or raises
-- its error. Tasks still pending then are left behind (none in the suite).
function M.run(fn, ...)
  local main = M.spawn(fn, ...)
  on_done(main, function() uv.stop() end)
  uv.run()
  if not main.finished then error("deadlock: the main task waits for something that never comes", 0) end
  if idle_on then idle_on = false; idle:stop() end
  return main:result()
end

return M
