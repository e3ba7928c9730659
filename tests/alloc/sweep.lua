-- sweep.lua -- the allocation failure sweep of issue 19, as Lua's own test
-- suite does it. Needs the sanitizer build of asched (-DASCHED_SANITIZE=ON),
-- whose allocator fails allocation N when ASCHED_FAIL_ALLOC=N, and every one
-- from N on when N+ (counting Lua's and libuv's allocations from the moment
-- the script starts; see runtime/host/main.c).
--
--   lua5.4 sweep.lua ASCHED SCRIPT [--all] [--stride K] [--jobs J] [--mode once|onward|both]
--
-- First runs SCRIPT with ASCHED_FAIL_ALLOC=count to learn how many
-- allocations it makes, then runs `ASCHED --virtual-time SCRIPT` for every
-- Kth N in 1..count, failing N alone, N onward, or both (the default), J runs
-- at a time (2). Each run must complete (exit 0, "ok" on stdout) or raise a
-- memory error cleanly (exit 1, "not enough memory" on stderr), with
--   - no ASan, UBSan or LeakSanitizer report, no Lua panic, no signal;
--   - no hang (TIMEOUT seconds);
--   - no handle left open: the program says "a loop was not closed" when
--     libuv still holds memory at exit (uv_loop_close frees its last block;
--     LeakSanitizer alone misses a lost loop that a static handle still
--     points into), and a handle whose memory asched frees only in its close
--     callback shows as a leak.
-- An abort inside libuv itself is counted apart, not as a failure: libuv
-- aborts by design when it cannot grow its own arrays (uv__io_start).
-- Prints a summary, then the failures grouped by cause (the report's kind
-- and top frames, else stderr's first telling line), each group with its
-- N and the first lines of its first run's stderr, and exits 1 if any run
-- failed.
--
-- The default stride keeps a sweep to about MAX_RUNS runs per mode; --all or
-- ASCHED_LONG=1 runs every N.

local MAX_RUNS = 400
local TIMEOUT = 20 -- seconds a run may take

local function usage()
  io.stderr:write("usage: lua5.4 sweep.lua ASCHED SCRIPT [--all] [--stride K] [--jobs J]",
                  " [--mode once|onward|both]\n")
  os.exit(2)
end

local asched, script = arg[1], arg[2]
if not asched or not script then usage() end
local all, stride, jobs, mode = os.getenv("ASCHED_LONG") == "1", nil, 2, "both"
do
  local i = 3
  while arg[i] do
    local a, v = arg[i], arg[i + 1]
    if a == "--all" then all = true
    elseif a == "--stride" and tonumber(v) then stride = math.tointeger(tonumber(v)); i = i + 1
    elseif a == "--jobs" and tonumber(v) then jobs = math.tointeger(tonumber(v)); i = i + 1
    elseif a == "--mode" and (v == "once" or v == "onward" or v == "both") then mode = v; i = i + 1
    else usage() end
    i = i + 1
  end
end
if (stride and stride < 1) or not jobs or jobs < 1 then usage() end

local function quote(s) return "'" .. s:gsub("'", "'\\''") .. "'" end

local tmpdir = os.tmpname()
os.remove(tmpdir)
assert(os.execute("mkdir " .. quote(tmpdir)))

-- The environment of every run. handle_abort: an abort (libuv gives up on
-- ENOMEM that way) gets a stack like any other crash. ASCHED_AUTOJUMP: pending
-- I/O may hold the virtual clock for 2 s of real time, so a slow sanitized
-- TCP round trip does not meet its timeout early.
local ENV = "ASAN_OPTIONS=detect_leaks=1:handle_abort=1:symbolize=1 " ..
            "UBSAN_OPTIONS=print_stacktrace=1 ASCHED_AUTOJUMP=2"

local function command(spec, out, err)
  return string.format("%s ASCHED_FAIL_ALLOC=%s timeout -k 5 %d %s --virtual-time %s >%s 2>%s; echo $?", ENV,
                       spec, TIMEOUT, quote(asched), quote(script), quote(out), quote(err))
end

local function read(path)
  local f = io.open(path, "rb")
  if not f then return "" end
  local s = f:read("a")
  f:close()
  return s
end

-- ---- the count ----

local count
do
  local out, err = tmpdir .. "/count.out", tmpdir .. "/count.err"
  local p = io.popen(command("count", out, err))
  local status = tonumber(p:read("a"))
  p:close()
  count = tonumber(read(err):match("asched: (%d+) allocations"))
  if status ~= 0 or not count or not read(out):find("^ok\n") then
    io.stderr:write("sweep: the script fails without any allocation failing (status ",
                    tostring(status), "):\n", read(out), read(err))
    os.exit(1)
  end
end
if all then stride = 1 end
stride = stride or math.max(1, math.ceil(count / MAX_RUNS))

-- ---- judging a run ----

-- The frames of the first stack in a report, as "function" (or "lib.so+0x..."
-- when unsymbolized) and, for asched's own code, its file and line; without
-- the C library, the sanitizers, Lua (unsymbolized) and the failing
-- allocators. Stops at the first frame of asched's runtime/ or bindings/.
local SKIP = {failing_alloc = true, uv_failing_malloc = true, uv_failing_realloc = true,
              uv_failing_calloc = true}
local function top_frames(err)
  local frames, stack = {}, err:match("\n(    #0 .-)\n\n") or err:match("\n(    #0 .*)") or ""
  for line in stack:gmatch("[^\n]+") do
    local fn, where = line:match("#%d+ 0x%x+ in (%S+) (.*)")
    local lib = line:match("#%d+ 0x%x+%s+%(%S-([%w%.%-_]+%+0x%x+)%)")
    if fn and not fn:find("^__") and not SKIP[fn] and not where:find("libsanitizer") then
      local file = where:match("/(runtime/[%w_]+/[%w_]+%.c:%d+)")
                   or where:match("/(bindings/[%w_]+%.c:%d+)")
      frames[#frames + 1] = file and fn .. " (" .. file .. ")" or fn
      if file and not file:find("^runtime/host/") then break end
    elseif lib and not lib:find("^liblua") and not lib:find("^libc%.") then
      frames[#frames + 1] = lib
    end
    if #frames == 5 then break end
  end
  return frames
end

-- What a failed run died of: the kind of report (a Lua panic, a sanitizer's
-- error, UBSan's runtime error) and its top frames, else stderr's first line.
local function cause(err)
  local kind = err:match("(PANIC: [^\n]*)") or err:match("ERROR: (%w+Sanitizer: [^\n]-) on ")
               or err:match("ERROR: (%w+Sanitizer: [^\n]*)") or err:match("(runtime error: [^\n]*)")
  if not kind then   -- the first line that is not about other tasks
    for line in err:gmatch("[^\n]+") do
      if not line:find("^asched: cancelled pending task") and not line:find("^asched: error in task%-%d+ was")
         and not line:find("^%s") and not line:find("^stack traceback:")
         and not line:find("^not enough memory") then
        return line
      end
    end
    return err:match("[^\n]+") or "(no stderr)"
  end
  local frames = top_frames(err)
  return #frames > 0 and kind .. " in " .. table.concat(frames, " < ") or kind
end

-- Returns "ok", "memory", "libuv" or nil and a cause.
local function judge(status, out, err)
  if status == 124 or status == 137 then return nil, "hang: no exit within " .. TIMEOUT .. " s" end
  if err:find("a loop was not closed", 1, true) then
    return nil, "loop not closed: " .. (err:find("ERROR: %w*Sanitizer") and cause(err) or "no other report")
  end
  if err:find("AddressSanitizer: ABRT") and not err:find("PANIC") and not err:find("Assertion .* failed")
     and (top_frames(err)[1] or ""):find("^libuv") then
    return "libuv"   -- libuv aborts by design when it cannot grow its own arrays
  end
  if err:find("ERROR: %w*Sanitizer") or err:find("runtime error:") or err:find("PANIC")
     or err:find("Assertion .* failed") then
    return nil, cause(err)
  end
  if status > 128 then return nil, "killed by signal " .. (status - 128) end
  if status == 0 then
    if out:find("^ok\n") then return "ok" end
    return nil, "exit 0 without \"ok\": " .. cause(err)
  end
  if status == 1 and err:find("not enough memory", 1, true) then return "memory" end
  return nil, "exit " .. status .. ": " .. cause(err)
end

-- ---- the runs, `jobs` at a time ----

local runs = {}
for n = 1, count, stride do
  if mode ~= "onward" then runs[#runs + 1] = tostring(n) end
  if mode ~= "once" then runs[#runs + 1] = n .. "+" end
end

local outcomes = {ok = 0, memory = 0, libuv = 0}
local failures, causes, order, aborted_in_libuv = {}, {}, {}, {}
local running = {}

local function finish(run)
  local status = tonumber(run.pipe:read("a"))
  run.pipe:close()
  local out, err = read(run.out), read(run.err)
  os.remove(run.out)
  os.remove(run.err)
  local outcome, why = judge(status or -1, out, err)
  if outcome then
    outcomes[outcome] = outcomes[outcome] + 1
    if outcome == "libuv" then aborted_in_libuv[#aborted_in_libuv + 1] = run.spec end
    return
  end
  failures[#failures + 1] = {spec = run.spec, why = why, err = err}
  if not causes[why] then
    causes[why] = {first = #failures}
    order[#order + 1] = why
  end
  table.insert(causes[why], run.spec)
end

local started = os.time()
for i, spec in ipairs(runs) do
  if #running == jobs then finish(table.remove(running, 1)) end
  local out, err = tmpdir .. "/" .. i .. ".out", tmpdir .. "/" .. i .. ".err"
  running[#running + 1] = {spec = spec, out = out, err = err,
                           pipe = io.popen(command(spec, out, err))}
end
for _, run in ipairs(running) do finish(run) end
os.execute("rm -rf " .. quote(tmpdir))

-- ---- the summary ----

print(string.format("%s: %d allocations; %d runs (mode %s, stride %d) in %d s: %d completed, "
                    .. "%d raised a memory error, %d aborted inside libuv (its own policy), "
                    .. "%d failed", script, count, #runs, mode, stride, os.time() - started,
                    outcomes.ok, outcomes.memory, outcomes.libuv, #failures))
if #aborted_in_libuv > 0 then print("aborted inside libuv: N = " .. table.concat(aborted_in_libuv, " ")) end
if #failures == 0 then os.exit(0) end
local cwd = io.popen("pwd"):read("l")
print(string.format("\nreproduce: cd %s && ASCHED_FAIL_ALLOC=N %s %s --virtual-time %s", quote(cwd), ENV,
                    asched, script))
for _, why in ipairs(order) do
  local group = causes[why]
  print(string.format("\n%d failed: %s\n  N = %s", #group, why, table.concat(group, " ")))
  local lines = 0
  for line in failures[group.first].err:gmatch("[^\n]+") do
    if not line:find("^=+$") and not line:find("DEADLYSIGNAL") then
      print("  | " .. line)
      lines = lines + 1
      if lines == 15 then break end
    end
  end
end
os.exit(1)
