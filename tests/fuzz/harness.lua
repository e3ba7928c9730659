-- harness.lua -- what a generated program (gen.lua) calls, and the checks of
-- its invariants (tests/fuzz). harness.new(asched) makes the `H` of one
-- program; H.finish(), called by the driver once every task of the program
-- is done, returns the list of invariants the run broke (empty when none).
--
-- The invariants:
-- * every task ends done, cancelled or failed (the driver cancels what is
--   left only after a DeadlockError that names it);
-- * every semaphore has its initial permits free at the end, every lock is
--   free, no barrier has a waiter;
-- * every item put is got exactly once, is still queued, or was dropped by
--   shutdown(true); a FIFO queue gives its items in put order;
-- * every <close> handler runs exactly once;
-- * task_group never returns while a child runs;
-- * the clock never goes backwards; a sleep never ends early, nor a deadline
--   (timeout, timeout_at, wait_for, move_on_after) expire early;
-- * a DeadlockError is never raised while a task could still run (check.lua);
-- * a step raises only errors it may raise (an argument error or "attempt to
--   index" in a valid program is a broken invariant).

local harness = {}

-- Errors a step of a generated program may raise; CancelledError is not
-- caught by try but always passes on.
local EXPECTED = {
  TimeoutError = true, QueueShutDown = true, QueueEmpty = true, QueueFull = true,
  BrokenBarrierError = true, TaskGroupError = true,
}

local function error_name(e)
  if type(e) == "table" then return e.name end
  if e == "boom" then return "boom" end
  return nil
end

function harness.new(asched)
  local H = {tasks = {}, broken = {}, progress = 0, closers_made = 0, closers_closed = 0, last_now = asched.now(),
             sems = {}, locks = {}, queues = {}, barriers = {}, conds = {}, next_id = 0}

  local function broke(fmt, ...)
    local msg = string.format(fmt, ...)
    H.broken[#H.broken + 1] = msg
  end

  local function check_clock()
    local now = asched.now()
    if now < H.last_now then broke("the clock went back from %.9f to %.9f", H.last_now, now) end
    H.last_now = now
    H.progress = H.progress + 1
  end

  -- Task number k (counted from 1, wrapping), or nil when none yet.
  local function task(k)
    if #H.tasks == 0 then return nil end
    return H.tasks[(k - 1) % #H.tasks + 1]
  end

  local function register(t)
    H.tasks[#H.tasks + 1] = t
    return t
  end
  H.register = register

  -- Raises `e` again unless it is an error a step may raise.
  local function pass_on_unexpected(e)
    local name = error_name(e)
    if name == "CancelledError" then error(e, 0) end
    if not (name == "boom" or EXPECTED[name]) then
      broke("unexpected error: %s", type(e) == "table" and tostring(e.message or e.name) or tostring(e))
    end
  end

  -------------------------------------------------------------------------
  -- Primitives, remembered for the end checks

  function H.semaphore(n)
    local s = asched.semaphore(n)
    H.sems[#H.sems + 1] = {s = s, n = n}
    return s
  end

  function H.bounded_semaphore(n)
    local s = asched.bounded_semaphore(n)
    H.sems[#H.sems + 1] = {s = s, n = n, bounded = true}
    return s
  end

  function H.lock()
    local l = asched.lock()
    H.locks[#H.locks + 1] = l
    return l
  end

  function H.condition(lock)
    local c = asched.condition(lock)
    H.conds[c] = 0
    return c
  end

  function H.barrier(parties)
    local b = asched.barrier(parties)
    H.barriers[#H.barriers + 1] = b
    return b
  end

  function H.queue(kind, maxsize)
    local rec = {q = asched[kind](maxsize), kind = kind, maxsize = maxsize, puts = {}, was_put = {}, got = {}, got_order = {}, dropped = 0}
    H.queues[#H.queues + 1] = rec
    return rec
  end

  -------------------------------------------------------------------------
  -- Steps

  function H.try(fn)
    local ok, e = pcall(fn)
    if not ok then pass_on_unexpected(e) end
    check_clock()
  end

  -- A sleep never ends early; a deadline never expires early.
  local function not_early(what, start, d)
    local now = asched.now()
    local elapsed = now - start
    -- The clock counts nanoseconds; seconds as doubles round to their ulp.
    if elapsed < d - 1e-9 - now * 1e-15 then broke("%s(%g) ended after %.9f s", what, d, elapsed) end
  end

  function H.sleep(d)
    check_clock()
    local start = asched.now()
    asched.sleep(d)
    not_early("sleep", start, d)
    check_clock()
  end

  -- Calls call(arg, body') with body' = body watched: a TimeoutError that
  -- comes out of the body itself is a nested deadline's, not this one's.
  local function deadline(what, d, call, arg, body)
    local start, inner = asched.now(), false
    local function watched()
      local ok, e = pcall(body)
      if ok then return end
      if error_name(e) == "TimeoutError" then inner = true end
      error(e, 0)
    end
    local ok, e = pcall(call, arg, watched)
    if not ok and error_name(e) == "TimeoutError" and not inner then not_early(what, start, d) end
    if not ok then error(e, 0) end
  end

  function H.timeout(d, fn) deadline("timeout", d, asched.timeout, d, fn) end
  function H.timeout_at(d, fn) deadline("timeout_at", d, asched.timeout_at, asched.now() + d, fn) end

  function H.fail() error("boom", 0) end

  function H.cancel(k)
    local t = task(k)
    if t then t:cancel() end
  end

  function H.uncancel(k)
    local t = task(k)
    if t then t:uncancel() end
  end

  function H.await(k)
    local t = task(k)
    if t == nil or t == asched.current_task() then return end
    t:await()
  end

  function H.spawn(fn, cancel_at_once)
    local t = register(asched.spawn(fn))
    if cancel_at_once then t:cancel() end
    return t
  end

  function H.cancel_later(k, delay)
    register(asched.spawn(function()
      asched.sleep(delay)
      H.cancel(k)
    end))
  end

  -- Queues: items are numbers unique in the program, recorded once a put
  -- returns and once a get returns.
  local function new_item()
    H.next_id = H.next_id + 1
    return H.next_id
  end

  local function record_get(rec, v)
    if not rec.was_put[v] then
      broke("%s gave %s, an item never put into it", rec.kind, tostring(v))
    elseif rec.got[v] then
      broke("%s gave item %d twice", rec.kind, v)
    else
      rec.got[v] = true
      rec.got_order[#rec.got_order + 1] = v
    end
    rec.q:task_done()
  end

  local function put(rec, priority, nowait)
    local id = new_item()
    local method = nowait and "put_nowait" or "put"
    if rec.kind == "priority_queue" then rec.q[method](rec.q, priority, id)
    else rec.q[method](rec.q, id) end
    rec.was_put[id] = true
    rec.puts[#rec.puts + 1] = id
  end

  function H.put(rec, priority) put(rec, priority, false) end
  function H.put_nowait(rec, priority) put(rec, priority, true) end
  function H.get(rec) record_get(rec, (rec.q:get())) end
  function H.get_nowait(rec) record_get(rec, (rec.q:get_nowait())) end

  function H.shutdown(rec, immediate)
    if immediate then rec.dropped = rec.dropped + rec.q:size() end
    rec.q:shutdown(immediate)
  end

  function H.cond_wait(c, target)
    c:with(function()
      c:wait_for(function() return H.conds[c] >= target end)
    end)
  end

  function H.cond_notify(c, all)
    c:with(function()
      H.conds[c] = H.conds[c] + 1
      if all then c:notify_all() else c:notify() end
    end)
  end

  -- An action that does not suspend, for done callbacks and <close>.
  local function perform(a)
    if a.act == "cancel" then H.cancel(a.task)
    elseif a.act == "set" then a.event:set()
    elseif a.act == "put_nowait" then
      local ok, e = pcall(H.put_nowait, a.queue, a.priority)
      if not ok then
        local name = error_name(e)
        if name ~= "QueueFull" and name ~= "QueueShutDown" then
          broke("put_nowait in a callback raised %s", tostring(type(e) == "table" and e.message or e))
        end
      end
    end
  end

  function H.on_done(k, a)
    local t = task(k)
    if t then t:add_done_callback(function() perform(a) end) end
  end

  function H.closer(a)
    H.closers_made = H.closers_made + 1
    local closed = false
    return setmetatable({}, {__close = function()
      if closed then broke("a <close> handler ran twice") end
      closed = true
      H.closers_closed = H.closers_closed + 1
      perform(a)
    end})
  end

  -- Combinators over child bodies, each child a task of its own.
  local function spawn_all(fns)
    local list = {}
    for i, f in ipairs(fns) do list[i] = register(asched.spawn(f)) end
    return list
  end

  function H.gather(fns, return_exceptions)
    local r = asched.gather(spawn_all(fns), {return_exceptions = return_exceptions})
    if r.n ~= #fns then broke("gather returned n = %s for %d items", tostring(r.n), #fns) end
  end

  function H.wait(fns, timeout, return_when)
    local list = spawn_all(fns)
    local done, pending = asched.wait(list, {timeout = timeout, return_when = return_when})
    if #done + #pending ~= #list then broke("wait split %d tasks into %d + %d", #list, #done, #pending) end
    for _, t in ipairs(done) do if not t:done() then broke("wait listed a running task as done") end end
    if timeout == nil and return_when == "all_completed" and #pending > 0 then
      broke("wait without a timeout returned %d pending tasks", #pending)
    end
  end

  function H.as_completed(fns, timeout)
    local seen = 0
    for t in asched.as_completed(spawn_all(fns), {timeout = timeout}) do
      if not t:done() then broke("as_completed gave a task not done") end
      seen = seen + 1
    end
    if seen ~= #fns then broke("as_completed gave %d of %d tasks", seen, #fns) end
  end

  function H.wait_for(fn, delay, as_task)
    if as_task then
      local start, t = asched.now(), register(asched.spawn(fn))
      local ok, e = pcall(asched.wait_for, t, delay)
      -- The task's own TimeoutError comes out as itself, after it ended.
      if not ok and error_name(e) == "TimeoutError" and not (t:done() and not t:cancelled()) then
        not_early("wait_for", start, delay)
      end
      if not ok then error(e, 0) end
    else
      deadline("wait_for", delay, function(d, body) return asched.wait_for(body, d) end, delay, fn)
    end
  end

  function H.move_on_after(delay, fn)
    local start = asched.now()
    local finished = asched.move_on_after(delay, fn)
    if type(finished) ~= "boolean" then broke("move_on_after returned %s", tostring(finished)) end
    if finished == false then not_early("move_on_after", start, delay) end
  end

  function H.shield(fn, as_task)
    asched.shield(as_task and register(asched.spawn(fn)) or fn)
  end

  function H.task_group(fns, body, cancel)
    local kids = {}
    local ok, e = pcall(asched.task_group, function(tg)
      for _, f in ipairs(fns) do
        local spawned, t = pcall(tg.spawn, tg, f)
        if spawned then kids[#kids + 1] = register(t)
        elseif error_name(t) ~= "RuntimeError" then broke("tg:spawn raised %s", tostring(t)) end
      end
      if cancel then tg:cancel() end
      body()
    end)
    for _, t in ipairs(kids) do
      if not t:done() then broke("task_group returned while its child %s ran", t.name) end
    end
    if not ok then error(e, 0) end
  end

  -------------------------------------------------------------------------
  -- The end: every task of the program is done.

  function H.finish()
    check_clock()
    for _, t in ipairs(H.tasks) do
      if not t:done() then broke("%s did not end", t.name) end
    end
    for i, rec in ipairs(H.sems) do
      -- Exactly n permits free: n acquisitions that do not suspend, then locked.
      local guards = {}
      for j = 1, rec.n do
        local ok, g = pcall(asched.timeout, 0, rec.s.acquire, rec.s)
        if ok then guards[#guards + 1] = g end
      end
      if #guards ~= rec.n or not rec.s:locked() then
        broke("semaphore %d: %d of %d permits free at the end%s", i, #guards, rec.n,
              rec.s:locked() and "" or " (and more)")
      end
      for _, g in ipairs(guards) do g:release() end
    end
    for i, l in ipairs(H.locks) do
      if l:locked() then broke("lock %d still held at the end", i) end
    end
    for i, b in ipairs(H.barriers) do
      if b:n_waiting() ~= 0 then broke("barrier %d: %d waiting at the end", i, b:n_waiting()) end
    end
    for i, rec in ipairs(H.queues) do
      local left = {}
      while true do
        local ok, v = pcall(rec.q.get_nowait, rec.q)
        if not ok then break end
        left[#left + 1] = v
        if rec.got[v] then broke("queue %d: item %s got and still queued", i, tostring(v)) end
      end
      local total = #rec.got_order + #left + rec.dropped
      if total ~= #rec.puts then
        broke("queue %d (%s): %d put, %d got, %d left, %d dropped", i, rec.kind, #rec.puts, #rec.got_order,
              #left, rec.dropped)
      end
      -- FIFO: every get takes the oldest item, so what is left is the
      -- newest puts, in put order. Only where a put never waits (unbounded):
      -- a put that waited is recorded when its task resumes, which may be
      -- after a later put_nowait; likewise the order of gets is not checked.
      if rec.kind == "queue" and rec.maxsize == 0 then
        for j, v in ipairs(left) do
          local expected = rec.puts[#rec.puts - #left + j]
          if v ~= expected then
            broke("queue %d: item %s left where put order says %s", i, tostring(v), tostring(expected))
            break
          end
        end
      end
    end
    if H.closers_closed ~= H.closers_made then
      broke("%d <close> handlers made, %d ran", H.closers_made, H.closers_closed)
    end
    return H.broken
  end

  return H
end

return harness
