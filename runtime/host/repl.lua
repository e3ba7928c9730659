-- repl.lua -- the asched REPL, run as the main task by the asched program
-- (runtime/repl.c). Each input runs as a task of its own while every other
-- task keeps running; the terminal is read through the loop (console.c), so
-- output of background tasks appears above the line being typed. Top-level
-- locals last the session; a multi-line entry is one history item; Tab
-- completes names. Compiled into the program.

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
  else
    write(message_of(results[2]))
    local traceback = task:traceback()
    if traceback then write(traceback:match("\n(stack traceback:.*)$") or traceback) end
  end
end

---------------------------------------------------------------------------
-- Top-level locals last the session, as in Python's and Node's REPLs.
--
-- Each input is a chunk of its own, so a plain `local q = ...` would be gone
-- by the next input. Before loading, the chunk's top-level local statements
-- are rewritten into assignments to session variables, which every input's
-- environment (`session_env`) sees before the globals:
--   local a, b <const> = f()   ->  __asched_local.a, __asched_const.b = f()
--   local function g() end     ->  __asched_local.g = function() end
-- An assignment adjusts its values as the local statement would, and runs
-- after its expressions (so `local x = x + 1` reads the old x). The rewrite
-- keeps the line count, so errors name the lines typed. Left local: locals
-- inside functions and blocks, top-level `<close>` locals, which must close
-- at the end of their input, and all of a chunk that names `_ENV`. A later
-- top-level `local x` rebinds the session's x, also for functions that used
-- the earlier one.

local globals = _G
local session_values, session_kinds = {}, {}   -- name -> value, "local" | "const"

local function declarer(kind)
  return setmetatable({}, {__newindex = function(_, name, value)
    session_kinds[name], session_values[name] = kind, value
  end})
end
local declare = {local_ = declarer("local"), const = declarer("const")}

local session_env = setmetatable({}, {
  __index = function(_, name)
    if session_kinds[name] then return session_values[name] end
    if name == "__asched_local" then return declare.local_ end
    if name == "__asched_const" then return declare.const end
    return globals[name]
  end,
  __newindex = function(_, name, value)
    local kind = session_kinds[name]
    if kind == "const" then error("attempt to assign to const variable '" .. tostring(name) .. "'", 2) end
    if kind then session_values[name] = value else globals[name] = value end
  end,
})

-- The tokens of Lua source that matter for finding statements: names (and
-- keywords) and punctuation, each {text, first, last}; strings, long
-- strings, comments and numbers are skipped whole.
local function tokens(code)
  local list, i, n = {}, 1, #code
  local function long_bracket_end(at)     -- `at` is on the opening "["
    local level = code:match("^%[(=*)%[", at)
    if not level then return nil end
    local _, close = code:find("]" .. level .. "]", at, true)
    return close or n
  end
  while i <= n do
    local c = code:sub(i, i)
    if c:match("%s") then
      i = code:find("%S", i) or n + 1
    elseif code:sub(i, i + 1) == "--" then
      i = (code:sub(i + 2, i + 2) == "[" and long_bracket_end(i + 2)
           or code:find("\n", i, true) or n) + 1
    elseif c == "[" and long_bracket_end(i) then
      i = long_bracket_end(i) + 1
    elseif c == "'" or c == '"' then
      local j = i + 1
      while j <= n do
        local d = code:sub(j, j)
        if d == "\\" then j = j + 1
        elseif d == c or d == "\n" then break end
        j = j + 1
      end
      i = j + 1
    elseif c:match("[%a_]") then
      local last = select(2, code:find("^[%w_]*", i + 1))
      list[#list + 1] = {code:sub(i, last), i, last}
      i = last + 1
    elseif c:match("%d") or (c == "." and code:sub(i + 1, i + 1):match("%d")) then
      local j = i
      repeat
        j = select(2, code:find("^[%w_.]*", j + 1))
        local sign = code:sub(j, j):match("[eEpP]") and code:sub(j + 1, j + 1):match("[+-]")
        if sign then j = j + 1 end
      until not sign
      i = j + 1
    else
      list[#list + 1] = {c, i, i}
      i = i + 1
    end
  end
  return list
end

local opens = {["function"] = true, ["do"] = true, ["if"] = true, ["repeat"] = true}
local closes = {["end"] = true, ["until"] = true}

-- The text of code[first..last] reduced to its line breaks.
local function newlines(code, first, last)
  return (code:sub(first, last):gsub("[^\n]", ""))
end

-- One top-level local statement starting at token k: its replacement
-- {first, last, text}, or nil to leave it be (`<close>`, or not a
-- well-formed statement: then Lua reports the error).
local function rewrite_local(code, list, k)
  local start = list[k][2]
  local t = list[k + 1]
  if t and t[1] == "function" then
    local name = list[k + 2]
    if not name or not name[1]:match("^[%a_][%w_]*$") then return nil end
    return {start, name[3], "__asched_local." .. name[1] .. " = function" .. newlines(code, start, name[3])}
  end
  local targets, j, last = {}, k + 1, nil
  while true do
    local name = list[j]
    if not name or not name[1]:match("^[%a_][%w_]*$") then return nil end
    local kind = "local"
    last = name[3]
    j = j + 1
    if list[j] and list[j][1] == "<" then
      local attrib, close = list[j + 1], list[j + 2]
      if not attrib or attrib[1] ~= "const" or not close or close[1] ~= ">" then return nil end
      kind, last, j = "const", close[3], j + 3
    end
    targets[#targets + 1] = "__asched_" .. kind .. "." .. name[1]
    if not list[j] or list[j][1] ~= "," then break end
    j = j + 1
  end
  local text = table.concat(targets, ", ")
  if not list[j] or list[j][1] ~= "=" then text = text .. " = nil" end
  return {start, last, text .. newlines(code, start, last)}
end

-- `code` with its top-level local statements made session variables (above).
local function persist_locals(code)
  local list, depth, edits = tokens(code), 0, {}
  for k, t in ipairs(list) do
    local word = t[1]
    if word == "_ENV" then
      return code   -- code that handles its environment itself is left alone
    elseif opens[word] then
      depth = depth + 1
    elseif closes[word] then
      depth = depth - 1
    elseif word == "local" and depth == 0 then
      edits[#edits + 1] = rewrite_local(code, list, k)
    end
  end
  for e = #edits, 1, -1 do
    local first, last, text = table.unpack(edits[e])
    code = code:sub(1, first - 1) .. text .. code:sub(last + 1)
  end
  return code
end

-- Loads a complete chunk in the session's environment. Should the rewritten
-- chunk not load (a case the scanner misjudged), the chunk as typed runs, its
-- locals then lasting one input only.
local function load_input(code)
  local rewritten = persist_locals(code)
  if rewritten ~= code then
    local chunk = load(rewritten, "=stdin", "t", session_env)
    if chunk then return chunk end
  end
  return load(code, "=stdin", "t", session_env)
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
  if session_kinds[first] then value = session_values[first] else value = rawget(globals, first) end
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
    for name in pairs(session_kinds) do names[name] = true end
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
  local chunk = load("return " .. line, "=stdin", "t", session_env)
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
  chunk, err = load_input(code)
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
