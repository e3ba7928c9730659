-- exercises.lua -- the asched program's subcommands for the tutorial's
-- exercises: `exercises` (list, progress, next; `--init DIR` copies them out),
-- `watch` (also `check --watch`), `next`, `check [N...]`, `hint N`, `reset N`, `solution N`.
-- Compiled into the program; owns the learner's progress, never a check.
--
-- An exercises folder holds:
--   NN_name.lua           the learner's file: returns a table of functions
--   checks/NN_name.lua    returns {title =, hints = {...}, check = function(M, t)}
--   solutions/NN_name.lua a reference solution (shown by `asched solution N`)
--   stubs/NN_name.lua     the untouched learner's file (for reset and --init)
-- Each check runs in a fresh asched.run under the virtual clock, so time is
-- exact and instant; `t` (below) is how a check states what it expects.
--
-- What the learner did (hints seen, exercises passed) is kept in
-- $XDG_STATE_HOME/asched/<folder key>/, never in the folder itself: a
-- checkout with learner state must still pass its own tests.

local asched = require("asched")
local command, args, set_budget, host = ...

local BUDGET = 50 * 1000 * 1000   -- Lua instructions a check may run

local function out(...) io.stdout:write(string.format(...), "\n") end

local function complain(...)
  io.stderr:write("asched ", command, ": ", string.format(...), "\n")
  return 1
end

local function quote(s) return "'" .. tostring(s):gsub("'", "'\\''") .. "'" end

local function read_file(path)
  local f = io.open(path, "rb")
  if not f then return nil end
  local text = f:read("a")
  f:close()
  return text
end

local function write_file(path, text)
  local f, err = io.open(path, "wb")
  if not f then return nil, err end
  f:write(text)
  f:close()
  return true
end

-- The names in a folder (sorted), or {} if there is none.
local function list_dir(dir)
  local p = io.popen("ls -1 " .. quote(dir) .. " 2>/dev/null")
  local names = {}
  for name in p:lines() do names[#names + 1] = name end
  p:close()
  return names
end

local function mkdir(dir)
  return os.execute("mkdir -p " .. quote(dir) .. " 2>/dev/null")
end

---------------------------------------------------------------------------
-- Where the exercises are: $ASCHED_EXERCISES, or the nearest folder at or
-- above the current one that is an exercises folder (has checks/01_*.lua)
-- or holds one named exercises/ (the checkout's root).

local function is_exercises_dir(dir)
  for _, name in ipairs(list_dir(dir .. "/checks")) do
    if name:match("^01_.*%.lua$") then return true end
  end
  return false
end

local cwd = host.realpath(".") or "."

local function find_directory()
  local chosen = os.getenv("ASCHED_EXERCISES")
  if chosen then return host.realpath(chosen) or chosen end
  local dir = cwd
  while true do
    if is_exercises_dir(dir) then return dir end
    local inside = (dir == "/" and "" or dir) .. "/exercises"
    if is_exercises_dir(inside) then return inside end
    if dir == "/" then return nil end
    dir = dir:match("^(.*)/[^/]*$")
    if dir == "" then dir = "/" end
  end
end

-- Where an installed asched keeps its copy: P/bin/asched -> P/share/asched/exercises.
local function installed_directory()
  local exe = host.exepath()
  local prefix = exe and exe:match("^(.*)/[^/]+/[^/]+$")
  local dir = prefix and prefix .. "/share/asched/exercises"
  return dir and is_exercises_dir(dir) and dir or nil
end

-- A path as the learner should type it: relative to the current folder
-- when it is inside it.
local function shown(path)
  if path:sub(1, #cwd + 1) == cwd .. "/" then return path:sub(#cwd + 2) end
  return path
end

---------------------------------------------------------------------------
-- The learner's state: one folder per exercises folder, named after its
-- real path (made safe for a file name, with a hash so two paths that sanitise
-- alike stay apart). `progress` holds lines "passed NN" and "hints NN count".

local function fnv1a(text)
  local h = 2166136261
  for i = 1, #text do h = ((h ~ text:byte(i)) * 16777619) & 0xffffffff end
  return string.format("%08x", h)
end

local function state_root()
  local xdg = os.getenv("XDG_STATE_HOME")
  if xdg and xdg:sub(1, 1) == "/" then return xdg .. "/asched" end
  local home = os.getenv("HOME")
  return home and home .. "/.local/state/asched"
end

local function state_dir(directory)
  local root = state_root()
  if not root then return nil end
  local name = directory:gsub("^/", ""):gsub("[^%w%-_.]", "_"):sub(-60)
  return root .. "/" .. name .. "-" .. fnv1a(directory)
end

local function load_state(directory)
  local state = {dir = state_dir(directory), passed = {}, hints = {}, checked = {}}
  local text = state.dir and read_file(state.dir .. "/progress") or ""
  for line in text:gmatch("[^\n]+") do
    local number = line:match("^passed (%d+)$")
    if number then state.passed[number] = true end
    local hinted, count = line:match("^hints (%d+) (%d+)$")
    if hinted then state.hints[hinted] = tonumber(count) end
  end
  return state
end

local function save_state(state, directory)
  if not state.dir or not mkdir(state.dir) then return end
  local lines = {"# asched exercises progress for " .. directory}
  local numbers = {}
  for number in pairs(state.passed) do numbers[#numbers + 1] = number end
  table.sort(numbers)
  for _, number in ipairs(numbers) do lines[#lines + 1] = "passed " .. number end
  numbers = {}
  for number in pairs(state.hints) do numbers[#numbers + 1] = number end
  table.sort(numbers)
  for _, number in ipairs(numbers) do lines[#lines + 1] = "hints " .. number .. " " .. state.hints[number] end
  -- Written aside then renamed, so a crash never leaves half a file.
  if write_file(state.dir .. "/progress.new", table.concat(lines, "\n") .. "\n") then
    os.rename(state.dir .. "/progress.new", state.dir .. "/progress")
  end
end

---------------------------------------------------------------------------
-- The exercises, in order: {number = "01", name = "concurrent_fetch", ...}.

local function list_exercises(directory)
  local found = {}
  for _, file in ipairs(list_dir(directory .. "/checks")) do
    local number, name = file:match("^(%d%d)_([%w_]+)%.lua$")
    if number then
      local base = number .. "_" .. name .. ".lua"
      found[#found + 1] = {number = number, name = name, base = base,
                           file = directory .. "/" .. base,
                           check_file = directory .. "/checks/" .. base,
                           stub_file = directory .. "/stubs/" .. base,
                           solution_file = directory .. "/solutions/" .. base}
    end
  end
  table.sort(found, function(a, b) return a.number < b.number end)
  for i, e in ipairs(found) do e.index = i end
  return found
end

local function find(exercises, wanted)
  local n = math.tointeger(tonumber(wanted))
  for _, e in ipairs(exercises) do
    if (n and tonumber(e.number) == n) or e.name == wanted or e.number .. "_" .. e.name == wanted then
      return e
    end
  end
end

---------------------------------------------------------------------------
-- What a check can say: t.expect, t.equal, t.near, ... A failed expectation
-- stops the check with a message saying what was expected and what happened.

local Failure = {}

local function describe_value(v, depth)
  depth = depth or 0
  if type(v) == "string" then return string.format("%q", v) end
  if type(v) == "number" and math.type(v) == "float" then return string.format("%.3f", v) end
  if type(v) == "table" and getmetatable(v) == nil then
    if depth > 2 then return "{...}" end
    local parts, n = {}, #v
    for i = 1, math.min(n, 8) do parts[#parts + 1] = describe_value(v[i], depth + 1) end
    if n > 8 then parts[#parts + 1] = "..." end
    local keys = {}
    for k in pairs(v) do
      if not (math.type(k) == "integer" and k >= 1 and k <= n) then keys[#keys + 1] = k end
    end
    table.sort(keys, function(a, b) return tostring(a) < tostring(b) end)
    for i = 1, math.min(#keys, 6) do
      local k = keys[i]
      local name = type(k) == "string" and k:match("^[%a_][%w_]*$") and k or "[" .. describe_value(k, depth + 1) .. "]"
      parts[#parts + 1] = name .. " = " .. describe_value(v[k], depth + 1)
    end
    if #keys > 6 then parts[#parts + 1] = "..." end
    return "{" .. table.concat(parts, ", ") .. "}"
  end
  return tostring(v)
end

local function fail(what, expected, got)
  error(setmetatable({what = what, expected = expected, got = got}, Failure), 0)
end

local function same(a, b)
  if type(a) ~= "table" or type(b) ~= "table" then return a == b end
  for k, v in pairs(a) do if not same(v, b[k]) then return false end end
  for k in pairs(b) do if a[k] == nil then return false end end
  return true
end

local function new_t()
  local t = {}

  -- The check fails with `what` unless `ok`.
  function t.expect(ok, what, expected, got)
    if not ok then fail(what, expected, got) end
  end

  -- `got` equals `expected` (tables: same contents).
  function t.equal(got, expected, what)
    if not same(got, expected) then fail(what, describe_value(expected), describe_value(got)) end
  end

  -- Two times (seconds) are equal to the microsecond.
  function t.near(got, expected, what)
    if type(got) ~= "number" or math.abs(got - expected) > 1e-6 then
      fail(what, string.format("%.2f s", expected), type(got) == "number" and string.format("%.2f s", got) or describe_value(got))
    end
  end

  -- Calls fn(...) in this task and returns the loop time it took, then its
  -- results; an error inside fails the check, naming `what`.
  function t.timed(what, fn, ...)
    local start = asched.now()
    local results = table.pack(pcall(fn, ...))
    if not results[1] then fail(what .. " should not raise", "no error", tostring(results[2])) end
    return asched.now() - start, table.unpack(results, 2, results.n)
  end

  -- Calls fn(...) expecting an error; returns it and the time taken.
  function t.raises(what, fn, ...)
    local start = asched.now()
    local ok, err = pcall(fn, ...)
    if ok then fail(what, "an error", "no error") end
    return err, asched.now() - start
  end

  -- Counts how many calls of wrapped functions run at once.
  function t.tracker()
    local tracker = {running = 0, most = 0, calls = 0, log = {}}
    function tracker.wrap(fn)
      return function(...)
        tracker.calls = tracker.calls + 1
        tracker.running = tracker.running + 1
        if tracker.running > tracker.most then tracker.most = tracker.running end
        local ok_results = table.pack(pcall(fn, ...))
        tracker.running = tracker.running - 1
        if not ok_results[1] then error(ok_results[2], 0) end
        return table.unpack(ok_results, 2, ok_results.n)
      end
    end
    return tracker
  end

  -- A unique value, so that a stub returning a constant cannot match it.
  local serial = 0
  function t.token(label)
    serial = serial + 1
    return {token = string.format("%s-%d-%d", label or "value", serial, math.random(1, 1e9))}
  end

  t.now = asched.now
  return t
end

---------------------------------------------------------------------------
-- Running one check

-- Learner code that spins without ever suspending is stopped by a budget
-- of instructions (a C count hook that every task inherits).
local function with_budget(fn, ...)
  set_budget(BUDGET)
  local results = table.pack(pcall(fn, ...))
  set_budget(nil)
  return table.unpack(results, 1, results.n)
end

-- The first line of the learner's file that an error message or its
-- traceback names: the learner's file is loaded under its shown path.
local function learner_line(exercise, text)
  local name = shown(exercise.file)
  local from = 1
  while true do
    local s, e = text:find(name, from, true)
    if not s then return nil end
    local line = text:match("^:(%d+):", e + 1)
    if line then return tonumber(line) end
    from = e + 1
  end
end

local function describe_error(err)
  if type(err) == "table" and err.traceback then return tostring(err) .. "\n" .. tostring(err.traceback) end
  return tostring(err)
end

-- Returns true, or false, a message of what went wrong and the line of the
-- learner's file it came from (nil when the check, not the code, failed).
local function run_check(exercise)
  local spec_chunk, err = loadfile(exercise.check_file)
  if not spec_chunk then return false, "the check itself does not load: " .. err end
  local spec = spec_chunk()
  local source = read_file(exercise.file)
  if not source then return false, "your file is missing (`asched reset " .. exercise.number .. "` restores it)" end
  local learner, load_err = load(source, "@" .. shown(exercise.file))
  if not learner then
    return false, "your file does not load:\n  " .. load_err, learner_line(exercise, load_err)
  end
  local ok, outcome = with_budget(function()
    return asched.run({virtual_time = true}, function()
      local M = learner()
      if type(M) ~= "table" then
        fail("your file should end with `return M` (the table of your functions)", "a table", type(M))
      end
      spec.check(M, new_t())
    end)
  end)
  if ok then return true end
  if getmetatable(outcome) == Failure then
    local message = "expected: " .. outcome.what
    if outcome.expected ~= nil then
      message = message .. "\n        wanted " .. tostring(outcome.expected) .. ", got " .. tostring(outcome.got)
    end
    -- t.timed and t.raises report the learner's own error as `got`.
    return false, message, learner_line(exercise, message)
  end
  return false, "your code raised an error: " .. tostring(outcome), learner_line(exercise, describe_error(outcome))
end

-- run_check without the learner's prints: for the exercises counted in a
-- progress bar, not the one being reported.
local function run_check_quietly(exercise)
  local saved_print, saved_write = print, io.write
  print, io.write = function() end, function() return io.stdout end
  local results = table.pack(pcall(run_check, exercise))
  print, io.write = saved_print, saved_write
  if not results[1] then error(results[2], 0) end
  return table.unpack(results, 2, results.n)
end

local function load_check(exercise)
  local chunk = loadfile(exercise.check_file)
  local ok, spec = pcall(chunk or error)
  return ok and type(spec) == "table" and spec or {}
end

local function title_of(exercise) return load_check(exercise).title or "?" end

---------------------------------------------------------------------------
-- What the learner sees

local directory = find_directory()

local function progress_bar(done, total)
  return string.format("%d/%d %s%s", done, total, string.rep("█", done), string.rep("░", total - done))
end

local CLOSING = [[
All exercises pass. Well done!
You have used tasks, timeouts, queues, semaphores, task groups and barriers
the way real programs do. Next: read docs/reference.md, try the examples in
examples/, or write a program of your own with `asched`.]]

-- Runs a check, remembering a pass (which unlocks the solution) and the
-- outcome (so that the progress bar does not run it again).
local function check_and_record(state, e, quietly)
  local passed, message, line = (quietly and run_check_quietly or run_check)(e)
  if passed and not state.passed[e.number] then
    state.passed[e.number] = true
    state.dirty = true
  end
  state.checked[e.number] = passed
  return passed, message, line
end

-- Checks every exercise not checked yet: results[i] = true/false, how many
-- pass, and the first that fails.
local function check_all(state, exercises)
  local results, done, first = {}, 0, nil
  for i, e in ipairs(exercises) do
    results[i] = state.checked[e.number]
    if results[i] == nil then results[i] = (check_and_record(state, e, true)) end
    if results[i] then done = done + 1 elseif not first then first = e end
  end
  return results, done, first
end

local function where(e, line)
  return shown(e.file) .. (line and ":" .. line or "")
end

-- The first exercise that does not pass after `e` (wrapping), or nil.
local function next_unsolved(exercises, results, e)
  local n = #exercises
  for k = 1, n - 1 do
    local other = exercises[(e.index - 1 + k) % n + 1]
    if not results[other.index] then return other end
  end
end

local function report(e, passed, message, line)
  out("[%s] %s: %s", e.number, e.name, title_of(e))
  if passed then
    out("  PASS")
  else
    out("  FAIL  %s", message)
    out("  edit: %s   (`asched hint %d` for a hint)", where(e, line), tonumber(e.number))
  end
end

local function show_progress(done, total, first)
  if first then
    out("%s  next: %s_%s — %s", progress_bar(done, total), first.number, first.name, shown(first.file))
  else
    out("%s", progress_bar(done, total))
  end
end

local function show_list(exercises, results, first)
  local done = 0
  for i, e in ipairs(exercises) do
    if results[i] then done = done + 1 end
    local mark = results[i] and "done" or (e == first and "next" or "    ")
    out("%s %s  %-26s %s  %s", e == first and ">" or " ", e.number, e.name, mark, title_of(e))
  end
  show_progress(done, #exercises, first)
  return done
end

local function give_hint(state, e)
  local hints = load_check(e).hints or {}
  local next_hint = math.min((state.hints[e.number] or 0) + 1, #hints)
  if next_hint == 0 then
    out("[%s] %s: no hints for this one.", e.number, title_of(e))
    return
  end
  out("[%s] %s, hint %d of %d:\n\n%s\n", e.number, title_of(e), next_hint, #hints, hints[next_hint])
  state.hints[e.number] = next_hint
  state.dirty = true
end

-- Puts the stub back, after moving the learner's file into the state
-- folder's backups/ (never deleted by asched). Returns the backup's path.
local function reset(state, e)
  local stub = read_file(e.stub_file)
  if not stub then return nil, "no stub " .. shown(e.stub_file) .. " to restore" end
  local current = read_file(e.file)
  local backup
  if current and current ~= stub then
    if not state.dir then return nil, "no state folder for a backup (set HOME or XDG_STATE_HOME)" end
    local backups = state.dir .. "/backups"
    mkdir(backups)
    backup = string.format("%s/%s.%s", backups, e.base, os.date("%Y%m%d-%H%M%S"))
    local n = 1
    while read_file(backup) do n = n + 1; backup = backup:gsub("%.%d+$", "") .. "." .. n end
    local ok, err = write_file(backup, current)
    if not ok then return nil, "cannot keep your file aside: " .. tostring(err) end
  end
  local ok, err = write_file(e.file, stub)
  if not ok then return nil, "cannot restore the stub: " .. tostring(err) end
  return true, backup
end

-- `exercises --init DIR`: a fresh copy (the learner's files from stubs/).
local function init(target)
  local source = directory or installed_directory()
  if not source then return complain("no exercises to copy (not in a checkout, and none installed)") end
  if is_exercises_dir(target) then
    return complain("'%s' already holds exercises: cd there and run `asched watch`", target)
  end
  if not mkdir(target) then return complain("cannot create '%s'", target) end
  for _, sub in ipairs({"checks", "solutions", "stubs"}) do
    if not os.execute("cp -R " .. quote(source .. "/" .. sub) .. " " .. quote(target .. "/" .. sub)) then
      return complain("cannot copy %s into '%s'", sub, target)
    end
  end
  os.execute("cp " .. quote(source .. "/README.md") .. " " .. quote(target .. "/README.md") .. " 2>/dev/null")
  local copied = list_exercises(host.realpath(target) or target)
  for _, e in ipairs(copied) do
    local ok, err = write_file(e.file, read_file(e.stub_file) or "")
    if not ok then return complain("%s", err) end
  end
  out("Copied %d exercises into %s.", #copied, target)
  out("Start with:  cd %s && asched watch", quote(target))
  return 0
end

---------------------------------------------------------------------------
-- `asched watch`: the first unsolved exercise, re-checked on every save.

local KEYS = "keys: [h]int  [l]ist  [n]ext  [r]eset  [q]uit"

local function watch(state, exercises)
  local results, done, current = check_all(state, exercises)
  if not current then out("%s\n%s", progress_bar(done, #exercises), CLOSING) return 0 end
  while true do
    local stamp = host.stamp(current.file)
    local passed, message, line = check_and_record(state, current)
    if state.dirty then save_state(state, directory) state.dirty = false end
    out("\n" .. string.rep("─", 60))
    report(current, passed, message, line)
    if passed ~= results[current.index] then
      results[current.index] = passed
      done = done + (passed and 1 or -1)
    end
    local following = next_unsolved(exercises, results, current)
    if passed then
      if not following then out("%s\n%s", progress_bar(done, #exercises), CLOSING) return 0 end
      out("  next: %s_%s — %s", following.number, following.name, shown(following.file))
      current = following
    else
      show_progress(done, #exercises, current)
      out("Save %s to check again. %s", shown(current.file), KEYS)
      local key
      repeat
        key = host.watch(current.file, stamp)
        if key == "h" then give_hint(state, current)
        elseif key == "l" then show_list(exercises, results, current)
        end
        if state.dirty then save_state(state, directory) state.dirty = false end
      until key ~= "h" and key ~= "l"
      if key == "q" then out("Bye: `asched watch` takes you back here.") return 0 end
      if key == "n" then current = following or current end
      if key == "r" then
        local ok, backup = reset(state, current)
        if not ok then out("reset: %s", backup)
        else out("Restored the stub%s", backup and "; your version is kept in " .. backup or ".") end
      end
    end
  end
end

---------------------------------------------------------------------------
-- The subcommands

-- `exercises --init DIR` works anywhere: it needs no folder of its own.
if command == "exercises" and args[1] == "--init" then
  if not args[2] then return complain("usage: asched exercises --init DIR") end
  return init(args[2])
end

-- `check --watch` (as other tools spell it) is `watch`.
for _, arg in ipairs(args) do
  if command == "check" and arg == "--watch" then
    if #args > 1 then return complain("--watch takes no exercise: `asched check --watch` is `asched watch`") end
    command = "watch"
  end
end

if not directory then
  return complain("no exercises here or above '%s'.\nGet your own copy with `asched exercises --init DIR`, then cd into DIR.", cwd)
end
local exercises = list_exercises(directory)
local state = load_state(directory)

-- The exercises named by args[first...]; nil after complaining of one unknown.
local function named(first)
  local chosen = {}
  for i = first, #args do
    if args[i] ~= "--force" then
      local e = find(exercises, args[i])
      if not e then
        complain("no exercise '%s' (`asched exercises` lists them)", args[i])
        return nil
      end
      chosen[#chosen + 1] = e
    end
  end
  return chosen
end

local function finish(status)
  if state.dirty then save_state(state, directory) end
  return status
end

local function run_command()
  if command == "exercises" then
    if args[1] then return complain("unknown argument '%s' (did you mean --init DIR?)", args[1]) end
    local results, done, first = check_all(state, exercises)
    show_list(exercises, results, first)
    if done == #exercises then out("%s", CLOSING)
    else out("`asched watch` re-checks it as you save; `asched hint N` gives a hint.") end
    return 0
  end

  if command == "watch" then
    if args[1] and args[1] ~= "--watch" then
      return complain("watch takes no argument: it starts at the first unsolved exercise")
    end
    return watch(state, exercises)
  end

  if command == "next" then
    local results, done, first = check_all(state, exercises)
    if not first then out("%s\n%s", progress_bar(done, #exercises), CLOSING) return 0 end
    report(first, run_check(first))
    show_progress(done, #exercises, first)
    return 0
  end

  if command == "check" then
    local chosen = named(1)
    if not chosen then return 1 end
    if #chosen == 0 then chosen = exercises end
    local failed = 0
    for _, e in ipairs(chosen) do
      local passed, message, line = check_and_record(state, e)
      report(e, passed, message, line)
      if not passed then failed = failed + 1 end
    end
    if #chosen > 1 then out("%d passed, %d failed", #chosen - failed, failed) end
    local results, done, first = check_all(state, exercises)
    if done == #exercises then
      out("%s\n%s", progress_bar(done, #exercises), CLOSING)
    else
      if failed == 0 then out("next: %s_%s — %s", first.number, first.name, shown(first.file)) end
      out("%s", progress_bar(done, #exercises))
    end
    return failed == 0 and 0 or 1
  end

  if command == "hint" or command == "reset" or command == "solution" then
    local chosen = named(1)
    if not chosen then return 1 end
    if #chosen ~= 1 then return complain("usage: asched %s N   (`asched exercises` lists them)", command) end
    local e = chosen[1]
    if command == "hint" then give_hint(state, e) return 0 end
    if command == "reset" then
      local ok, backup = reset(state, e)
      if not ok then return complain("%s", backup) end
      out("Restored %s to its stub.", shown(e.file))
      out(backup and "Your version is kept in " .. backup or "(it was the stub already: nothing to keep)")
      return 0
    end
    local forced = args[#args] == "--force" or args[1] == "--force"
    if not forced and not state.passed[e.number] and not check_and_record(state, e) then
      return complain("exercise %s does not pass yet: solve it first (`asched hint %d` helps),\n" ..
                      "or see the solution anyway with `asched solution %d --force`",
                      e.number, tonumber(e.number), tonumber(e.number))
    end
    local text = read_file(e.solution_file)
    if not text then return complain("no solution %s", shown(e.solution_file)) end
    out("[%s] %s: the reference solution (%s)%s\n", e.number, e.name, shown(e.solution_file),
        (forced and not state.passed[e.number]) and ", shown with --force before yours passed" or "")
    io.stdout:write(text)
    return 0
  end

  return complain("unknown subcommand")
end

if #exercises == 0 then return complain("no exercises found in '%s'", directory) end
return finish(run_command())
