-- io_load_spec.lua -- issue 19, load: ten thousand TCP connections to an
-- in-process asched.tcp.listen server, at most 200 at once; a thousand streams
-- whose handler forgot to close them; a thousand asched.process.run children
-- (ASCHED_LONG=1; fewer by default). Some clients and children are cancelled or
-- time out on the way. Afterwards the process has as many open descriptors and
-- as many child processes as before, and no task is left.
--
-- Runs in real time as busted's main task inside asched: busted --lua=asched
-- load/io_load_spec.lua, from tests/ (tests/CMakeLists.txt).
local helpers = require("spec.helpers")
local load = require("load.support")
local tcp = asched.tcp

local SEED = load.seed(19190421)
local CONNECTIONS = load.size(2000, 10000)
local FORGOTTEN = load.size(1000, 1000)
local RUNS = load.size(300, 1000)
local AT_ONCE = 200                     -- connections open at once, at most
local RUNS_AT_ONCE = 16                 -- children running at once, at most
local LIMIT = load.size(60, 300)        -- seconds a phase may take, at most

-- Entries of /proc/self/fd (the one list_dir reads it through counts in every
-- reading alike).
local function open_fds() return #asched.fs.list_dir("/proc/self/fd") end

local PID = tonumber(asched.fs.read_file("/proc/self/stat"):match("^(%d+)"))

-- Processes whose parent is this one, zombies included: every entry of /proc
-- whose stat names PID as its parent (field 4, after the parenthesised name).
local function children()
  local n = 0
  for _, name in ipairs(asched.fs.list_dir("/proc")) do
    if name:match("^%d+$") then
      local ok, stat = pcall(asched.fs.read_file, "/proc/" .. name .. "/stat")
      local ppid = ok and tonumber(stat:match("%) %S+ (%d+)"))
      if ppid == PID then n = n + 1 end
    end
  end
  return n
end

-- Waits up to `seconds` of real time for `count()` to come back to `want`;
-- returns the last count. (Closes and reaps finish on later loop turns.)
local function settles_to(want, count, seconds)
  local deadline, n = asched.now() + (seconds or 10), count()
  while n ~= want and asched.now() < deadline do
    asched.sleep(0.01)
    n = count()
  end
  return n
end

-- libuv keeps one descriptor per loop in reserve (on /dev/null, for when
-- accept() runs out of them), opened with the loop's first stream: open it
-- before counting.
local function warm_up()
  local server <close> = tcp.listen("127.0.0.1", 0, function() end)
  local c <close> = tcp.connect("127.0.0.1", server.port)
  collectgarbage()
  collectgarbage()
  asched.sleep(0.01)
end

-- No task of the run is left behind once it is over, nor anything else on the
-- Lua heap (`heap`: load.heap_kb() before the run). The runs here are ten times
-- smaller than the sync ones, so the slack is too: a finished task kept per
-- connection would leave some 300 KB (these runs leave about 50).
local function assert_no_task_left(heap)
  assert.equals(0, #asched.all_tasks() - 1, "tasks left pending after the run")
  load.assert_heap_back(heap, 200)
end

-- Runs fn(i) for i = 1..n in tasks of one group, at most `at_once` at a time,
-- all within LIMIT seconds.
local function bounded(n, at_once, fn)
  local slots = asched.semaphore(at_once)
  asched.timeout(LIMIT, asched.task_group, function(tg)
    for i = 1, n do
      local permit = slots:acquire()
      tg:spawn(function()
        local release <close> = permit
        return fn(i)
      end)
    end
  end)
end

describe("load: TCP", function()
  after_each(helpers.cancel_leftovers)

  it(CONNECTIONS .. " connections, at most " .. AT_ONCE .. " at once, some cancelled: every descriptor comes back", function()
    math.randomseed(SEED)
    warm_up()
    local heap, fds_before = load.heap_kb(), open_fds()
    local count = load.tally()
    local v = load.violations()
    local server = tcp.listen("127.0.0.1", 0, function(s)
      count.handlers = count.handlers + 1
      local ok, line = pcall(s.read_line, s)
      if not ok or line == nil then            -- a client cancelled while connecting
        count["handler saw no line"] = count["handler saw no line"] + 1
      elseif line == "slow" then               -- no answer: the client gives up and closes
        local ok2, rest = pcall(s.read_line, s)
        if ok2 and rest ~= nil then v.add("a slow client sent %q", rest) end
        count["handler saw the slow client go"] = count["handler saw the slow client go"] + 1
      else
        s:write(line .. "\n")
      end
      if math.random() < 0.5 then s:close() end   -- the other half forget
    end)
    bounded(CONNECTIONS, AT_ONCE, function(i)
      local x = math.random()
      if x < 0.05 then                           -- cancelled at once, in connect
        local finished = asched.move_on_after(0, function()
          local c <close> = tcp.connect("127.0.0.1", server.port)
        end)
        count[finished and "connected before the deadline" or "cancelled in connect"] =
          count[finished and "connected before the deadline" or "cancelled in connect"] + 1
      elseif x < 0.10 then                       -- cancelled while reading
        local c <close> = tcp.connect("127.0.0.1", server.port)
        c:write("slow\n")
        local finished = asched.move_on_after(0.005, c.read_line, c)
        if finished then v.add("a slow client got an answer") end
        count["cancelled in read"] = count["cancelled in read"] + 1
      else
        local c <close> = tcp.connect("127.0.0.1", server.port)
        c:write(i .. "\n")
        local line = c:read_line()
        if line ~= tostring(i) then v.add("client %d got %q", i, tostring(line)) end
        count.answered = count.answered + 1
      end
    end)
    server:close()
    -- The handlers of the slow clients end once they see the close.
    settles_to(count["cancelled in read"], function() return count["handler saw the slow client go"] end)
    v.assert_none("connections")
    assert.equals(CONNECTIONS, count.answered + count["cancelled in read"] + count["cancelled in connect"]
                  + count["connected before the deadline"], "clients counted")
    assert.is_true(count.answered > CONNECTIONS * 0.8)
    assert.equals(count["cancelled in read"], count["handler saw the slow client go"])
    assert.equals(fds_before, settles_to(fds_before, open_fds), "open descriptors")
    assert_no_task_left(heap)
    io.stdout:write(string.format("\ntcp: %d connections; %s\n", CONNECTIONS,
                    (function() local t = {} for k, n in pairs(count) do t[#t + 1] = k .. " " .. n end
                      table.sort(t) return table.concat(t, ", ") end)()))
  end)

  it(FORGOTTEN .. " streams a handler forgot to close hold no descriptor once the handler returned", function()
    warm_up()
    local heap, fds_before = load.heap_kb(), open_fds()
    local count = load.tally()
    local late = {}
    collectgarbage("stop")                       -- no help from the collector
    local server = tcp.listen("127.0.0.1", 0, function(s)
      local kind = s:read_line()
      if kind == "returns first" then
        s:write("hi\n")                        -- and returns, the peer still open
      elseif kind == "peer closes first" then
        local rest = s:read_line()             -- nil once the peer closed
        if rest == nil then count["saw the peer close"] = count["saw the peer close"] + 1 end
      elseif kind == "fails" then
        s:write("hi\n")
        error("a planted handler failure, reported on stderr: its stream closes all the same")
      end
      count.handlers = count.handlers + 1
      if #late < 10 then late[#late + 1] = s end   -- kept: using it later gives EBADF
    end)
    local expected = load.tally()
    local ok, err = pcall(bounded, FORGOTTEN, AT_ONCE, function(i)
      -- A few handlers fail (each failure is reported on stderr, as it should be).
      local kind = i % 250 == 0 and "fails" or i % 2 == 0 and "returns first" or "peer closes first"
      expected[kind] = expected[kind] + 1
      local c <close> = tcp.connect("127.0.0.1", server.port)
      c:write(kind .. "\n")
      if kind ~= "peer closes first" then
        local line = c:read_line()
        if line ~= "hi" then error("got " .. tostring(line)) end
        if kind == "returns first" then
          local eof = c:read() == nil          -- (suspends: read it before the count)
          if eof then count["peer saw the close"] = count["peer saw the close"] + 1 end
        end
      end
    end)
    server:close()
    local fds_after = settles_to(fds_before, open_fds)
    collectgarbage("restart")
    assert(ok, tostring(err))
    assert.equals(fds_before, fds_after, "open descriptors, with the collector stopped")
    for _, s in ipairs(late) do
      local used, e = pcall(s.write, s, "late")
      assert.is_false(used)
      assert.equals("EBADF", e.code)
    end
    assert.equals(FORGOTTEN - expected.fails, count.handlers)
    assert.equals(expected["peer closes first"], count["saw the peer close"])
    assert.equals(expected["returns first"], count["peer saw the close"])
    assert_no_task_left(heap)
  end)
end)

describe("load: processes", function()
  after_each(helpers.cancel_leftovers)

  it(RUNS .. " process.run children, some cancelled or timed out: descriptors and children come back", function()
    math.randomseed(SEED)
    local heap = load.heap_kb()
    local fds_before, children_before = open_fds(), children()
    local count = load.tally()
    local v = load.violations()
    bounded(RUNS, RUNS_AT_ONCE, function(i)
      local x = math.random()
      if x < 0.05 then                           -- killed by its own timeout
        local ok, err = pcall(asched.process.run, {"sleep", "10"}, {timeout = 0.01})
        if ok or load.error_name(err) ~= "TimeoutError" then v.add("sleep 10 under a timeout: %s", tostring(err)) end
        count["timed out"] = count["timed out"] + 1
      elseif x < 0.10 then                       -- its caller cancelled
        local finished = asched.move_on_after(0.01, asched.process.run, {"sleep", "10"})
        if finished then v.add("sleep 10 finished within 0.01 s") end
        count.cancelled = count.cancelled + 1
      elseif x < 0.20 then
        local r = asched.process.run({"sh", "-c", "exit 3"})
        if r.code ~= 3 then v.add("exit 3 gave code %s", tostring(r.code)) end
        count["exit 3"] = count["exit 3"] + 1
      elseif x < 0.30 then
        local r = asched.process.run({"cat"}, {stdin = "in " .. i})
        if r.stdout ~= "in " .. i then v.add("cat gave %q", r.stdout) end
        count.cat = count.cat + 1
      elseif x < 0.40 then
        local r = asched.process.run({"true"})
        if r.code ~= 0 then v.add("true gave code %s", tostring(r.code)) end
        count["true"] = count["true"] + 1
      else
        local r = asched.process.run({"echo", tostring(i)})
        if r.stdout ~= i .. "\n" or r.code ~= 0 then v.add("echo %d gave %q, code %s", i, r.stdout, tostring(r.code)) end
        count.echo = count.echo + 1
      end
    end)
    v.assert_none("runs")
    assert.equals(RUNS, load.sum(count), "runs counted")
    assert.equals(children_before, settles_to(children_before, children), "child processes")
    assert.equals(fds_before, settles_to(fds_before, open_fds), "open descriptors")
    assert_no_task_left(heap)
    io.stdout:write(string.format("\nprocesses: %d runs; timed out %d, cancelled %d, others %d\n", RUNS,
                                  count["timed out"], count.cancelled, RUNS - count["timed out"] - count.cancelled))
  end)
end)
