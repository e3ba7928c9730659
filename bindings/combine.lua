-- combine.lua -- gather, as_completed, wait, wait_for, timeout and shield.
-- Compiled into the binary (embed.cmake) and run once by luaopen_asched.
--
-- They are composition, so they are written in Lua, over two C primitives
-- that make them cancellation-aware by construction:
--   * a wait set (runtime/waitset.c): the running task waits on a list of
--     tasks, with an optional deadline, and is woken by the first completion
--     that matters -- set:next() (completion order) or set:wait_all(stop_on);
--   * a timeout scope (runtime/scope.c): a deadline that cancels the running
--     task at its current suspension point with the scope's own
--     CancelledError, which only that scope turns into a TimeoutError.
-- Per-task work (waking, ordering, deadlines) stays in C; what runs here is
-- constant per call or per element of the list.

local asched, prim = ...

local waitset, is_task, is_callable = prim.waitset, prim.is_task, prim.is_callable
local scope_open, scope_close = prim.scope_open, prim.scope_close
local check_in_task, new_error = prim.check_in_task, prim.new_error
local arg_error, type_name, new_list = prim.arg_error, prim.type_name, prim.new_list
local spawn = asched.spawn
local error, pcall, type, format = error, pcall, type, string.format

-- Checks a list of tasks and functions (argument 1 of `fname`) and returns a
-- list of tasks: the list itself when it holds only tasks (wait sets read it
-- once, when made), else a new list with the functions spawned, only once
-- every item is valid.
local function tasks_of(list, fname)
  if type(list) ~= "table" then
    arg_error(1, fname, "table expected, got " .. type_name(list))
  end
  local n, functions = #list, false
  for i = 1, n do
    local item = list[i]
    if not is_task(item) then
      if not is_callable(item) then
        arg_error(1, fname, format("item %d is a %s, not a task or a function", i, type_name(item)))
      end
      functions = true
    end
  end
  if not functions then return list end
  local tasks = {}
  for i = 1, n do
    local item = list[i]
    tasks[i] = is_task(item) and item or spawn(item)
  end
  return tasks
end

-- An options table (argument n), or an empty one.
local function options_of(opts, n, fname)
  if opts == nil then return {} end
  if type(opts) ~= "table" then arg_error(n, fname, "table expected, got " .. type_name(opts)) end
  return opts
end

-- A timeout in seconds or nil; NaN and non-numbers are argument errors.
local function timeout_of(value, n, fname, what)
  if value == nil then return nil end
  if type(value) ~= "number" then
    arg_error(n, fname, format("%s must be a number, got %s", what, type_name(value)))
  end
  if value ~= value then arg_error(n, fname, what .. " is NaN") end
  return value
end

local function timeout_error(seconds)
  return new_error("TimeoutError", format("timed out after %g s", seconds))
end

---------------------------------------------------------------------------
-- gather(list [, {return_exceptions = bool}]) -> {n = #list, first values}

function asched.gather(list, opts)
  check_in_task("gather")
  local tasks = tasks_of(list, "gather")
  local return_exceptions = options_of(opts, 2, "gather").return_exceptions
  local n = #tasks
  if n == 0 then return {n = 0} end

  -- The set writes each child's outcome into `results` as it finishes: its
  -- first value, its error or its CancelledError.
  local results = new_list(n)
  local set <close> = waitset(tasks, "gather", results, return_exceptions)
  local ok, failed = pcall(set.wait_all, set, return_exceptions and "never" or "failure")
  if not ok then
    -- The caller was cancelled (or received another error while waiting):
    -- every child still running is cancelled, and the error goes on.
    for i = 1, n do tasks[i]:cancel() end
    error(failed, 0)
  end
  if failed ~= true then
    -- The first failure, raised at once, unchanged (through result(), so a
    -- traceback can say which task raised it); the siblings keep running.
    tasks[failed]:result()
  end
  return results
end

---------------------------------------------------------------------------
-- as_completed(list [, {timeout = s}]) -> iterator of tasks in completion order

function asched.as_completed(list, opts)
  local tasks = tasks_of(list, "as_completed")
  local timeout = timeout_of(options_of(opts, 2, "as_completed").timeout, 2, "as_completed", "timeout")
  local set = waitset(tasks, "as_completed")
  if timeout then set:set_deadline(timeout) end

  local function next_completed()
    local task = set:next()
    if task == false then
      set:close()
      error(timeout_error(timeout), 0)
    end
    if task == nil then set:close() end
    return task
  end
  -- The fourth value closes the set when a generic for ends, even by break.
  return next_completed, nil, nil, set
end

---------------------------------------------------------------------------
-- wait(list [, {timeout = s, return_when = ...}]) -> done, pending

local return_when_modes = {all_completed = "never", first_exception = "error", first_completed = true}

function asched.wait(list, opts)
  check_in_task("wait")
  local tasks = tasks_of(list, "wait")
  opts = options_of(opts, 2, "wait")
  local timeout = timeout_of(opts.timeout, 2, "wait", "timeout")
  local return_when = opts.return_when or "all_completed"
  local mode = return_when_modes[return_when]
  if mode == nil then
    arg_error(2, "wait", format("unknown return_when '%s' (all_completed, first_completed or first_exception)",
                                tostring(return_when)))
  end
  if #tasks == 0 then error(new_error("ValueError", "wait: the list of tasks is empty"), 2) end

  local set <close> = waitset(tasks, "wait")
  if timeout then set:set_deadline(timeout) end
  if mode == true then set:next() else set:wait_all(mode) end

  local done, pending = {}, {}
  for i = 1, #tasks do
    local task = tasks[i]
    if task:done() then done[#done + 1] = task else pending[#pending + 1] = task end
  end
  return done, pending
end

---------------------------------------------------------------------------
-- wait_for(task_or_fn, timeout) -> the item's values

-- The deadline passed (or timeout <= 0): cancel the task, wait until it has
-- finished -- a cancellation of the caller meanwhile propagates -- then
-- TimeoutError, unless the task swallowed the cancellation and returned
-- (its values) or raised another error (that error).
local function cancel_and_wait(task, set, timeout)
  task:cancel()
  set:set_deadline(nil)
  set:next()
  if task:cancelled() then error(timeout_error(timeout), 0) end
  return task:result()
end

local function wait_for_task(task, timeout)
  if timeout == nil then return task:await() end
  local set <close> = waitset({task}, "wait_for")
  if timeout <= 0 then
    if task:done() then return task:result() end
    return cancel_and_wait(task, set, timeout)
  end
  set:set_deadline(timeout)
  local ok, done = pcall(set.next, set)
  if not ok then
    task:cancel()            -- the caller was cancelled: so is the item
    error(done, 0)
  end
  if done then return task:result() end
  return cancel_and_wait(task, set, timeout)
end

function asched.wait_for(item, timeout)
  check_in_task("wait_for")
  if not is_task(item) and not is_callable(item) then
    arg_error(1, "wait_for", "task or function expected, got " .. type_name(item))
  end
  timeout = timeout_of(timeout, 2, "wait_for", "timeout")
  if is_task(item) then return wait_for_task(item, timeout) end

  -- A function runs in this task, under a timeout scope armed in this step.
  if timeout == nil then return item() end
  if timeout <= 0 then error(timeout_error(timeout), 2) end
  local scope = scope_open("wait_for", timeout)
  return scope_close(scope, pcall(item))
end

---------------------------------------------------------------------------
-- timeout(seconds, fn, ...) -> fn's values

function asched.timeout(seconds, fn, ...)
  check_in_task("timeout")
  seconds = timeout_of(seconds, 1, "timeout", "seconds")
  if not is_callable(fn) then arg_error(2, "timeout", "function expected, got " .. type_name(fn)) end
  if seconds == nil then return fn(...) end
  local scope = scope_open("timeout", seconds)
  return scope_close(scope, pcall(fn, ...))
end

---------------------------------------------------------------------------
-- shield(task_or_fn) -> the item's values; the caller's cancellation stops at it

function asched.shield(item)
  check_in_task("shield")
  if not is_task(item) and not is_callable(item) then
    arg_error(1, "shield", "task or function expected, got " .. type_name(item))
  end
  local task = is_task(item) and item or spawn(item)
  if not task:done() then
    local set <close> = waitset({task}, "shield")
    set:next()               -- cancelling the caller raises here, and only here
  end
  return task:result()
end
