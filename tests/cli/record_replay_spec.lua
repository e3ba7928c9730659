-- --record FILE and --replay FILE: a run's scheduling decisions written as
-- JSON lines, then forced on a later run of the same script; a script that
-- takes another path stops with the first divergent step.
local support = dofile(debug.getinfo(1, "S").source:match("^@(.-)[^/]*$") .. "support.lua")
local json = dofile(debug.getinfo(1, "S").source:match("^@(.-)[^/]*$") .. "json.lua")

-- Four named workers append to one list, yielding between appends: the
-- final order is whatever order the scheduler resumed them in.
local function racy(names, extra)
  return ([[
local asched = require("asched")
local out = {}
local function worker(name)
  for i = 1, 3 do
    out[#out + 1] = name .. i
    asched.sleep(0)
    %s
  end
end
local tasks = {}
for _, n in ipairs({%s}) do
  local t = asched.spawn(worker, n)
  t.name = n
  tasks[#tasks + 1] = t
end
for _, t in ipairs(tasks) do t:await() end
print(table.concat(out, " "))
]]):format(extra or "", names or '"a", "b", "c", "d"')
end

-- Sleeps of equal deadlines: under virtual time they all wake at once.
local SLEEPERS = [[
local asched = require("asched")
local out = {}
local function worker(name)
  for i = 1, 3 do
    asched.sleep(1)
    out[#out + 1] = name .. i .. "@" .. asched.now()
  end
end
local tasks = {}
for _, n in ipairs({"a", "b", "c", "d"}) do tasks[#tasks + 1] = asched.spawn(worker, n) end
for _, t in ipairs(tasks) do t:await() end
print(table.concat(out, " "))
]]

local dir

before_each(function() dir = support.tmpdir() end)
after_each(function() support.remove(dir) end)

local function run(script, options)
  local r = support.run({script = script, options = options})
  return r
end

-- A seed whose order differs from FIFO's, recorded in dir/rec.jsonl.
local function record_racy(script, extra_options)
  local base = {}
  for _, o in ipairs(extra_options or {}) do base[#base + 1] = o end
  local fifo = run(script, base).stdout
  for seed = 1, 50 do
    local options = {"--seed", tostring(seed), "--record", dir .. "/rec.jsonl"}
    for _, o in ipairs(base) do options[#options + 1] = o end
    local r = run(script, options)
    assert.equal(0, r.status, support.describe(r))
    if r.stdout ~= fifo then return r.stdout, fifo, seed end
  end
  error("no seed changed the order")
end

describe("--record", function()
  it("writes a header, then one JSON line per decision with the task, its name and why it ran", function()
    record_racy(racy())
    local lines = support.lines(support.read(dir .. "/rec.jsonl"))
    local header = json.decode(lines[1])
    assert.equal(1, header.asched_record)
    assert.is_number(header.seed)
    assert.equal(false, header.virtual)
    assert.matches("script.lua$", header.script)
    local resumes, reasons = 0, {}
    for k = 2, #lines do
      local e = json.decode(lines[k])
      assert.equal(k - 1, e.step)
      if e.event == "resume" then
        resumes = resumes + 1
        assert.is_number(e.task)
        reasons[e.reason] = true
      end
    end
    assert.equal(#lines - 1, resumes)   -- no timer, no I/O in this script
    assert.is_true(reasons.spawn and reasons.yield and reasons.ready)
  end)

  it("records each timer firing under --virtual-time", function()
    record_racy(SLEEPERS, {"--virtual-time"})
    local text = support.read(dir .. "/rec.jsonl")
    local _, timers = text:gsub('"event":"timer"', "")
    assert.equal(12, timers)
    assert.matches('"virtual":true', support.lines(text)[1], 1, true)
  end)

  it("records a thread's completion and the task it wakes", function()
    local script = [[
local asched = require("asched")
local a = asched.spawn(function() return asched.fs.read_file(arg[0]) end)
local b = asched.spawn(function() for _ = 1, 3 do asched.sleep(0) end return "b" end)
print(#a:await() > 0, b:await())
]]
    local r = run(script, {"--record", dir .. "/rec.jsonl"})
    assert.equal(0, r.status, support.describe(r))
    local text = support.read(dir .. "/rec.jsonl")
    assert.matches('"event":"io","op":"reading a file","task":2', text, 1, true)
    for _ = 1, 5 do
      local again = run(script, {"--replay", dir .. "/rec.jsonl"})
      assert.equal(0, again.status, support.describe(again))
      assert.equal(r.stdout, again.stdout)
    end
  end)
end)

describe("--replay", function()
  it("needs a meaningful test: different seeds give different orders", function()
    local seen, distinct = {}, 0
    for seed = 1, 8 do
      local out = run(racy(), {"--seed", tostring(seed)}).stdout
      if not seen[out] then seen[out], distinct = true, distinct + 1 end
    end
    assert.is_true(distinct >= 3, "only " .. distinct .. " orders")
  end)

  it("resumes the tasks of a seeded racy run in the recorded order, every time", function()
    local recorded, fifo = record_racy(racy())
    assert.are_not.equal(fifo, recorded)
    for k = 1, 20 do
      -- with no seed, or another one: the record decides
      local options = {"--replay", dir .. "/rec.jsonl"}
      if k % 2 == 0 then options[3], options[4] = "--seed", tostring(1000 + k) end
      local r = run(racy(), options)
      assert.equal(0, r.status, support.describe(r))
      assert.equal(recorded, r.stdout)
    end
  end)

  it("fires equal-deadline timers and resumes their tasks in the recorded order under --virtual-time", function()
    local recorded, fifo = record_racy(SLEEPERS, {"--virtual-time"})
    assert.are_not.equal(fifo, recorded)
    for _ = 1, 5 do
      local r = run(SLEEPERS, {"--virtual-time", "--replay", dir .. "/rec.jsonl"})
      assert.equal(0, r.status, support.describe(r))
      assert.equal(recorded, r.stdout)
    end
  end)

  it("draws the recorded run's replay page when it runs with --timeline=FILE.html", function()
    -- The page's data, with the run's own folder (in each wait's line) named DIR.
    local function page_data(options)
      local r = support.run({script = SLEEPERS, options = options, keep = true})
      local html = support.read(dir .. "/page.html")
      support.remove(r.dir)
      assert.equal(0, r.status, support.describe(r))
      local data = assert(html:match("\nvar D=(.-);\n%(function%(%)"), "no data in the page")
      return (data:gsub(r.dir:gsub("%p", "%%%0"), "DIR"))
    end
    local page = "--timeline=" .. dir .. "/page.html"
    local fifo = page_data({"--virtual-time", page})
    local recorded
    for seed = 1, 50 do
      recorded = page_data({"--virtual-time", "--seed", tostring(seed), "--record", dir .. "/rec.jsonl", page})
      if recorded ~= fifo then break end
    end
    assert.are_not.equal(fifo, recorded)
    assert.equal(recorded, page_data({"--virtual-time", "--replay", dir .. "/rec.jsonl", page}))
  end)

  it("stops at the first divergent step when two spawns are swapped", function()
    record_racy(racy())
    local r = run(racy('"b", "a", "c", "d"'), {"--replay", dir .. "/rec.jsonl"})
    assert.equal(1, r.status, support.describe(r))
    assert.equal("", r.stdout)
    -- task-2 is a, task-3 is b in the record; swapped, task-2 is b
    assert.matches("^asched: replay diverged at step %d+: expected task%-%d %(%a%) to resume, " ..
                   "got task%-%d %(%a%) to resume at .-script%.lua:%d+\n", r.stderr)
    local expected, got = r.stderr:match("expected task%-%d+ %((%a)%).-got task%-%d+ %((%a)%)")
    assert.are_not.equal(expected, got)
  end)

  it("stops when the edited script runs longer than the record", function()
    record_racy(racy())
    local r = run(racy(nil, 'if name == "c" then asched.sleep(0) end'), {"--replay", dir .. "/rec.jsonl"})
    assert.equal(1, r.status, support.describe(r))
    assert.matches("^asched: replay diverged at step 1[89]: expected the script to end, got task%-%d %(c%) " ..
                   "to resume at .-script%.lua:%d+\n", r.stderr)
  end)

  it("stops when the edited script ends before the record", function()
    record_racy(racy())
    local r = run(racy('"a", "b", "c"'), {"--replay", dir .. "/rec.jsonl"})
    assert.equal(1, r.status, support.describe(r))
    assert.matches("^asched: replay diverged at step %d+: expected task%-%d %(%a%) to resume, got ", r.stderr)
  end)

  it("stops when a timer the record fired is not set", function()
    record_racy(SLEEPERS, {"--virtual-time"})
    local edited = SLEEPERS:gsub("asched.sleep%(1%)", "asched.sleep(0)")
    local r = run(edited, {"--virtual-time", "--replay", dir .. "/rec.jsonl"})
    assert.equal(1, r.status, support.describe(r))
    assert.matches("^asched: replay diverged at step %d+: expected the timer of task%-%d to fire, got ", r.stderr)
  end)

  it("refuses a record made under another clock", function()
    record_racy(SLEEPERS, {"--virtual-time"})
    local r = run(SLEEPERS, {"--replay", dir .. "/rec.jsonl"})
    assert.equal(1, r.status, support.describe(r))
    assert.matches("recorded under --virtual-time: replay it with --virtual-time", r.stderr, 1, true)
  end)

  it("says clearly that a malformed record is malformed, and where", function()
    local cases = {
      {"", "rec.jsonl:1: malformed record: the file is empty"},
      {"hello\n", "rec.jsonl:1: malformed record: not a JSON object"},
      {'{"step":1}\n', "rec.jsonl:1: malformed record: not an asched record"},
      {'{"asched_record":1,"virtual":false}\n{"step":1,"event":"resume" "task":1}\n',
       "rec.jsonl:2: malformed record: not a JSON object"},
      {'{"asched_record":1,"virtual":false}\n{"step":2,"event":"resume","task":1}\n',
       "rec.jsonl:2: malformed record: steps must count 1, 2, 3... in order"},
      {'{"asched_record":1,"virtual":false}\n{"step":1,"event":"jump","task":1}\n',
       "rec.jsonl:2: malformed record: unknown \"event\""},
    }
    for _, case in ipairs(cases) do
      support.write(dir .. "/rec.jsonl", case[1])
      local r = run(racy(), {"--replay", dir .. "/rec.jsonl"})
      assert.equal(1, r.status, support.describe(r))
      assert.equal("", r.stdout)
      assert.matches("^asched: %-%-replay: " .. dir:gsub("%p", "%%%0") .. "/", r.stderr)
      assert.matches(case[2], r.stderr, 1, true)
    end
  end)

  it("says so when the record cannot be read", function()
    local r = run(racy(), {"--replay", dir .. "/missing.jsonl"})
    assert.equal(1, r.status, support.describe(r))
    assert.matches("asched: --replay: cannot open " .. dir .. "/missing.jsonl", r.stderr, 1, true)
  end)

  it("is refused together with --record", function()
    local r = run(racy(), {"--record", dir .. "/a.jsonl", "--replay", dir .. "/b.jsonl"})
    assert.equal(1, r.status, support.describe(r))
    assert.matches("asched: --record and --replay cannot be used together", r.stderr, 1, true)
    assert.equal("", r.stdout)
  end)

  it("needs a file name", function()
    local r = support.run({no_script = true, options = {"--replay"}})
    assert.equal(1, r.status, support.describe(r))
    assert.matches("'--replay' needs a file name", r.stderr, 1, true)
  end)
end)
