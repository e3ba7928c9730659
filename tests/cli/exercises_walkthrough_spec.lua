-- The issue's "done when", as a learner lives it: `asched exercises --init
-- ~/learn`, then `asched watch` in a real terminal (a tmux pane) and nothing
-- else. For each exercise in turn the learner waits until watch shows it as
-- the current one, failing, saves the reference solution over their file
-- (as an editor does: to a temporary file renamed over it, or in place),
-- and waits until watch says it passed and moves on; after the last one,
-- the closing message. Then: watch has exited and left the terminal as it
-- found it, the checkout is untouched, and nothing was written in the copy
-- but the learner's own files. Also with ASCHED_WATCH_POLL=1 (no file
-- events: polling only), quitting half-way and coming back with
-- `asched check --watch`.
--
-- Every wait has a deadline, and all of them together stay within BUDGET.
local here = debug.getinfo(1, "S").source:match("^@(.-)[^/]*$")
local support = dofile(here .. "support.lua")
local quote = support.quote

local root = here .. "../../"
local BUDGET = 240             -- seconds for the whole file (a loaded ASan run is slow)
local WAIT = 60                -- seconds for any one thing to show on the screen
local started = os.time()      -- again when the tests start (busted may load files long before)
local RULE = string.rep("─", 60)   -- what watch prints before each check's report

local sh = support.sh

-- The exercises, in order, from the checkout.
local exercises = {}
for file in sh("ls -1 " .. quote(root .. "exercises/checks")):gmatch("[^\n]+") do
  local number, name = file:match("^(%d%d)_([%w_]+)%.lua$")
  if number then
    exercises[#exercises + 1] = {number = number, name = name, base = file,
                                 solution = assert(support.read(root .. "exercises/solutions/" .. file))}
  end
end
table.sort(exercises, function(a, b) return a.number < b.number end)
local TOTAL = #exercises

local function bar(done)
  return string.format("%d/%d %s%s", done, TOTAL, string.rep("█", done), string.rep("░", TOTAL - done))
end

-- Every file and folder under `dir`, with the contents of the files, as
-- {path = md5 or "dir"}.
local function snapshot(dir)
  local found = {}
  for line in sh("cd " .. quote(dir) .. " && find . -mindepth 1 -type d"):gmatch("[^\n]+") do found[line] = "dir" end
  for line in sh("cd " .. quote(dir) .. " && find . -type f -exec md5sum {} +"):gmatch("[^\n]+") do
    local sum, path = line:match("^(%x+)%s+(.*)$")
    found[path] = sum
  end
  return found
end

local function md5(text)
  local dir = support.tmpdir()
  support.write(dir .. "/f", text)
  local sum = sh("md5sum " .. quote(dir .. "/f")):match("^(%x+)")
  support.remove(dir)
  return sum
end

-- The checkout's exercises folder as git and the file system see it.
local function checkout_state()
  return sh("git -C " .. quote(root) .. " status --porcelain --untracked-files=all --ignored exercises"),
         snapshot(root .. "exercises")
end

-- A learner: HOME and XDG_STATE_HOME in a scratch folder, and the copy
-- `asched exercises --init ~/learn` made, run from the checkout.
local function learner()
  local me = {dir = support.tmpdir()}
  me.home = me.dir .. "/home"
  me.state = me.dir .. "/state"
  me.copy = me.home .. "/learn"
  os.execute("mkdir -p " .. quote(me.home))
  me.env = string.format("env -u ASCHED_EXERCISES -u ASCHED_WATCH_POLL HOME=%s XDG_STATE_HOME=%s",
                         quote(me.home), quote(me.state))
  local out = sh(string.format("cd %s && %s timeout -s KILL 30 %s exercises --init %s",
                               quote(root), me.env, quote(support.asched), quote(me.copy)))
  assert(out:find("Copied " .. TOTAL .. " exercises", 1, true), out)
  me.after_init = snapshot(me.home)
  return me
end

-- The learner's editor saves `text` as exercise e's file: written aside and
-- renamed over it (`aside`), or rewritten in place.
local function save(me, e, text, aside)
  local path = me.copy .. "/" .. e.base
  if aside then
    local temporary = me.copy .. "/." .. e.base .. ".swp"
    support.write(temporary, text)
    assert(os.rename(temporary, path))
  else
    support.write(path, text)
  end
end

-- A terminal of its own (a private tmux server, its socket at `socket`)
-- running `command`.
local terminals = 0
local function terminal(command, socket)
  local t = {}
  -- A socket of its own each time: a new server on the socket of one just
  -- killed can find it still going away ("no server running").
  terminals = terminals + 1
  local tmux = "tmux -S " .. quote(socket .. "-" .. terminals) .. " -f /dev/null "
  sh(tmux .. "new-session -d -s learner -x 160 -y 50 " .. quote(command))

  function t.screen() return sh(tmux .. "capture-pane -p -J -S - -t learner") end
  function t.keys(keys) sh(tmux .. "send-keys -t learner " .. keys) end
  function t.close() sh(tmux .. "kill-server") end

  -- Waits until accept(screen) is true (at most WAIT seconds, and never
  -- past the file's BUDGET); returns the screen.
  function t.wait_until(what, accept)
    local deadline = math.min(os.time() + WAIT, started + BUDGET)
    repeat
      local shown = t.screen()
      if accept(shown) then return shown end
      os.execute("sleep 0.05")
    until os.time() > deadline
    local shown = t.screen()
    error(string.format("timed out waiting for %s; the screen ends:\n%s", what,
                        shown:gsub("%s+$", ""):sub(-4000)), 2)
  end

  function t.wait_for(text)
    return t.wait_until(string.format("%q", text), function(shown) return shown:find(text, 1, true) ~= nil end)
  end
  return t
end

-- What watch printed after its last rule: the report it is showing now.
local function last_report(shown)
  local from, last = 1, nil
  while true do
    local s, e = shown:find(RULE, from, true)
    if not s then break end
    last, from = e + 1, e + 1
  end
  return last and shown:sub(last) or ""
end

-- Watch shows exercise `e` as the current one, failing, with `done` passed,
-- and waits for a save.
local function waits_on(t, e, done)
  local report = t.wait_until(string.format("[%s] shown failing, %d done", e.number, done), function(shown)
    local r = last_report(shown)
    return r:match("^%s*%[" .. e.number .. "%] " .. e.name .. ":") ~= nil
       and r:find("\n  FAIL  ", 1, true) ~= nil
       and r:find("Save " .. e.base .. " to check again.", 1, true) ~= nil
  end)
  report = last_report(report)
  assert.matches("  edit: " .. e.base, report, 1, true)
  assert.matches(bar(done) .. "  next: " .. e.number .. "_" .. e.name .. " — " .. e.base, report, 1, true)
end

-- Watch says exercise `e` passed and names the next one (or, after the
-- last, shows the closing message).
local function passes(t, i)
  local e, following = exercises[i], exercises[i + 1]
  local after = following and "  next: " .. following.number .. "_" .. following.name .. " — " .. following.base
                or bar(TOTAL) .. "\nAll exercises pass. Well done!"
  local pattern = "\n%[" .. e.number .. "%] " .. e.name .. ":[^\n]*\n  PASS\n" .. after:gsub("%p", "%%%0")
  t.wait_until(string.format("[%s] to pass and %q", e.number, after), function(shown)
    return shown:find(pattern) ~= nil
  end)
end

-- Watch has exited with status 0, and the terminal is back in canonical
-- mode, with echo and signals.
local function exited(t)
  local shown = t.wait_until("watch to exit, then stty -a", function(now)
    local after = now:match("watch exited with 0(.*)$")
    return after ~= nil and after:find("isig", 1, true) ~= nil
  end)
  local settings = shown:match("watch exited with 0(.*)$")
  assert.matches("[^-]icanon", settings)
  assert.matches("[^-]echo ", settings)
  assert.matches("[^-]isig", settings)
end

local function watch_in(me, extra, subcommand)
  return terminal(string.format("cd %s && %s %s %s %s; echo \"watch exited with $?\"; stty -a; sleep 60",
    quote(me.copy), me.env, extra or "", quote(support.asched), subcommand or "watch"), me.dir .. "/tmux")
end

-- Nothing changed under HOME since --init but the learner's files, which
-- hold what the learner saved (`solved` exercises) or the stub.
local function only_learner_files_changed(me, solved)
  local now = snapshot(me.home)
  local learner_files = {}
  for i, e in ipairs(exercises) do
    local path = "./learn/" .. e.base
    learner_files[path] = true
    local expected = i <= solved and e.solution or support.read(me.copy .. "/stubs/" .. e.base)
    assert.equal(md5(expected), now[path], e.base)
  end
  for path, sum in pairs(me.after_init) do
    if not learner_files[path] then assert.equal(sum, now[path], path .. " changed or vanished") end
  end
  for path in pairs(now) do
    assert.truthy(me.after_init[path], path .. " appeared under HOME")
  end
end

local function progress_of(me)
  return sh("cat " .. quote(me.state) .. "/asched/*/progress")
end

describe("a learner with only `asched watch`", function()
  local me, t
  setup(function() started = os.time() end)
  after_each(function()
    if t then t.close() end
    if me then support.remove(me.dir) end
    me, t = nil, nil
  end)

  it("goes from `exercises --init ~/learn` to the closing message, leaving the checkout untouched", function()
    local git_before, files_before = checkout_state()
    me = learner()
    t = watch_in(me)
    for i, e in ipairs(exercises) do
      waits_on(t, e, i - 1)
      save(me, e, e.solution, i % 2 == 1)    -- odd ones as an editor renaming, even ones in place
      passes(t, i)
    end
    t.keys("q")
    exited(t)
    local progress = progress_of(me)
    for _, e in ipairs(exercises) do assert.matches("passed " .. e.number, progress, 1, true) end
    only_learner_files_changed(me, TOTAL)
    local git_after, files_after = checkout_state()
    assert.equal(git_before, git_after)
    assert.same(files_before, files_after)
  end)

  it("gets there by polling where file events do not arrive, and comes back with `check --watch`", function()
    local git_before, files_before = checkout_state()
    me = learner()
    t = watch_in(me, "ASCHED_WATCH_POLL=1")
    local solved = 3
    for i = 1, solved do
      local e = exercises[i]
      waits_on(t, e, i - 1)
      save(me, e, e.solution, i % 2 == 0)
      passes(t, i)
    end
    waits_on(t, exercises[solved + 1], solved)
    t.keys("q")
    t.wait_for("Bye")
    exited(t)
    t.close()
    -- Back the next day: the same place, the same progress.
    t = watch_in(me, "ASCHED_WATCH_POLL=1", "check --watch")
    waits_on(t, exercises[solved + 1], solved)
    t.keys("C-c")
    exited(t)
    only_learner_files_changed(me, solved)
    local git_after, files_after = checkout_state()
    assert.equal(git_before, git_after)
    assert.same(files_before, files_after)
  end)
end)
