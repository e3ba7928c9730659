-- task_groups.lua -- structured concurrency: asched.task_group runs child
-- tasks inside a block that ends only when every child has ended. The first
-- error cancels the rest, and the block raises one TaskGroupError listing
-- what went wrong. The same failures as in scripts/examples/error_handling.lua,
-- this time handled by a group -- and, at the end, by gather for contrast.
--
--   asched scripts/advanced/task_groups.lua
--   asched --virtual-time scripts/advanced/task_groups.lua   (instant)
--   asched --virtual-time --timeline=scripts/advanced/task_groups.svg \
--     scripts/advanced/task_groups.lua                     (the README's picture)
--
--   Python 3.11                            Lua with asched
--   async with asyncio.TaskGroup() as tg:  asched.task_group(function(tg)
--       tg.create_task(fetch("db"))          tg:spawn(fetch, "db")
--                                          end)
--   except* Exception as eg:               pcall it; err.name == "TaskGroupError"
--       eg.exceptions                      err.errors

-- Times are printed in seconds since the start of each section.
local start, number
local function section(title)
  print(title)
  start, number = asched.now(), title:match("(%d+)%.")
end
local function stamp(fmt, ...)
  print(string.format("%5.2f  " .. fmt, asched.now() - start, ...))
end

-- A connection that says so when it is closed early: a <close> variable
-- holding it is closed however its task ends, and __close gets the error
-- that ends the task (nil on a normal return).
local function connect(name)
  return setmetatable({}, {__close = function(_, err)
    if err then stamp("  %s: connection closed (%s)", name, tostring(err)) end
  end})
end

-- A simulated request: waits `seconds`, then answers or fails.
-- Each task is named after its section and its source ("2 cache"), so that
-- --timeline labels its lane (scripts/advanced/task_groups.svg).
local function fetch(name, seconds, fails)
  asched.current_task().name = number .. " " .. name
  local connection <close> = connect(name)
  asched.sleep(seconds)
  if fails then
    stamp("  %s: fails", name)
    error(name .. " is unreachable", 0)   -- level 0: no "file:line:" prefix
  end
  stamp("  %s: answered", name)
  return name .. " ok"
end

-- Where a traceback says the error was raised: its first "file:line" in
-- the script (C frames such as [C]: in function 'error' are skipped),
-- without the folder.
local function where(traceback)
  local line = traceback:match("\n%s*([^\n%[][^\n:]*:%d+):")
  return (line:gsub("^.*/", ""))
end

asched.current_task().name = "main"

---------------------------------------------------------------------------
section("=== 1. Every child succeeds ===")
-- task_group(fn) calls fn(tg) in the current task; tg:spawn starts a child
-- task, exactly like asched.spawn. When fn returns, the group waits for
-- every child: once task_group returns, no child is still running, so each
-- child's result can be read straight away.

local db, cache, search = asched.task_group(function(tg)
  return tg:spawn(fetch, "db", 1), tg:spawn(fetch, "cache", 0.5), tg:spawn(fetch, "search", 1.5)
end)
stamp("task_group returned, every child done: %s", tostring(db:done() and cache:done() and search:done()))
stamp("results: %s, %s, %s", db:result(), cache:result(), search:result())

---------------------------------------------------------------------------
section("\n=== 2. One child fails: its siblings are cancelled ===")
-- cache fails after 0.5 s. The group cancels db and search at once (their
-- <close> variables run) instead of letting them run to the end, then raises
-- a TaskGroupError. Its field `errors` holds the error values, unchanged;
-- `tracebacks[i]` says where errors[i] was raised.

local tasks = {}
local ok, err = pcall(asched.task_group, function(tg)
  tasks.db = tg:spawn(fetch, "db", 1)
  tasks.cache = tg:spawn(fetch, "cache", 0.5, true)
  tasks.search = tg:spawn(fetch, "search", 1.5)
end)
stamp("task_group raised %s", err.name)
stamp("err.message = %s", err.message)
for i, e in ipairs(err.errors) do
  stamp("err.errors[%d] = %s, raised at %s", i, e, where(err.tracebacks[i]))
end
stamp("db cancelled: %s, search cancelled: %s (a cancelled child is not an error)",
      tostring(tasks.db:cancelled()), tostring(tasks.search:cancelled()))

---------------------------------------------------------------------------
section("\n=== 3. Two children fail: every error, in the order raised ===")
-- A child may catch its CancelledError to clean up -- and the cleanup may
-- fail too. That error is not lost: it joins the list, after the error that
-- caused the cancellation.

ok, err = pcall(asched.task_group, function(tg)
  tg:spawn(fetch, "cache", 0.5, true)
  tg:spawn(function()                        -- a writer with unsaved data
    asched.current_task().name = number .. " writer"
    local ok, cancelled = pcall(asched.sleep, 2)
    stamp("  writer: %s; saving its buffer first", tostring(cancelled))
    asched.sleep(0.25)                       -- cleanup may wait, too
    error("writer: disk full while saving", 0)
  end)
end)
stamp("task_group raised %s", tostring(err))
for i, e in ipairs(err.errors) do
  stamp("err.errors[%d] = %s", i, e)
end

---------------------------------------------------------------------------
section("\n=== 4. tg:cancel(): stopping early is not an error ===")
-- Ask three mirrors, keep the first answer. The winner calls tg:cancel(),
-- which cancels the body and every child; task_group then returns normally,
-- with no values. "Every child" includes the winner itself: like a task that
-- cancels itself, it ends cancelled and its return values are dropped -- so
-- it keeps its answer in a variable before cancelling.

local answer, group
local results = table.pack(asched.task_group(function(tg)
  group = tg
  for i, seconds in ipairs({1, 0.5, 1.5}) do
    tg:spawn(function()
      local reply = fetch("mirror-" .. i, seconds)
      answer = answer or reply
      tg:cancel()
    end)
  end
end))
stamp("task_group returned normally with %d values; answer: %s", results.n, answer)
-- A finished group takes no more children.
ok, err = pcall(group.spawn, group, fetch, "late", 1)
stamp("tg:spawn afterwards raised %s", tostring(err))

---------------------------------------------------------------------------
section("\n=== 5. The same failure under gather: nobody is cancelled ===")
-- gather raises the first error in the caller as soon as it happens, but
-- leaves the other items running. They are still ours to await -- or to
-- cancel: forgotten, they would run on unsupervised until the program ends.

tasks = {db = asched.spawn(fetch, "db", 1), cache = asched.spawn(fetch, "cache", 0.5, true),
         search = asched.spawn(fetch, "search", 1.5)}
ok, err = pcall(asched.gather, {tasks.db, tasks.cache, tasks.search})
stamp("gather raised: %s; db done: %s, search done: %s", err,
      tostring(tasks.db:done()), tostring(tasks.search:done()))
stamp("awaited anyway: %s, %s", tasks.db:await(), tasks.search:await())
