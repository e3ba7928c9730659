-- exercises.lua -- the asched program's subcommands for the tutorial's
-- exercises: `asched exercises` (list and progress), `asched check [N]` (run
-- checks), `asched hint N` (the next hint). Compiled into the program.
--
-- The exercises live in ./exercises (or $ASCHED_EXERCISES):
--   NN_name.lua           the learner's file: returns a table of functions
--   checks/NN_name.lua    returns {title =, hints = {...}, check = function(M, t)}
--   solutions/NN_name.lua a reference solution (never read here)
-- Each check runs in a fresh asched.run under the virtual clock, so time is
-- exact and instant; `t` (below) is how a check states what it expects.

local asched = require("asched")
local command, args, set_budget = ...

-- ./exercises from the checkout's root, or the current folder from inside it.
local function find_directory()
  local chosen = os.getenv("ASCHED_EXERCISES")
  if chosen then return chosen end
  local here = io.open("checks/01_concurrent_fetch.lua") or io.open("./checks")
  if here and not io.open("exercises/README.md") then
    here:close()
    return "."
  end
  return "exercises"
end

local directory = find_directory()
local HINTS_SEEN = directory .. "/.hints_seen"
local BUDGET = 50 * 1000 * 1000   -- Lua instructions a check may run

local function out(...) io.stdout:write(string.format(...), "\n") end

local function read_file(path)
  local f = io.open(path, "r")
  if not f then return nil end
  local text = f:read("a")
  f:close()
  return text
end

-- The exercises, in order: {number = "01", name = "concurrent_fetch", ...}.
local function list_exercises()
  local checks = directory .. "/checks"
  local p = io.popen("ls -1 '" .. checks:gsub("'", "'\\''") .. "' 2>/dev/null")
  local found = {}
  for file in p:lines() do
    local number, name = file:match("^(%d%d)_([%w_]+)%.lua$")
    if number then
      found[#found + 1] = {number = number, name = name, file = directory .. "/" .. number .. "_" .. name .. ".lua",
                           check_file = checks .. "/" .. file}
    end
  end
  p:close()
  table.sort(found, function(a, b) return a.number < b.number end)
  return found
end

local function find(exercises, wanted)
  local n = tonumber(wanted)
  for _, e in ipairs(exercises) do
    if tonumber(e.number) == n or e.name == wanted then return e end
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

-- Returns true, or false and a message of what went wrong.
local function run_check(exercise)
  local spec_chunk, err = loadfile(exercise.check_file)
  if not spec_chunk then return false, "the check itself does not load: " .. err end
  local spec = spec_chunk()
  local learner, load_err = loadfile(exercise.file)
  if not learner then return false, "your file does not load:\n  " .. load_err end
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
    return false, message
  end
  return false, "your code raised an error: " .. tostring(outcome)
end

local function title_of(exercise)
  local chunk = loadfile(exercise.check_file)
  local spec = chunk and chunk()
  return spec and spec.title or "?", spec
end

---------------------------------------------------------------------------
-- The subcommands

local function hints_seen()
  local seen = {}
  for line in (read_file(HINTS_SEEN) or ""):gmatch("[^\n]+") do
    local number, count = line:match("^(%d+)=(%d+)$")
    if number then seen[number] = tonumber(count) end
  end
  return seen
end

local function save_hints_seen(seen)
  local f = io.open(HINTS_SEEN, "w")
  if not f then return end
  for number, count in pairs(seen) do f:write(number, "=", count, "\n") end
  f:close()
end

local exercises = list_exercises()
if #exercises == 0 then
  io.stderr:write("asched: no exercises found in '", directory, "' (run from the asched checkout, or set ASCHED_EXERCISES)\n")
  return 1
end

if command == "exercises" then
  local done = 0
  for _, e in ipairs(exercises) do
    local passed = run_check(e)
    if passed then done = done + 1 end
    out("%s  %-26s %s  %s", e.number, e.name, passed and "done" or "    ", (title_of(e)))
  end
  out("%d / %d done. `asched check N` checks exercise N, `asched hint N` gives a hint.", done, #exercises)
  return 0
end

if command == "check" then
  local chosen = exercises
  if args[1] then
    local e = find(exercises, args[1])
    if not e then
      io.stderr:write("asched check: no exercise '", args[1], "' (`asched exercises` lists them)\n")
      return 1
    end
    chosen = {e}
  end
  local failed = 0
  for _, e in ipairs(chosen) do
    local passed, message = run_check(e)
    out("[%s] %s: %s", e.number, e.name, (title_of(e)))
    if passed then
      out("  PASS")
    else
      failed = failed + 1
      out("  FAIL  %s", message)
    end
  end
  if #chosen > 1 then out("%d passed, %d failed", #chosen - failed, failed) end
  return failed == 0 and 0 or 1
end

if command == "hint" then
  local e = args[1] and find(exercises, args[1])
  if not e then
    io.stderr:write("usage: asched hint N   (`asched exercises` lists them)\n")
    return 1
  end
  local title, spec = title_of(e)
  local hints = spec and spec.hints or {}
  local seen = hints_seen()
  local next_hint = math.min((seen[e.number] or 0) + 1, #hints)
  if next_hint == 0 then
    out("[%s] %s: no hints for this one.", e.number, title)
    return 0
  end
  out("[%s] %s, hint %d of %d:\n\n%s\n", e.number, title, next_hint, #hints, hints[next_hint])
  seen[e.number] = next_hint
  save_hints_seen(seen)
  return 0
end

io.stderr:write("asched: unknown subcommand '", tostring(command), "'\n")
return 1
