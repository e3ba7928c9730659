-- --timeline (lanes on stderr, or an SVG file) and --trace (Chrome Trace
-- Event JSON for Perfetto): under the virtual clock both are deterministic.
local here = debug.getinfo(1, "S").source:match("^@(.-)[^/]*$")
local support = dofile(here .. "support.lua")
local json = dofile(here .. "json.lua")

local SMALL = support.read(here .. "golden/timeline_small.lua")

-- The timeline's lines in stderr (from its header on).
local function timeline_of(stderr)
  return stderr:match("(asched timeline: .*)$")
end

-- A script that waits on every kind of thing a lane can show.
local EVERY_WAIT = [[
local lock, ev, q, cond = asched.lock(), asched.event(), asched.queue(1), asched.condition()
local holder = asched.spawn(function() local g <close> = lock:acquire(); asched.sleep(1) end)
local locker = asched.spawn(function() asched.sleep(0.1); local g <close> = lock:acquire() end)
local waiter = asched.spawn(function() ev:wait() end)
local getter = asched.spawn(function() q:get() end)
local notified = asched.spawn(function() cond:acquire(); cond:wait(); cond:release() end)
local failing = asched.spawn(function() asched.sleep(0.5); error("boom") end)
local forever = asched.spawn(function() asched.sleep(1e6) end)
local awaiter = asched.spawn(function() holder:await() end)
asched.sleep(2)
ev:set(); q:put(1)
cond:acquire(); cond:notify(); cond:release()
asched.to_thread(function() return 1 end)
asched.gather({holder, locker, waiter, getter, notified, awaiter})
pcall(failing.await, failing)
forever:cancel()
pcall(forever.await, forever)
]]

describe("--timeline", function()
  it("draws the golden lanes of a small script", function()
    local r = support.run({options = {"--virtual-time", "--timeline"}, script = SMALL, env = {COLUMNS = "60"}})
    assert.equal(0, r.status, support.describe(r))
    assert.equal("3\n", r.stdout)
    assert.equal(support.read(here .. "golden/timeline_small.txt"), r.stderr)
  end)

  it("draws nothing without the option", function()
    local r = support.run({options = {"--virtual-time"}, script = SMALL})
    assert.equal(0, r.status, support.describe(r))
    assert.is_nil(timeline_of(r.stderr))
  end)

  it("has a glyph and a legend entry for every kind of wait and every ending", function()
    local r = support.run({options = {"--virtual-time", "--timeline"}, script = EVERY_WAIT})
    assert.equal(0, r.status, support.describe(r))
    local legend = assert(r.stderr:match("legend: ([^\n]*)"), support.describe(r))
    -- (ready, "+", takes no virtual time: it shows under real time only)
    for _, entry in ipairs({"# running", "= awaiting a task", "L lock", "e event",
                            "q queue", "c condition", ". sleeping", "| done", "X failed",
                            "C cancelled"}) do
      assert.matches(entry, legend, 1, true)
    end
    -- the lock waiter's lane: it sleeps, waits on the lock, and ends when
    -- the holder lets go at t = 1
    assert.matches("\ntask%-3 +|#%.+#L+| +done\n", r.stderr)
  end)

  it("draws every lane to the same width, one per task in spawn order", function()
    local r = support.run({options = {"--virtual-time", "--timeline"}, script = EVERY_WAIT, env = {COLUMNS = "80"}})
    local lanes, width = {}, nil
    for name, cells in r.stderr:gmatch("\n(task%-%d+) +(|[^\n]-)  %a+") do
      lanes[#lanes + 1] = name
      width = width or #cells
      assert.equal(width, #cells)
    end
    assert.same({"task-1", "task-2", "task-3", "task-4", "task-5", "task-6", "task-7", "task-8",
                 "task-9"}, lanes)
  end)

  it("folds the lanes of 200 tasks into a readable picture and says so", function()
    local script = [[
local tasks = {}
for i = 1, 200 do tasks[i] = asched.spawn(asched.sleep, i / 100) end
asched.gather(tasks)
]]
    local r = support.run({options = {"--virtual-time", "--timeline"}, script = script})
    assert.equal(0, r.status, support.describe(r))
    local text = assert(timeline_of(r.stderr), support.describe(r))
    assert.is_true(#support.lines(text) <= 46, "too many lines: " .. #support.lines(text))
    assert.matches("+162 more", text, 1, true)
    assert.matches("162 tasks past the first 39 are folded into the last lane", text, 1, true)
    assert.matches("162 done", text, 1, true)
  end)

  it("writes an SVG picture with =FILE.svg instead of drawing on stderr", function()
    local r = support.run({options = {"--virtual-time", "--timeline=out.svg"}, script = SMALL, keep = true})
    assert.equal(0, r.status, support.describe(r))
    assert.is_nil(timeline_of(r.stderr))
    local svg = assert(support.read(r.dir .. "/out.svg"))
    support.remove(r.dir)
    assert.matches("^<svg xmlns=\"http://www.w3.org/2000/svg\"", svg)
    assert.matches("</svg>\n$", svg)
    for _, name in ipairs({"task-1", "task-2", "fetch-2", "task-4"}) do
      assert.matches(">" .. name:gsub("%p", "%%%0") .. "</text>", svg)
    end
    -- well formed enough for a browser: every element opened is closed
    local opened = select(2, svg:gsub("<%a[^>]-[^/]>", "")) + select(2, svg:gsub("<%a>", ""))
    local closed = select(2, svg:gsub("</%a+>", ""))
    assert.equal(opened, closed)
  end)
end)

-- Reads the trace written by a run of `script` and checks it against the
-- Trace Event format's rules that Perfetto enforces.
local function trace_of(script, options)
  local opts = options or {"--virtual-time"}
  opts[#opts + 1] = "--trace"
  opts[#opts + 1] = "trace.json"
  local r = support.run({options = opts, script = script, keep = true})
  local text = support.read(r.dir .. "/trace.json")
  support.remove(r.dir)
  assert.equal(0, r.status, support.describe(r))
  local trace = json.decode(assert(text, "no trace.json written"))
  assert.is_table(trace.traceEvents)
  for _, e in ipairs(trace.traceEvents) do
    assert.is_string(e.name)
    assert.is_number(e.pid)
    assert.is_number(e.tid)
    assert.truthy(({M = 1, X = 1, i = 1, s = 1, f = 1})[e.ph], "unexpected phase " .. tostring(e.ph))
    if e.ph ~= "M" then assert.is_true(e.ts >= 0) end
    if e.ph == "X" then assert.is_true(e.dur >= 0) end
  end
  return trace.traceEvents
end

describe("--trace FILE", function()
  it("writes Trace Event JSON with one named track per task", function()
    local events = trace_of(SMALL)
    local names = {}
    for _, e in ipairs(events) do
      if e.ph == "M" and e.name == "thread_name" then names[e.tid] = e.args.name end
    end
    assert.same({[1] = "task-1", [2] = "task-2", [3] = "fetch-2", [4] = "task-4"}, names)
  end)

  it("never overlaps two slices on one track", function()
    local by_track = {}
    for _, e in ipairs(trace_of(EVERY_WAIT)) do
      if e.ph == "X" then
        by_track[e.tid] = by_track[e.tid] or {}
        table.insert(by_track[e.tid], e)
      end
    end
    local tracks = 0
    for _, slices in pairs(by_track) do
      tracks = tracks + 1
      -- a zero-length slice (a turn under virtual time) sorts before a
      -- longer one starting at the same instant
      table.sort(slices, function(a, b) return a.ts < b.ts or (a.ts == b.ts and a.dur < b.dur) end)
      for i = 2, #slices do
        assert.is_true(slices[i].ts >= slices[i - 1].ts + slices[i - 1].dur - 1e-6)
      end
    end
    assert.equal(9, tracks)
  end)

  it("marks how each task ended", function()
    local endings = {}
    for _, e in ipairs(trace_of(EVERY_WAIT)) do
      if e.ph == "i" then endings[e.tid] = e.name end
    end
    assert.equal("failed", endings[7])
    assert.equal("cancelled", endings[8])
    assert.equal("done", endings[1])
  end)

  it("draws an arrow from the task that woke another: a release, a finished task", function()
    local starts, ends, finished = {}, {}, false
    for _, e in ipairs(trace_of(EVERY_WAIT)) do
      if e.ph == "s" then starts[e.id] = e end
      if e.ph == "f" then ends[e.id] = e end
    end
    local found = false
    for id, s in pairs(starts) do
      local f = assert(ends[id], "flow " .. id .. " has no end")
      assert.equal("e", f.bp)
      assert.is_true(f.ts >= s.ts)
      if s.tid == 2 and f.tid == 3 then found = true end   -- holder releases, locker acquires
      if s.tid == 2 and f.tid == 9 then finished = true end -- holder ends, its awaiter goes on
    end
    assert.is_true(found, "no arrow from the lock holder to the waiting task")
    assert.is_true(finished, "no arrow from a finished task to the task awaiting it")
  end)

  it("reports a file it cannot write, and the run still succeeds", function()
    local r = support.run({options = {"--trace", "/nonexistent/dir/trace.json"}, script = "print('ran')"})
    assert.equal(0, r.status, support.describe(r))
    assert.equal("ran\n", r.stdout)
    assert.matches("asched: timeline: /nonexistent/dir/trace.json: No such file or directory", r.stderr, 1, true)
  end)

  it("needs a file name", function()
    local r = support.run({options = {"--trace"}, no_script = true})
    assert.equal(1, r.status, support.describe(r))
    assert.matches("asched: '--trace' needs a file name", r.stderr, 1, true)
  end)
end)
