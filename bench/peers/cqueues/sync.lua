-- sync.lua -- the small helpers the cqueues peer programs of the benchmark
-- suite (bench/) need, built on cqueues.condition:
--   group(cq): spawn tasks, then wait for all of them (gather) or take them in
--              completion order (as_completed);
--   queue(maxsize): a bounded FIFO queue, put/get suspend;
--   semaphore(n): FIFO, a release goes straight to the oldest waiter;
--   sleep(s) and wait_for(fn, seconds): fn runs in the calling coroutine under
--              a deadline that its sleeps honour: a sleep that would outlast
--              it polls only until the deadline, then raises, and wait_for
--              turns that into "timeout" (cqueues cannot cancel a coroutine
--              from outside, so the deadline is checked where fn waits).
local cqueues = require "cqueues"
local condition = require "cqueues.condition"

local monotime, cq_sleep, running = cqueues.monotime, cqueues.sleep, coroutine.running
local setmetatable, error, pcall = setmetatable, error, pcall

local M = {}

---------------------------------------------------------------------------
-- Groups of tasks.

local Group = {}
Group.__index = Group

function M.group(cq)
  return setmetatable({cq = cq, n = 0, pending = 0, results = {},
                       finished = {}, nfinished = 0, streaming = false,
                       cond = condition.new()}, Group)
end

local function run_task(g, i, fn, ...)
  g.results[i] = fn(...)
  local k = g.nfinished + 1
  g.nfinished, g.finished[k] = k, i
  g.pending = g.pending - 1
  if g.pending == 0 or g.streaming then g.cond:signal() end
end

-- Runs fn(...) as a new coroutine of the controller; returns its index.
function Group:spawn(fn, ...)
  local i = self.n + 1
  self.n, self.pending = i, self.pending + 1
  self.cq:wrap(run_task, self, i, fn, ...)
  return i
end

-- Waits until every task returned; returns {n = count, first value of each}.
function Group:wait()
  while self.pending > 0 do self.cond:wait() end
  local results = self.results
  results.n = self.n
  return results
end

-- An iterator over the tasks' indices in the order they finish.
function Group:as_completed()
  self.streaming = true
  local given = 0
  return function()
    if given == self.n then return nil end
    while given == self.nfinished do self.cond:wait() end
    given = given + 1
    local i = self.finished[given]
    self.finished[given] = nil
    return i
  end
end

---------------------------------------------------------------------------
-- Bounded queue.

local Queue = {}
Queue.__index = Queue

function M.queue(maxsize)
  return setmetatable({first = 1, last = 0, maxsize = maxsize,
                       not_empty = condition.new(), not_full = condition.new()}, Queue)
end

function Queue:put(item)
  while self.last - self.first + 1 >= self.maxsize do self.not_full:wait() end
  local last = self.last + 1
  self.last, self[last] = last, item
  self.not_empty:signal(1)
end

function Queue:get()
  while self.last < self.first do self.not_empty:wait() end
  local first = self.first
  local item = self[first]
  self[first], self.first = nil, first + 1
  self.not_full:signal(1)
  return item
end

---------------------------------------------------------------------------
-- Semaphore. A condition wakes its waiters oldest first, so handing the
-- permit to whoever signal(1) wakes keeps it FIFO with no barging.
-- acquire() returns the semaphore, whose __close releases it.

local Semaphore = {}
Semaphore.__index = Semaphore

function M.semaphore(n)
  return setmetatable({value = n, waiting = 0, cond = condition.new()}, Semaphore)
end

function Semaphore:acquire()
  if self.value > 0 and self.waiting == 0 then
    self.value = self.value - 1
  else
    self.waiting = self.waiting + 1
    self.cond:wait()                  -- woken by a release that handed us its permit
  end
  return self
end

function Semaphore:release()
  if self.waiting > 0 then
    self.waiting = self.waiting - 1
    self.cond:signal(1)
  else
    self.value = self.value + 1
  end
end

Semaphore.__close = Semaphore.release

---------------------------------------------------------------------------
-- Deadlines.

local scopes = setmetatable({}, {__mode = "k"})   -- coroutine -> innermost wait_for

-- Sleeps s seconds or, when the nearest wait_for deadline comes first, until
-- then, and raises the wait_for scope that owns that deadline.
function M.sleep(s)
  local scope = scopes[running()]
  if scope then
    local left = scope.deadline - monotime()
    if s > left then
      if left > 0 then cq_sleep(left) end
      error(scope.owner, 0)
    end
  end
  cq_sleep(s)
end

local function end_wait_for(co, scope, ok, ...)
  scopes[co] = scope.outer
  if ok then return ... end
  local err = ...
  if err == scope then error("timeout", 0) end
  error(err, 0)
end

-- Runs fn() under a deadline `seconds` from now; returns its values or
-- raises "timeout".
function M.wait_for(fn, seconds)
  local co = running()
  local outer = scopes[co]
  local scope = {deadline = monotime() + seconds, outer = outer}
  scope.owner = scope
  if outer and outer.deadline <= scope.deadline then
    scope.deadline, scope.owner = outer.deadline, outer.owner
  end
  scopes[co] = scope
  return end_wait_for(co, scope, pcall(fn))
end

return M
