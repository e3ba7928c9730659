-- repl.lua -- the asched REPL, run as the main task by the asched program
-- (runtime/repl.c). Each input runs as a task of its own while every other
-- task keeps running; the terminal is read through the loop (console.c), so
-- output of background tasks appears above the line being typed. Compiled
-- into the program.

local asched, open_console, script, script_args, banner = ...

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
  else
    write(message_of(results[2]))
    local traceback = task:traceback()
    if traceback then write(traceback:match("\n(stack traceback:.*)$") or traceback) end
  end
end

-- Reads one chunk: "return <line>" first, so expressions print their values;
-- a chunk that is incomplete ("<eof>") asks for more with ">> ".
local function read_chunk(line)
  local chunk, err = load("return " .. line, "=stdin")
  if chunk then return chunk end
  local code = line
  chunk, err = load(code, "=stdin")
  while not chunk and err:match("<eof>$") do
    local more = read(">> ")
    if more == nil then return nil, nil end
    code = code .. "\n" .. more
    chunk, err = load(code, "=stdin")
  end
  return chunk, err
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

help[#help + 1] = ":help           this list"
function commands.help()
  write("Each input runs as a task; asched.sleep and the rest work at the prompt.")
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
while true do
  local line = read("> ")
  if line == nil then break end
  if line:match("^%s*:") then
    run_command(line)
  elseif line:match("%S") then
    local chunk, err = read_chunk(line)
    if chunk then run_input(chunk) elseif err then write(err) end
  end
end
write("")
print = plain_print
