-- Helpers for the cli specs (not a spec itself): run the asched program as a
-- subprocess on a script written to a fresh temporary directory, always under
-- `timeout`, with stdout and stderr captured to files.
local support = {}

support.asched = assert(os.getenv("ASCHED"), "set ASCHED to the path of the asched program")
support.TIMEOUT = 10           -- seconds; a run that hangs exits 124 or 137

local function quote(s)
  return "'" .. tostring(s):gsub("'", "'\\''") .. "'"
end
support.quote = quote

function support.read(path)
  local f = io.open(path, "rb")
  if not f then return nil end
  local text = f:read("a")
  f:close()
  return text
end

function support.write(path, text)
  local f = assert(io.open(path, "wb"))
  f:write(text)
  f:close()
end

local function capture(cmd)
  local p = assert(io.popen(cmd))
  local out = p:read("a")
  p:close()
  return out
end

-- Runs a shell command; returns what it printed, stdout and stderr together
-- (the tmux-driven specs read panes and send keys with it).
function support.sh(cmd)
  return capture(cmd .. " 2>&1")
end

-- A fresh directory for one run's script, output and marker files.
function support.tmpdir()
  local dir = capture("mktemp -d"):gsub("%s+$", "")
  assert(dir ~= "", "mktemp -d failed")
  return dir
end

function support.remove(dir)
  assert(dir:match("^/tmp/"), "refusing to remove " .. dir)
  os.execute("rm -rf " .. quote(dir))
end

-- The number of the first line of `text` containing `needle` (plain text).
function support.line_of(text, needle)
  local n = 0
  for line in (text .. "\n"):gmatch("([^\n]*)\n") do
    n = n + 1
    if line:find(needle, 1, true) then return n end
  end
  error("no line contains " .. needle)
end

function support.lines(text)
  local list = {}
  for line in text:gmatch("[^\n]+") do list[#list + 1] = line end
  return list
end

-- Runs one program on a script and returns {status, stdout, stderr, script, dir}.
-- spec = {
--   script = "lua source" (written to <dir>/<script_name or "script.lua">),
--   options = {...} (before the script), args = {...} (after it),
--   no_script = true (do not pass the script path: options only),
--   stdin = "text" (else /dev/null), env = {NAME = "value"},
--   program = path (default: the asched program),
--   files = {name = "text"} (more files in the directory),
--   keep = true (do not remove the directory; the caller does)
-- }
-- The program runs with the directory as its working directory, without
-- ASCHED_VIRTUAL_TIME or LUA_INIT unless `env` sets them.
function support.run(spec)
  local dir = support.tmpdir()
  local name = spec.script_name or "script.lua"
  local script = dir .. "/" .. name
  if spec.script then support.write(script, spec.script) end
  for file, text in pairs(spec.files or {}) do support.write(dir .. "/" .. file, text) end
  support.write(dir .. "/stdin", spec.stdin or "")

  local words = {quote(spec.program or support.asched)}
  for _, o in ipairs(spec.options or {}) do words[#words + 1] = quote(o) end
  if not spec.no_script then words[#words + 1] = quote(spec.script_arg or script) end
  for _, a in ipairs(spec.args or {}) do words[#words + 1] = quote(a) end

  local env = {"env -u ASCHED_VIRTUAL_TIME -u ASCHED_AUTOJUMP -u ASCHED_SEED -u LUA_INIT -u LUA_INIT_5_4"}
  for k, v in pairs(spec.env or {}) do env[#env + 1] = k .. "=" .. quote(v) end

  local cmd = string.format("cd %s && %s timeout -s KILL %d %s <stdin >stdout 2>stderr",
    quote(dir), table.concat(env, " "), support.TIMEOUT, table.concat(words, " "))
  local _, _, status = os.execute(cmd)
  local result = {
    status = status,
    stdout = support.read(dir .. "/stdout"),
    stderr = support.read(dir .. "/stderr"),
    script = script,
    dir = dir,
  }
  if not spec.keep then support.remove(dir) end
  return result
end

-- The head of a script for support.interrupt: its directory is arg[1], and
-- mark(name) creates the marker file that says "ready" for a signal.
support.MARKING = [[
local dir = ...
local function mark(name)
  local f = assert(io.open(dir .. "/" .. name, "w"))
  f:close()
end
]]

-- Runs asched on `script` with the run's directory as arg[1], and sends
-- `signal` ("INT" unless named) once for each name in `markers`, each time only after the script has created
-- the file <dir>/<name> (so the script decides when it is ready). Returns
-- {status, stdout, stderr, script, dir}; status 124 or 137 means it hung.
function support.interrupt(script, markers, signal)
  local dir = support.tmpdir()
  local path = dir .. "/script.lua"
  support.write(path, script)
  local waits = {}
  for _, m in ipairs(markers) do
    waits[#waits + 1] = string.format(
      "i=0; while [ ! -e %s ] && [ $i -lt 1000 ]; do i=$((i+1)); sleep 0.01; done; kill -%s $pid",
      quote(dir .. "/" .. m), signal or "INT")
  end
  -- asched runs in the background of a shell that the outer timeout kills,
  -- with its whole process group, if anything hangs.
  local body = string.format('%s %s %s >stdout 2>stderr </dev/null & pid=$!; %s; wait $pid; echo $? >status',
    quote(support.asched), quote(path), quote(dir), table.concat(waits, "; "))
  local cmd = string.format("cd %s && env -u ASCHED_VIRTUAL_TIME -u LUA_INIT -u LUA_INIT_5_4 timeout -s KILL %d sh -c %s",
    quote(dir), support.TIMEOUT, quote(body))
  local _, _, outer = os.execute(cmd)
  local status = tonumber((support.read(dir .. "/status") or ""):match("%d+"))
  local result = {
    status = status or outer,
    stdout = support.read(dir .. "/stdout"),
    stderr = support.read(dir .. "/stderr"),
    script = path,
    dir = dir,
  }
  support.remove(dir)
  return result
end

-- A description of a run for assertion messages.
function support.describe(r)
  return string.format("status %s\n--- stdout\n%s--- stderr\n%s", tostring(r.status),
    r.stdout or "(none)\n", r.stderr or "(none)\n")
end

return support
