-- asched --step: the script runs one scheduler step at a time; each step
-- prints which task resumed, why it was woken, how long it ran and where it
-- now waits, then waits for a key (a line when stdin is not a terminal):
-- Enter steps, c continues, q quits as Ctrl-C does.
local here = debug.getinfo(1, "S").source:match("^@(.-)[^/]*$")
local support = dofile(here .. "support.lua")
local quote = support.quote

-- A worker pool on a semaphore, a producer and a consumer on a queue, and a
-- main task whose <close> cleanup says when it ran.
local SCRIPT = [[
local sem = asched.semaphore(1)
local q = asched.queue()
local function worker(n)
  sem:acquire()
  asched.sleep(0.5)
  sem:release()
  print("worker " .. n .. " done")
end
local function consumer()
  local item = q:get()
  print("got " .. item)
end
local function producer()
  asched.sleep(0.25)
  q:put("x")
end
local a = asched.spawn(worker, 1)
local b = asched.spawn(worker, 2)
local c = asched.spawn(consumer)
local p = asched.spawn(producer)
p.name = "producer"
local guard <close> = setmetatable({}, {__close = function() print("cleanup ran") end})
asched.sleep(0.1)
asched.gather({a, b, c, p})
print("all done")
]]

local NORMAL = "got x\nworker 1 done\nworker 2 done\nall done\ncleanup ran\n"

local function step(stdin, options)
  local opts = {"--step", "--virtual-time"}
  for _, o in ipairs(options or {}) do opts[#opts + 1] = o end
  return support.run({script = SCRIPT, options = opts, stdin = stdin})
end

-- The step lines of a run, by step number.
local function steps(stdout)
  local found = {}
  for n, line in stdout:gmatch("\n%[(%d+)%] ([^\n]*)") do found[tonumber(n)] = line end
  return found
end

-- The output without the stepper's lines.
local function script_output(stdout)
  local kept = {}
  for line in stdout:gmatch("[^\n]*\n") do
    if not line:match("^%[%d+%] ") and not line:match("^asched %-%-step:") then kept[#kept + 1] = line end
  end
  return table.concat(kept)
end

describe("asched --step", function()
  it("says which task resumed, why it was woken, and where it now waits", function()
    local r = step(("\n"):rep(40))
    assert.equal(0, r.status, support.describe(r))
    local s = steps(r.stdout)
    assert.matches("^task%-1 resumed %(started by the run%), ran [%d.]+ ms, now waits at [^ ]*script%.lua:23: sleeping until 0%.100 s$", s[1])
    assert.matches("^task%-2 resumed %(spawned by task%-1%), ran [%d.]+ ms, now waits at [^ ]*script%.lua:5: sleeping until 0%.500 s$", s[2])
    assert.matches("^task%-3 resumed %(spawned by task%-1%), ran [%d.]+ ms, now waits at [^ ]*script%.lua:4: waiting on semaphore$", s[3])
    assert.matches("^task%-4 resumed %(spawned by task%-1%), ran [%d.]+ ms, now waits at [^ ]*script%.lua:10: waiting on queue get$", s[4])
    assert.matches("^task%-5 %(producer%) resumed %(spawned by task%-1%), .*now waits at [^ ]*script%.lua:14: sleeping until 0%.250 s$", s[5])
    assert.matches("^task%-1 resumed %(woken by a timer of 0%.1 s%), .*now waits at [^ ]*script%.lua:24: waiting on 4 of 4 tasks$", s[6])
    assert.matches("^task%-5 %(producer%) resumed %(woken by a timer of 0%.25 s%), .*, finished$", s[7])
    assert.matches("^task%-4 resumed %(woken by a queue put by task%-5 %(producer%)%), .*, finished$", s[8])
    assert.matches("^task%-2 resumed %(woken by a timer of 0%.5 s%), .*, finished$", s[9])
    assert.matches("^task%-3 resumed %(woken by a release of the semaphore by task%-2%), .*now waits at [^ ]*script%.lua:5: sleeping until 1%.000 s$", s[10])
    assert.matches("^task%-1 resumed %(woken by the end of task%-3%), .*, finished$", s[12])
    assert.is_nil(s[13])
    assert.equal(NORMAL, script_output(r.stdout))
  end)

  it("prints each step's line after what the step printed, and stops before the first step", function()
    local r = step(("\n"):rep(40))
    local out = r.stdout
    assert.equal(1, support.line_of(out, "asched --step: Enter steps once, c continues, q quits"))
    assert.is_true(support.line_of(out, "got x") < support.line_of(out, "[8] task-4"))
    assert.is_true(support.line_of(out, "[7] task-5") < support.line_of(out, "got x"))
  end)

  it("continues without stopping or printing after c, and the script's output is whole", function()
    local r = step("\n\nc\n")
    assert.equal(0, r.status, support.describe(r))
    local s = steps(r.stdout)
    assert.truthy(s[2])
    assert.is_nil(s[3])
    assert.equal(NORMAL, script_output(r.stdout))
  end)

  it("continues at the end of stdin", function()
    local r = step("\n")
    assert.equal(0, r.status, support.describe(r))
    assert.truthy(steps(r.stdout)[1])
    assert.is_nil(steps(r.stdout)[2])
    assert.equal(NORMAL, script_output(r.stdout))
  end)

  it("quits on q as Ctrl-C does: the main task is cancelled, its cleanup runs, status 130", function()
    local r = step("\n\n\n\n\n\nq\n")
    assert.equal(130, r.status, support.describe(r))
    assert.truthy(steps(r.stdout)[6])
    assert.is_nil(steps(r.stdout)[7])
    assert.equal("cleanup ran\n", script_output(r.stdout))
    assert.equal("asched: interrupted\n", r.stderr)
  end)

  it("quits before the first step on q", function()
    local r = step("q\n")
    assert.equal(130, r.status, support.describe(r))
    assert.is_nil(steps(r.stdout)[1])
    assert.equal("", script_output(r.stdout))
  end)

  it("steps in the order --seed draws", function()
    local fifo = steps(step(("\n"):rep(40)).stdout)
    local differs = false
    for seed = 1, 10 do
      local s = steps(step(("\n"):rep(40), {"--seed", tostring(seed)}).stdout)
      for i = 2, 5 do
        if s[i]:match("^(%S+)") ~= fifo[i]:match("^(%S+)") then differs = true end
      end
      if differs then break end
    end
    assert.is_true(differs, "no seed of 1..10 changed the order of the spawned tasks")
  end)

  it("steps through a replay in its recorded order", function()
    local dir = support.tmpdir()
    local rec = dir .. "/rec.jsonl"
    local recorded = support.run({script = SCRIPT, options = {"--virtual-time", "--seed", "3", "--record", rec}})
    assert.equal(0, recorded.status, support.describe(recorded))
    local replayed = step(("\n"):rep(40), {"--replay", rec})
    assert.equal(0, replayed.status, support.describe(replayed))
    local seeded = step(("\n"):rep(40), {"--seed", "3"})
    assert.same(steps(seeded.stdout)[3]:match("^(%S+)"), steps(replayed.stdout)[3]:match("^(%S+)"))
    local order, expected = {}, {}
    for i, line in pairs(steps(replayed.stdout)) do order[i] = line:match("^(%S+)") end
    for line in support.read(rec):gmatch("[^\n]+") do
      local id = line:match('"event":"resume","task":(%d+)')
      if id then expected[#expected + 1] = "task-" .. id end
    end
    support.remove(dir)
    assert.same(expected, order)
  end)

  it("reads keys from a terminal: Enter steps, c continues; q quits in another run", function()
    local dir = support.tmpdir()
    support.write(dir .. "/script.lua", SCRIPT)
    local tmux   -- a private tmux server per session, so none waits for another's end
    local sh = support.sh
    local function screen() return sh(tmux .. "capture-pane -p -J -S - -t stepper") end
    local function wait_for(text)
      for _ = 1, 200 do
        local shown = screen()
        if shown:find(text, 1, true) then return shown end
        os.execute("sleep 0.05")
      end
      error("timed out waiting for " .. text .. "; the screen:\n" .. screen())
    end
    local function session(name)
      tmux = "tmux -S " .. quote(dir .. "/tmux-" .. name) .. " -f /dev/null "
      local started = sh(tmux .. "new-session -d -s stepper -x 200 -y 50 " .. quote(string.format(
        "cd %s && %s --step --virtual-time script.lua; echo \"exited with $?\"; sleep 60",
        quote(dir), quote(support.asched))))
      assert(started == "", started)
      wait_for("[Enter: step, c: continue, q: quit]")
      return name
    end
    local ok, err = pcall(function()
      session("continue")
      for i = 1, 3 do
        sh(tmux .. "send-keys -t stepper Enter")
        wait_for("[" .. i .. "] task-")
      end
      local shown = screen()
      assert.matches("%[3%] task%-3 resumed %(spawned by task%-1%)", shown)
      assert.is_nil(shown:find("[4] task-", 1, true))
      sh(tmux .. "send-keys -t stepper c")
      shown = wait_for("exited with 0")
      assert.truthy(shown:find("all done", 1, true))
      assert.is_nil(shown:find("[4] task-", 1, true))

      sh(tmux .. "kill-server")
      session("quit")
      sh(tmux .. "send-keys -t stepper Enter")
      wait_for("[1] task-1")
      sh(tmux .. "send-keys -t stepper q")
      shown = wait_for("exited with 130")
      assert.truthy(shown:find("cleanup ran", 1, true))
      assert.is_nil(shown:find("all done", 1, true))
    end)
    if tmux then sh(tmux .. "kill-server") end
    support.remove(dir)
    assert(ok, err)
  end)
end)

describe("asched --step's memory", function()
  -- 20,000 tasks one after another: the stepper keeps a note per live task
  -- only. It used to keep ~300 bytes for every task id ever seen (6 MB here),
  -- which a long REPL session (the REPL always has a stepper) never gave back.
  local MANY = [[
for i = 1, 20000 do asched.spawn(function() end):await() end
for line in io.lines("/proc/self/status") do
  local kb = line:match("^VmHWM:%s*(%d+)")
  if kb then print("VmHWM " .. kb) end
end
]]

  it("stays within 3 MB of a run without the stepper", function()
    -- (ASan would otherwise count its quarantine of freed memory.)
    local env = {ASAN_OPTIONS = "quarantine_size_mb=0"}
    local plain = support.run({script = MANY, options = {"--virtual-time"}, env = env})
    local stepped = support.run({script = MANY, options = {"--virtual-time", "--step"}, env = env,
                                 stdin = string.rep("\n", 40100)})
    assert.equal(0, plain.status, support.describe(plain))
    assert.equal(0, stepped.status, support.describe(stepped))
    local base = tonumber(plain.stdout:match("VmHWM (%d+)"))
    local peak = tonumber(stepped.stdout:match("VmHWM (%d+)"))
    assert.is_truthy(base and peak, stepped.stdout:sub(-200))
    assert.is_true(peak - base < 3 * 1024, ("peak %d KB with --step, %d KB without"):format(peak, base))
  end)
end)
