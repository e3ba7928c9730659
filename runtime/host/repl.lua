-- repl.lua -- the asched REPL, run as the main task by the asched program
-- (runtime/repl.c). Each input runs as a task of its own while every other
-- task keeps running; the terminal is read through the loop (console.c), so
-- output of background tasks appears above the line being typed. Top-level
-- locals last the session; a multi-line entry is one history item; Tab
-- completes names. Compiled into the program.

local asched, open_console, script, script_args, banner, session = ...
local globals = _G

local ok_console, console = pcall(open_console)
-- Closed however the session ends (Ctrl-D, SIGTERM, an error), while the loop
-- still runs: the console's handles belong to it.
local console_closer <close> = setmetatable({}, {__close = function()
  if ok_console then console:close() end
end})

-- Output: above the prompt when the console reads, else plain stdout.
local function write(text)
  if ok_console then console:write(text) else io.stdout:write(text, "\n") end
end

local function text_of(...)
  local parts = {}
  for i = 1, select("#", ...) do parts[i] = tostring((select(i, ...))) end
  return table.concat(parts, "\t")
end

local plain_print = print
print = function(...) write(text_of(...)) end

-- Adds an entry, all its lines as one, to the history (kept in a file).
local function remember(text)
  if ok_console then console:remember(text) end
end

local function read(prompt)
  if ok_console then return console:read(prompt) end
  io.stdout:write(prompt)
  io.stdout:flush()
  return io.read("l")
end

-- Where and when each task was spawned, for :tasks and :where.
local spawned = setmetatable({}, {__mode = "k"})
local raw_spawn = asched.spawn
local function spawn(fn, ...)
  local task = raw_spawn(fn, ...)
  spawned[task] = {at = asched.now(), where = debug.traceback("spawned", 2)}
  return task
end
asched.spawn, asched.create_task = spawn, spawn

---------------------------------------------------------------------------
-- Running an input

local inputs = 0

local function message_of(err)
  if type(err) == "string" then return err end
  local ok, text = pcall(tostring, err)
  return ok and text or "(error object is a " .. type(err) .. " value)"
end

-- Runs `chunk` (with `...`) as a task and waits for it; Ctrl-C cancels it.
local function run_input(chunk, ...)
  inputs = inputs + 1
  local task = spawn(chunk, ...)
  task.name = "input-" .. inputs
  if ok_console then console:set_input(task) end
  local results = table.pack(pcall(task.await, task))
  if ok_console then console:set_input(nil) end
  if results[1] then
    if results.n > 1 then print(table.unpack(results, 2, results.n)) end
  elseif task:cancelled() then
    write("(cancelled)")
  elseif not task:done() then   -- the prompt itself was woken (a DeadlockError)
    task:cancel()
    write(message_of(results[2]))
    if ok_console and console:paused() then
      write("(the loop is paused: the held-back tasks and their timers wait for :step or :run)")
    end
  else
    write(message_of(results[2]))
    local traceback = task:traceback()
    if traceback then write(traceback:match("\n(stack traceback:.*)$") or traceback) end
  end
end

---------------------------------------------------------------------------
-- Tab completion (console.c hands over the word before the cursor)

local keywords = {"and", "break", "do", "else", "elseif", "end", "false", "for", "function",
                  "goto", "if", "in", "local", "nil", "not", "or", "repeat", "return", "then",
                  "true", "until", "while"}

-- t[name] as the program would see it, following __index tables but
-- running no code of the user's (no __index functions).
local function field(t, name)
  for _ = 1, 10 do
    if type(t) == "table" then
      local value = rawget(t, name)
      if value ~= nil then return value end
    end
    local meta = debug.getmetatable(t)
    t = type(meta) == "table" and rawget(meta, "__index") or nil
    if type(t) ~= "table" then return nil end
  end
end

-- The value `path` ("asched.signal", "q") names in the session, or nil.
local function value_at(path)
  local first = path:match("^[%a_][%w_]*")
  local value
  value = session.lookup(first)
  for name in path:sub(#first + 1):gmatch("%.([%a_][%w_]*)") do
    if value == nil then return nil end
    value = field(value, name)
  end
  return value
end

-- The names a value offers after "." (or, methods only, after ":"): a
-- table's own keys and those of its metatable's __index table; an asched
-- object's methods (its metatable's __index or __methods table).
local function members_of(value, methods_only, into)
  local function add(t)
    if type(t) ~= "table" then return end
    for key, member in next, t do
      if type(key) == "string" and key:match("^[%a_][%w_]*$")
         and (not methods_only or type(member) == "function") then
        into[key] = true
      end
    end
  end
  if type(value) == "table" then add(value) end
  local meta = debug.getmetatable(value)
  if type(meta) == "table" then
    add(rawget(meta, "__index"))
    add(rawget(meta, "__methods"))
  end
end

-- The words `word` could become: "asched.sle" -> {"asched.sleep"},
-- "q:pu" -> {"q:put", "q:put_nowait"}, "pri" -> {"print"}.
local function completions(word)
  local names, head, partial = {}, "", word
  local path, separator, rest = word:match("^([%a_][%w_.]*)([.:])([%w_]*)$")
  if path and not path:find("%.%.") and not path:find("%.$") then
    local value = value_at(path)
    if value == nil then return {} end
    members_of(value, separator == ":", names)
    head, partial = path .. separator, rest
  elseif word:match("^[%a_]?[%w_]*$") then
    for _, name in ipairs(session.names()) do names[name] = true end
    for name in next, globals do
      if type(name) == "string" and name:match("^[%a_][%w_]*$") then names[name] = true end
    end
    for _, keyword in ipairs(keywords) do names[keyword] = true end
    names.__asched_local, names.__asched_const = nil, nil
  else
    return {}
  end
  local list = {}
  for name in pairs(names) do
    if name:sub(1, #partial) == partial then list[#list + 1] = head .. name end
  end
  table.sort(list)
  return list
end
local completing = ok_console and console:complete_with(completions)

---------------------------------------------------------------------------
-- Reading an input

-- Reads one entry: "return <line>" first, so expressions print their values;
-- a chunk that is incomplete ("<eof>") asks for more with ">> ". Returns the
-- chunk, or nil and the error (nil at Ctrl-D), and the entry's whole text.
local function read_chunk(line)
  local chunk = load("return " .. line, "=stdin", "t", session.env)
  if chunk then return chunk, nil, line end
  local code = line
  local _, err = load(code, "=stdin")
  while err and err:match("<eof>$") do
    local more = read(">> ")
    if more == nil then return nil, nil, code end
    code = code .. "\n" .. more
    _, err = load(code, "=stdin")
  end
  if err then return nil, err, code end
  chunk, err = session.load(code)
  return chunk, err, code
end

---------------------------------------------------------------------------
-- Commands

local commands, help = {}, {}

local function task_by_id(text)
  local id = tonumber(text)
  for _, task in ipairs(asched.all_tasks()) do
    if ok_console and console:task_id(task) == id then return task end
  end
end

local function listed(task)
  return task ~= asched.current_task()
end

help[#help + 1] = ":tasks          every live task: id, name, state, where, age"
function commands.tasks()
  local any = false
  for _, task in ipairs(asched.all_tasks()) do
    if listed(task) then
      any = true
      local info = spawned[task]
      write(string.format("%4d  %-12s %s%s", console:task_id(task), task.name, console:describe(task),
                          info and string.format("  (age %.1f s)", asched.now() - info.at) or ""))
    end
  end
  if not any then write("no tasks but this prompt") end
end

help[#help + 1] = ":where ID       the task's traceback and where it was spawned"
function commands.where(arg)
  local task = task_by_id(arg)
  if not task then return write("no live task " .. tostring(arg)) end
  write(console:traceback(task))
  local info = spawned[task]
  if info then write(info.where) end
end

help[#help + 1] = ":cancel ID      cancel a task"
function commands.cancel(arg)
  local task = task_by_id(arg)
  if not task then return write("no live task " .. tostring(arg)) end
  task:cancel()
  write("cancelled " .. task.name)
end

help[#help + 1] = ":clock          the loop time (and whether it is virtual)"
function commands.clock()
  write(string.format("%.3f s%s", asched.now(), console:is_virtual() and " (virtual time)" or ""))
end

help[#help + 1] = ":advance S      under virtual time, move the clock S seconds forward"
function commands.advance(arg)
  local seconds = tonumber(arg)
  if not console:is_virtual() then return write("the clock is real; run `asched --virtual-time` to move it by hand") end
  if console:paused() then return write("the loop is paused and so is the clock: :step moves it to the next timer, :run resumes") end
  if not seconds or seconds < 0 then return write("usage: :advance SECONDS") end
  console:advance(seconds)
  asched.sleep(0)     -- let the tasks whose time has come run
  write(string.format("%.3f s", asched.now()))
end

help[#help + 1] = ":timeline [S]   what every task did in the last S seconds (10)"
function commands.timeline(arg)
  local seconds = arg == "" and 10 or tonumber(arg)
  if not seconds or seconds <= 0 then return write("usage: :timeline [SECONDS]") end
  write(console:timeline(seconds) or "nothing has run yet")
end

help[#help + 1] = ":pause          stop the loop: only the prompt runs (virtual time: the clock stops)"
function commands.pause()
  local ok, was = pcall(console.pause, console, true)
  if not ok then return write(message_of(was)) end
  if was then return write("already paused") end
  write(string.format("paused at %.3f s: only the prompt runs; :step [N] steps, :run resumes", asched.now()))
end

help[#help + 1] = ":step [N]       while paused, run N scheduler steps (1), a line each"
function commands.step(arg)
  local n = arg == "" and 1 or math.tointeger(tonumber(arg))
  if not n or n < 1 then return write("usage: :step [N]") end
  if not console:paused() then return write("the loop is running: :pause first") end
  local _, before = console:stepping()
  console:step(n)
  local stepping, done, interrupted
  repeat
    asched.sleep(0)   -- the held-back tasks take their steps meanwhile
    stepping, done, interrupted = console:stepping()
  until not stepping
  if interrupted then
    write(string.format("(%d of %d steps: stopped by Ctrl-C)", done - before, n))
  elseif done - before < n then
    write(string.format("(%d of %d steps: no held-back task is ready and no timer is set)", done - before, n))
  end
end

help[#help + 1] = ":ready          the ready queue in order (held back while paused)"
function commands.ready()
  local text = console:ready()
  if text ~= "" then return write(text) end
  write("no task is ready" .. (console:paused() and "" or " (the loop is running)"))
end

help[#help + 1] = ":timers [N]     the next N timers (10), their tasks and when they fire"
function commands.timers(arg)
  local n = arg == "" and 10 or math.tointeger(tonumber(arg))
  if not n or n < 1 then return write("usage: :timers [N]") end
  local text = console:timers(n)
  write(text ~= "" and text or "no timer is set")
end

help[#help + 1] = ":held           who holds each lock and semaphore, and who waits for it"
function commands.held()
  local text = console:held()
  write(text ~= "" and text or "no task holds or waits on a lock or semaphore")
end

help[#help + 1] = ":run            resume normal scheduling after :pause"
function commands.run()
  local ok, was = pcall(console.pause, console, false)
  if not ok then return write(message_of(was)) end
  write(was and "running" or "not paused")
end

help[#help + 1] = ":help           this list"
function commands.help()
  write("Each input runs as a task; asched.sleep and the rest work at the prompt.")
  write("A top-level local lasts the session (a <close> one closes when its input ends).")
  if completing then write("Tab completes names, asched's functions and an object's methods (q:).") end
  write("Ctrl-C cancels the running input (or clears the line); Ctrl-D exits.")
  for _, line in ipairs(help) do write(line) end
end

local function run_command(line)
  local name, arg = line:match("^%s*:(%a+)%s*(.-)%s*$")
  local command = name and commands[name]
  if not command then return write("unknown command " .. line .. " (:help lists them)") end
  if not ok_console and name ~= "help" and name ~= "clock" then
    return write(":" .. name .. " needs a terminal")
  end
  command(arg)
end

---------------------------------------------------------------------------
-- The session

if script then run_input(script, table.unpack(script_args, 1, script_args.n)) end
write(banner .. "  (:help for commands, Ctrl-D to exit)")
write("Top-level locals last the session, as in Python's and Node's REPLs" .. (completing and "; Tab completes." or "."))
while true do
  local line = read("> ")
  if line == nil then break end
  if line:match("^%s*:") then
    remember(line)
    run_command(line)
  elseif line:match("%S") then
    local chunk, err, text = read_chunk(line)
    remember(text)
    if chunk then run_input(chunk) elseif err then write(err) end
  end
end
write("")
print = plain_print
