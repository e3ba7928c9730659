-- The exercise runner as a learner meets it: a copy made by `exercises
-- --init`, progress kept in $XDG_STATE_HOME (never in the exercises folder or
-- the checkout), `check N M`, `next`, `reset`, `solution`, the progress bar,
-- the closing message, an installed asched, and `watch` in a real terminal
-- (a tmux pane) reacting to saves and keys.
local here = debug.getinfo(1, "S").source:match("^@(.-)[^/]*$")
local support = dofile(here .. "support.lua")
local quote = support.quote

local root = here .. "../../"
local build = support.asched:match("^(.*)/[^/]*$") or "."

local sh = support.sh

local checks = {}
for name in sh("ls -1 " .. quote(root .. "exercises/checks")):gmatch("[^\n]+") do
  if name:match("^%d%d_.*%.lua$") then checks[#checks + 1] = name end
end
local TOTAL = #checks

-- A learner: a scratch folder with a state folder and an --init copy.
local function learner()
  local me = {dir = support.tmpdir()}
  me.state = me.dir .. "/state"
  me.copy = me.dir .. "/learn"

  -- Runs `asched <args>` in folder `cwd` (default: the copy) with `input`
  -- on stdin; returns status, stdout, stderr.
  function me.run(args, cwd, program, input)
    support.write(me.dir .. "/in", input or "")
    local cmd = string.format(
      "cd %s && env -u ASCHED_EXERCISES XDG_STATE_HOME=%s timeout -s KILL 60 %s %s <%s >%s 2>%s",
      quote(cwd or me.copy), quote(me.state), quote(program or support.asched), args,
      quote(me.dir .. "/in"), quote(me.dir .. "/out"), quote(me.dir .. "/err"))
    local _, _, status = os.execute(cmd)
    return status, support.read(me.dir .. "/out") or "", support.read(me.dir .. "/err") or ""
  end

  function me.solve(file) support.write(me.copy .. "/" .. file, support.read(me.copy .. "/solutions/" .. file)) end
  function me.file(file) return support.read(me.copy .. "/" .. file) end
  function me.remove() support.remove(me.dir) end

  local status, out, err = me.run("exercises --init " .. quote(me.copy), root)
  assert(status == 0, out .. err)
  return me
end

-- Every file under `dir` with its contents, as one string to compare.
local function snapshot(dir)
  return sh("cd " .. quote(dir) .. " && find . -type f | sort | xargs md5sum")
end

describe("asched exercises --init", function()
  local me
  after_each(function() if me then me.remove() end me = nil end)

  it("copies the exercises, with checks, solutions, stubs and README; the learner's files are the stubs", function()
    me = learner()
    for _, file in ipairs(checks) do
      assert.equal(support.read(root .. "exercises/stubs/" .. file), me.file(file), file)
      assert.truthy(me.file("checks/" .. file), file)
      assert.truthy(me.file("solutions/" .. file), file)
      assert.truthy(me.file("stubs/" .. file), file)
    end
    assert.truthy(me.file("README.md"))
  end)

  it("refuses to copy over a folder that already holds exercises", function()
    me = learner()
    me.solve(checks[1])
    local status, _, err = me.run("exercises --init " .. quote(me.copy), root)
    assert.equal(1, status)
    assert.matches("already holds exercises", err, 1, true)
    assert.equal(support.read(me.copy .. "/solutions/" .. checks[1]), me.file(checks[1]))
  end)

  it("makes a copy the runner finds from any folder inside it", function()
    me = learner()
    me.solve(checks[1])
    os.execute("mkdir -p " .. quote(me.copy .. "/notes/deeper"))
    local status, out = me.run("check 1", me.copy .. "/notes/deeper")
    assert.equal(0, status, out)
    assert.matches("PASS", out, 1, true)
  end)

  it("works from an installed asched (cmake --install), outside any checkout", function()
    me = learner()
    local prefix = me.dir .. "/prefix"
    local log = sh("cmake --install " .. quote(build) .. " --prefix " .. quote(prefix))
    local installed = prefix .. "/bin/asched"
    assert.truthy(support.read(installed), log)
    local copy = me.dir .. "/from-installed"
    local status, out, err = me.run("exercises --init " .. quote(copy), me.dir, installed)
    assert.equal(0, status, out .. err)
    support.write(copy .. "/" .. checks[1], support.read(copy .. "/solutions/" .. checks[1]))
    status, out, err = me.run("check 1", copy, installed)
    assert.equal(0, status, out .. err)
    assert.matches("PASS", out, 1, true)
  end)

  it("outside any exercises folder says how to get a copy", function()
    me = learner()
    local status, _, err = me.run("check 1", me.dir)
    assert.equal(1, status)
    assert.matches("asched exercises --init DIR", err, 1, true)
  end)
end)

describe("the learner's state", function()
  local me
  after_each(function() if me then me.remove() end me = nil end)

  it("is kept in $XDG_STATE_HOME/asched, never in the exercises folder", function()
    me = learner()
    me.solve(checks[1])
    local before = snapshot(me.copy)
    me.run("check 1")
    me.run("hint 2")
    me.run("exercises")
    assert.equal(before, snapshot(me.copy))
    local progress = sh("cat " .. quote(me.state) .. "/asched/*/progress")
    assert.matches("passed 01", progress, 1, true)
    assert.matches("hints 02 1", progress, 1, true)
  end)

  it("never touches the checkout: hints seen, exercises solved and reset in a copy", function()
    local git = "cd " .. quote(root) .. " && git status --porcelain --untracked-files=all exercises"
    local before = sh(git)
    me = learner()
    me.run("hint 1", root)           -- state for the checkout's own folder
    me.run("check 1", root)
    me.run("exercises", root)
    me.run("next", root)
    for _, file in ipairs(checks) do me.solve(file) end
    me.run("check")
    me.run("hint 3")
    support.write(me.copy .. "/" .. checks[2], "-- my work\n")
    me.run("reset 2")
    assert.equal(before, sh(git))
    assert.is_nil(support.read(root .. "exercises/.hints_seen"))
  end)
end)

describe("asched check, next and exercises", function()
  local me
  after_each(function() if me then me.remove() end me = nil end)

  it("check 3 7 checks both", function()
    me = learner()
    local status, out = me.run("check 3 7")
    assert.equal(1, status)
    assert.matches("[03]", out, 1, true)
    assert.matches("[07]", out, 1, true)
    assert.matches("0 passed, 2 failed", out, 1, true)
  end)

  it("check with an unknown name among others is an error, checking nothing", function()
    me = learner()
    local status, out, err = me.run("check 3 nope")
    assert.equal(1, status)
    assert.matches("no exercise 'nope'", err, 1, true)
    assert.not_matches("[03]", out, 1, true)
  end)

  it("a pass names the next exercise and the progress bar counts it", function()
    me = learner()
    me.solve(checks[1])
    local status, out = me.run("check 1")
    assert.equal(0, status, out)
    local second = checks[2]:gsub("%.lua$", "")
    assert.matches("next: " .. second .. " — " .. checks[2], out, 1, true)
    assert.matches(string.format("1/%d █%s", TOTAL, string.rep("░", TOTAL - 1)), out, 1, true)
  end)

  it("a failure names the file to edit, and the line when the learner's code raised", function()
    me = learner()
    local status, out = me.run("check 1")
    assert.equal(1, status)
    assert.matches("edit: " .. checks[1] .. " ", out, 1, true)
    support.write(me.copy .. "/" .. checks[3],
      "local M = {}\nfunction M.process_all(jobs)\n  local broken = nil\n  return broken.field\nend\nreturn M\n")
    status, out = me.run("check 3")
    assert.equal(1, status)
    assert.matches("edit: " .. checks[3] .. ":4", out, 1, true)
  end)

  it("exercises shows the progress bar and marks the next one", function()
    me = learner()
    me.solve(checks[1])
    local status, out = me.run("exercises")
    assert.equal(0, status)
    assert.matches(string.format("1/%d █░", TOTAL), out, 1, true)
    assert.matches("> " .. checks[2]:sub(1, 2) .. "  [%w_]+ +next", out)
    assert.matches("  " .. checks[1]:sub(1, 2) .. "  [%w_]+ +done", out)
  end)

  it("next checks and shows the first exercise not solved", function()
    me = learner()
    me.solve(checks[1])
    me.solve(checks[3])
    local status, out = me.run("next")
    assert.equal(0, status)
    assert.matches("[" .. checks[2]:sub(1, 2) .. "]", out, 1, true)
    assert.matches("FAIL", out, 1, true)
    assert.matches("edit: " .. checks[2], out, 1, true)
    assert.not_matches("[" .. checks[4]:sub(1, 2) .. "]", out, 1, true)
  end)

  it("says so when every exercise passes", function()
    me = learner()
    for _, file in ipairs(checks) do me.solve(file) end
    local status, out = me.run("check")
    assert.equal(0, status, out)
    assert.matches(string.format("%d/%d %s", TOTAL, TOTAL, string.rep("█", TOTAL)), out, 1, true)
    assert.matches("All exercises pass", out, 1, true)
    local _, listed = me.run("exercises")
    assert.matches("All exercises pass", listed, 1, true)
    local _, next_one = me.run("next")
    assert.matches("All exercises pass", next_one, 1, true)
  end)
end)

describe("asched reset and solution", function()
  local me
  after_each(function() if me then me.remove() end me = nil end)

  it("reset restores the stub and keeps the learner's file in the state folder", function()
    me = learner()
    local file = checks[3]
    support.write(me.copy .. "/" .. file, "-- my precious work\n")
    local status, out = me.run("reset 3")
    assert.equal(0, status, out)
    assert.equal(me.file("stubs/" .. file), me.file(file))
    local backup = out:match("kept in (%S+)")
    assert.truthy(backup, out)
    assert.equal(me.state .. "/asched/", backup:sub(1, #me.state + 8))
    assert.equal("-- my precious work\n", support.read(backup))
  end)

  it("reset twice in the same second keeps both versions", function()
    me = learner()
    support.write(me.copy .. "/" .. checks[3], "-- first\n")
    local _, first = me.run("reset 3")
    support.write(me.copy .. "/" .. checks[3], "-- second\n")
    local _, second = me.run("reset 3")
    assert.equal("-- first\n", support.read(first:match("kept in (%S+)")))
    assert.equal("-- second\n", support.read(second:match("kept in (%S+)")))
  end)

  it("solution is refused before the exercise passed", function()
    me = learner()
    local status, out, err = me.run("solution 3")
    assert.equal(1, status)
    assert.matches("does not pass yet", err, 1, true)
    assert.matches("--force", err, 1, true)
    assert.equal("", out)
  end)

  it("solution --force shows it anyway, saying so", function()
    me = learner()
    local status, out = me.run("solution 3 --force")
    assert.equal(0, status)
    assert.matches("shown with --force", out, 1, true)
    assert.matches(me.file("solutions/" .. checks[3]), out, 1, true)
  end)

  it("solution is shown once the exercise passed, even after a reset", function()
    me = learner()
    me.solve(checks[3])
    assert.equal(0, (me.run("check 3")))
    me.run("reset 3")
    local status, out = me.run("solution 3")
    assert.equal(0, status, out)
    assert.not_matches("--force", out, 1, true)
    assert.matches(me.file("solutions/" .. checks[3]), out, 1, true)
  end)
end)

-- `asched watch` in a tmux pane: a real terminal, keys typed as a person would.
describe("asched watch", function()
  local me, session
  after_each(function()
    if session then sh("tmux kill-session -t " .. session) end
    if me then me.remove() end
    me, session = nil, nil
  end)

  local function screen()
    return sh("tmux capture-pane -p -J -S -500 -t " .. session)
  end

  -- Waits (at most `seconds`) until `text` appears `count` times on the screen.
  local function wait_for(text, count, seconds)
    local deadline = os.time() + (seconds or 15)
    repeat
      local shown = screen()
      local n = select(2, shown:gsub(text:gsub("%p", "%%%0"), ""))
      if n >= (count or 1) then return shown end
      sh("sleep 0.05")
    until os.time() > deadline
    error("timed out waiting for " .. string.format("%q", text) .. " on the screen:\n" .. screen(), 2)
  end

  local function start(env)
    me = learner()
    session = string.format("asched-watch-%d", math.random(1e9))
    local command = string.format("cd %s && env -u ASCHED_EXERCISES XDG_STATE_HOME=%s %s %s watch; echo \"watch exited with $?\"; stty -a; echo \"end of stty\"; sleep 60",
      quote(me.copy), quote(me.state), env or "", quote(support.asched))
    sh(string.format("tmux new-session -d -s %s -x 150 -y 50 %s", session, quote(command)))
    wait_for("[q]uit")
  end

  local function watch_flow(env)
    start(env)
    wait_for("FAIL")
    assert.matches("edit: " .. checks[1], screen(), 1, true)
    me.solve(checks[1])                              -- the learner saves a solution
    wait_for("PASS")
    wait_for("[" .. checks[2]:sub(1, 2) .. "]")      -- and is taken to the next one
    wait_for(string.format("1/%d █░", TOTAL))
    sh("tmux send-keys -t " .. session .. " h")
    wait_for("hint 1 of")
    sh("tmux send-keys -t " .. session .. " q")
    -- stty prints after the shell's echo: wait for all of its output.
    local shown = wait_for("end of stty")
    -- The terminal is back in canonical mode with echo.
    local settings = shown:match("watch exited with 0(.*)end of stty")
    assert.matches("[^-]icanon", settings)
    assert.matches("[^-]echo ", settings)
  end

  it("re-checks the current exercise on save, moves on when it passes, gives hints on h, quits on q", function()
    watch_flow()
  end)

  it("sees saves by polling where file events do not arrive", function()
    watch_flow("ASCHED_WATCH_POLL=1")
  end)

  it("resets on r (keeping the learner's file), and skips on n", function()
    start()
    support.write(me.copy .. "/" .. checks[1], "local M = {}\nreturn M -- my try\n")
    wait_for("FAIL", 2)
    sh("tmux send-keys -t " .. session .. " r")
    wait_for("your version is kept in")
    assert.equal(me.file("stubs/" .. checks[1]), me.file(checks[1]))
    sh("tmux send-keys -t " .. session .. " n")
    wait_for("[" .. checks[2]:sub(1, 2) .. "]")
    sh("tmux send-keys -t " .. session .. " l")
    wait_for("> " .. checks[2]:sub(1, 2))
    sh("tmux send-keys -t " .. session .. " C-c")
    wait_for("watch exited with 0")
  end)

  it("reads the same letters as lines when stdin is not a terminal", function()
    me = learner()
    local status, out = me.run("watch", nil, nil, "h\nq\n")
    assert.equal(0, status, out)
    assert.matches("hint 1 of", out, 1, true)
    assert.matches("Bye", out, 1, true)
  end)

  it("is also `check --watch`, which takes no exercise", function()
    me = learner()
    local status, out, err = me.run("check --watch", nil, nil, "h\nq\n")
    assert.equal(0, status, out .. err)
    assert.matches("[" .. checks[1]:sub(1, 2) .. "]", out, 1, true)
    assert.matches("hint 1 of", out, 1, true)
    assert.matches("Bye", out, 1, true)
    assert.equal("", err)
    status, out, err = me.run("check --watch 3", nil, nil, "q\n")
    assert.equal(1, status)
    assert.matches("--watch takes no exercise", err, 1, true)
    assert.equal("", out)
    status, out, err = me.run("watch 3", nil, nil, "q\n")
    assert.equal(1, status)
    assert.matches("watch takes no argument", err, 1, true)
  end)

  it("says all is done when every exercise passes", function()
    me = learner()
    for _, file in ipairs(checks) do me.solve(file) end
    local status, out = me.run("watch")
    assert.equal(0, status, out)
    assert.matches("All exercises pass", out, 1, true)
  end)
end)
