-- The REPL as a person uses it: asched runs in a tmux pane (a real pseudo-
-- terminal); the specs type into it and read the screen. Every step waits
-- for what it expects to appear (never a fixed sleep), with a time limit.
local support = dofile(debug.getinfo(1, "S").source:match("^@(.-)[^/]*$") .. "../cli/support.lua")
local asched_bin = support.asched
local sh, quote = support.sh, support.quote

local session_count = 0

-- A pane running `command` in a fresh HOME; returns an object to drive it.
local function open(command)
  session_count = session_count + 1
  local name = string.format("asched-spec-%d-%d", session_count, math.random(1e9))
  local home = sh("mktemp -d"):gsub("%s+$", "")
  sh(string.format("tmux new-session -d -s %s -x 120 -y 40 %s", name,
                   quote("cd " .. home .. " && HOME=" .. home .. " exec bash --norc --noprofile")))
  local pane = {name = name, home = home}

  function pane.screen()
    return sh("tmux capture-pane -p -S -200 -t " .. name)
  end

  -- Waits until the screen contains `text` (plain) after position `from`.
  function pane.wait_for(text, seconds)
    local deadline = os.time() + (seconds or 10)
    repeat
      local screen = pane.screen()
      if screen:find(text, 1, true) then return screen end
      sh("sleep 0.05")
    until os.time() > deadline
    error("timed out waiting for " .. string.format("%q", text) .. " on the screen:\n" .. pane.screen(), 2)
  end

  function pane.type(text) sh(string.format("tmux send-keys -t %s -l %s", name, quote(text))) end
  function pane.enter() sh(string.format("tmux send-keys -t %s Enter", name)) end
  function pane.line(text) pane.type(text) pane.enter() end
  function pane.key(key) sh(string.format("tmux send-keys -t %s %s", name, key)) end

  function pane.close()
    sh("tmux kill-session -t " .. name)
    sh("rm -rf " .. quote(home))
  end

  pane.line(command .. '; echo "asched exited with $?"')
  return pane
end

local function repl(options)
  local pane = open(asched_bin .. (options and (" " .. options) or ""))
  pane.wait_for("Ctrl-D to exit")
  return pane
end

describe("the asched REPL", function()
  local pane
  after_each(function() if pane then pane.close() end pane = nil end)

  it("prints the values of expressions and runs statements", function()
    pane = repl()
    pane.line("40 + 2")
    pane.wait_for("\n42\n")
    pane.line("x = 'set'; print(x)")
    pane.wait_for("\nset\n")
  end)

  it("lets top-level input suspend: asched.sleep works at the prompt", function()
    pane = repl("--virtual-time")
    pane.line("asched.sleep(5, 'woke') .. ' at ' .. asched.now()")
    pane.wait_for("woke at 5.0")
  end)

  it("keeps tasks running while the user types, printing above the line being edited", function()
    pane = repl()
    pane.line("ticker = asched.spawn(function() for i = 1, 1000 do asched.sleep(0.2) print('tick ' .. i) end end)")
    pane.wait_for("tick 2")
    pane.type("1 + ")                    -- half a line, while ticks keep arriving
    pane.wait_for("tick 5")
    pane.type("2")
    pane.enter()
    local screen = pane.wait_for("\n3\n")
    assert.matches("> 1 %+ 2\n", screen)   -- the typed line was not broken by the ticks
  end)

  it("continues a chunk that is not complete, and prints an error with its traceback", function()
    pane = repl()
    pane.line("for i = 1, 2 do")
    pane.wait_for("\n>>")                 -- (the terminal drops the trailing space)
    pane.line("print('line ' .. i)")
    pane.line("end")
    pane.wait_for("line 2")
    pane.line("error('boom')")
    local screen = pane.wait_for("stack traceback:")
    assert.matches("stdin:1: boom", screen, 1, true)
    pane.line("'still here'")
    pane.wait_for("still here\n")
  end)

  it("lists live tasks with :tasks, shows one with :where and cancels it with :cancel", function()
    pane = repl()
    pane.line("worker = asched.spawn(function() asched.sleep(1000) end)")
    pane.line("worker.name = 'worker'")
    pane.line(":tasks")
    local screen = pane.wait_for("sleeping until")   -- only :tasks prints this
    local id = screen:match("(%d+)%s+worker%s+sleeping until")
    assert.is_truthy(id, screen)
    pane.line(":where " .. id)
    pane.wait_for("spawned")
    pane.line(":cancel " .. id)
    pane.wait_for("cancelled worker")
    pane.line("worker:cancelled()")
    pane.wait_for("\ntrue\n")
  end)

  it("cancels the running input on Ctrl-C, not the REPL nor the background tasks", function()
    pane = repl()
    pane.line("bg = asched.spawn(asched.sleep, 1000)")
    pane.line("asched.sleep(1000)")
    pane.wait_for("asched.sleep(1000)\n")
    pane.key("C-c")
    pane.wait_for("(cancelled)")
    pane.line("tostring(bg:done()) .. ', prompt is back'")
    pane.wait_for("false, prompt is back")
  end)

  it("stops input that never suspends on Ctrl-C, and background tasks run on", function()
    pane = repl()
    pane.line("ticks = 0; bg = asched.spawn(function() while true do asched.sleep(0.01) ticks = ticks + 1 end end)")
    pane.line("while true do end")
    pane.wait_for("while true do end\n")
    os.execute("sleep 0.2")
    pane.key("C-c")
    pane.wait_for("(cancelled)")
    pane.line("before = ticks; asched.sleep(0.1); print(tostring(ticks > before and not bg:done()) .. ', ticking')")
    pane.wait_for("true, ticking")
  end)

  it("leaves Ctrl-C to a task waiting for SIGINT, then gives it back to the input", function()
    pane = repl()
    pane.line("w = asched.spawn(asched.signal.wait, 'SIGINT')")
    pane.line("asched.sleep(0.1); print('waiting: ' .. tostring(not w:done()))")
    pane.wait_for("waiting: true")
    pane.key("C-c")
    pane.line("print('got ' .. w:await())")
    local screen = pane.wait_for("got SIGINT")
    assert.is_nil(screen:find("^C", 1, true))   -- the prompt did not take it
    pane.line("asched.sleep(1000)")
    pane.wait_for("asched.sleep(1000)\n")
    pane.key("C-c")
    pane.wait_for("(cancelled)")
  end)

  it("clears the line on Ctrl-C at the prompt", function()
    pane = repl()
    pane.type("something half typed")
    pane.key("C-c")
    pane.wait_for("^C")
    pane.line("'fresh'")
    pane.wait_for("\nfresh\n")
    assert.is_nil(pane.screen():find("halftyped", 1, true))
  end)

  it("exits on Ctrl-D, cancelling background tasks and naming them, with status 0", function()
    pane = repl()
    pane.line("bg = asched.spawn(function() asched.sleep(1000) end)")
    pane.line("bg.name = 'sleeper'")
    pane.key("C-d")
    local screen = pane.wait_for("\nasched exited with")
    assert.matches("cancelled pending task sleeper", screen, 1, true)
    assert.matches("asched exited with 0", screen, 1, true)
  end)

  it("ends on SIGTERM as a script does: background tasks closed, history kept, status 143", function()
    pane = repl()
    pane.line("bg = asched.spawn(function() local g <close> = setmetatable({}, {__close = function() print('bg closed') end}) asched.sleep(1000) end)")
    pane.line("os.execute('kill -TERM $PPID')")   -- the shell's parent: asched
    local screen = pane.wait_for("\nasched exited with")
    assert.matches("bg closed", screen, 1, true)
    assert.matches("asched: terminated", screen, 1, true)
    assert.matches("asched exited with 143", screen, 1, true)
    assert.matches("os.execute('kill", sh("cat " .. quote(pane.home .. "/.asched_history")), 1, true)
  end)

  it("keeps its history in a file in the home folder, readable by the user alone", function()
    pane = repl()
    pane.line("'remember me'")
    pane.wait_for("remember me\n")
    pane.key("C-d")
    pane.wait_for("\nasched exited with")
    local history = pane.home .. "/.asched_history"
    assert.matches("remember", sh("cat " .. quote(history)), 1, true)   -- libedit writes spaces as \040
    assert.equal("600", (sh("stat -c %a " .. quote(history)):gsub("%s+$", "")))
  end)

  it("shows the clock, and moves it by hand with :advance under virtual time", function()
    pane = repl("--virtual-time")
    pane.line("done_at = nil; asched.spawn(function() asched.sleep(10) done_at = asched.now() end)")
    os.execute("sleep 0.3")               -- the prompt holds the clock: no autojump
    pane.line(":advance 10")
    pane.wait_for("10.000 s")
    pane.line("done_at")
    pane.wait_for("\n10.0\n")
    pane.line(":clock")
    pane.wait_for("(virtual time)")
  end)

  it("folds --timeline lanes to fit the terminal's height (40 rows here)", function()
    pane = open(asched_bin .. [[ --virtual-time --timeline -e 'local t = {} for i = 1, 60 do t[i] = asched.spawn(asched.sleep, i / 10) end asched.gather(t)']])
    local screen = pane.wait_for("asched exited with 0")
    assert.matches("+30 more", screen, 1, true)
    assert.matches("30 tasks past the first 31 are folded", screen, 1, true)
  end)

  it("draws the lanes of the last seconds with :timeline", function()
    pane = repl("--virtual-time")
    pane.line("sleeper = asched.spawn(asched.sleep, 30); sleeper.name = 'sleeper'")
    pane.line(":advance 20")
    pane.wait_for("20.000 s")
    pane.line(":timeline 5")
    local screen = pane.wait_for("legend:")
    assert.matches("asched timeline: %d+ tasks? over the last 5 s %(to 20 s%) %(virtual time%)", screen)
    assert.matches("\nsleeper +|%.+  unfinished\n", screen)
    assert.matches("15 s", screen, 1, true)
    pane.line(":timeline x")
    pane.wait_for("usage: :timeline [SECONDS]")
  end)

  it("keeps top-level locals for the session: the README's queue typed line by line", function()
    pane = repl()
    pane.wait_for("Top-level locals last the session")   -- the banner says so
    pane.line("local q = asched.queue(2)")
    pane.line("q:put(1)")
    pane.line("print('size ' .. q:size())")
    pane.wait_for("\nsize 1\n")
  end)

  it("keeps several locals, attributes, local functions and rebindings; block locals stay local", function()
    pane = repl()
    pane.line("local a, b = 'x', 'y'")
    pane.line("local function both() return a .. b end")
    pane.line("print('both ' .. both())")
    pane.wait_for("\nboth xy\n")
    pane.line("local a = a .. '2'")                  -- reads the old a, then rebinds it
    pane.line("print('again ' .. both())")
    pane.wait_for("\nagain x2y\n")
    pane.line("local k <const> = 5")
    pane.line("k = 6")
    pane.wait_for("attempt to assign to const variable 'k'")
    pane.line("print('k is ' .. k)")
    pane.wait_for("\nk is 5\n")
    pane.line("do local inner = 1 end function g() local hidden = 2 end g()")
    pane.line("print('inner ' .. type(inner) .. ', hidden ' .. type(hidden))")
    pane.wait_for("\ninner nil, hidden nil\n")
    pane.line([=[local s = "end" --[==[ do local no ]==] local t = [[ function ]] -- local nor]=])
    pane.line("print('s..t ' .. s .. t .. type(no) .. type(nor))")
    pane.wait_for("\ns..t end function nilnil\n")
  end)

  it("closes a top-level <close> local at the end of its input", function()
    pane = repl()
    pane.line("local x <close> = setmetatable({}, {__close = function() print('closed x') end}) print('body ran')")
    local screen = pane.wait_for("\nclosed x\n")
    assert.matches("\nbody ran\nclosed x\n", screen)
    pane.line("print('x is ' .. type(x))")
    pane.wait_for("\nx is nil\n")
  end)

  it("recalls a multi-line entry with Up as one entry, and runs it again whole", function()
    pane = repl()
    pane.line("runs = (runs or 0) + 1; function f()")
    pane.line("return 'ran ' .. runs")
    pane.line("end")
    pane.line("print(f())")
    pane.wait_for("\nran 1\n")
    pane.key("Up")                       -- the print
    pane.key("Up")                       -- the whole function entry, not its "end"
    pane.wait_for("> runs = (runs or 0) + 1; function f()\nreturn 'ran ' .. runs\nend\n")
    pane.enter()
    pane.line("print(f())")
    pane.wait_for("\nran 2\n")
  end)

  it("completes asched's functions, an object's methods and names with Tab", function()
    pane = repl()
    pane.line("local q = asched.queue(1)")
    pane.type("asched.sle")
    pane.key("Tab")
    pane.wait_for("> asched.sleep")
    pane.line("(0, 'slept')")
    pane.wait_for("\nslept\n")
    pane.type("pri")
    pane.key("Tab")
    pane.type("('size ' .. q:si")
    pane.key("Tab")
    pane.line("())")
    pane.wait_for("\nsize 0\n")
    assert.matches("> print('size ' .. q:size())", pane.screen(), 1, true)
  end)

  it("lists every command with a line saying what it does on :help", function()
    pane = repl()
    pane.line(":help")
    local screen = pane.wait_for(":help           this list")
    for _, command in ipairs({":tasks", ":where ID", ":cancel ID", ":clock", ":advance S", ":timeline [S]",
                              ":pause", ":step [N]", ":ready", ":timers [N]", ":held", ":run"}) do
      assert.matches("\n" .. command:gsub("%p", "%%%0") .. " +%a[^\n]+\n", screen)
    end
  end)

  -- The stepper at the prompt: two tasks tick every 0.5 s under virtual time.
  local tickers = "for _, n in ipairs{'a', 'b'} do asched.spawn(function() for i = 1, 100 do "
                  .. "print(n .. ' tick ' .. i) asched.sleep(0.5) end end).name = n end"

  local function count(screen, text)
    local n = 0
    for _ in screen:gmatch(text:gsub("%p", "%%%0")) do n = n + 1 end
    return n
  end

  it("holds every task but the prompt on :pause: the virtual clock stays and ticks stop", function()
    pane = repl("--virtual-time")
    pane.line(tickers)
    pane.wait_for("b tick 1")
    pane.line(":advance 1")
    pane.wait_for("b tick 2")
    pane.line(":pause")
    pane.wait_for("paused at 1.000 s")
    pane.line(":advance 1")
    pane.wait_for("the loop is paused and so is the clock")
    pane.line("'still evaluates at ' .. asched.now()")   -- the prompt runs while paused
    pane.wait_for("still evaluates at 1.0\n")
    pane.line("asched.sleep(1)")    -- the clock cannot jump past the held-back timers
    pane.wait_for("(the loop is paused: the held-back tasks and their timers wait for :step or :run)")
    pane.line(":clock")
    local screen = pane.wait_for("> :clock\n")
    screen = pane.wait_for("(virtual time)\n>", 5)
    assert.matches("> :clock\n1%.000 s %(virtual time%)\n>%s*$", screen)
    assert.equals(0, count(screen, "tick 3"))
    pane.line(":run")
    pane.wait_for("running")
    pane.line(":advance 1")
    pane.wait_for("b tick 3")
  end)

  it("shows the held tasks with :ready and :timers, and runs one step at a time with :step", function()
    pane = repl("--virtual-time")
    pane.line(tickers)
    pane.wait_for("b tick 1")
    pane.line(":pause")
    pane.wait_for("paused at 0.000 s")
    pane.line(":timers")
    local screen = pane.wait_for("(b): sleeping until 0.500 s")
    assert.matches("0%.500 s %(in 0%.500 s%)  task%-%d+ %(a%): sleeping until 0%.500 s at stdin:1\n", screen)
    pane.line(":step")
    screen = pane.wait_for("resumed (woken by a timer of 0.5 s)")
    assert.matches("a tick 2\n%[%d+%] task%-%d+ %(a%) resumed %(woken by a timer of 0%.5 s%), ran [%d.]+ ms, "
                   .. "now waits at stdin:1: sleeping until 1%.000 s\n", screen)
    assert.equals(0, count(screen, "b tick 2"))          -- one step: b was woken, not resumed
    pane.line(":ready")
    screen = pane.wait_for("(b), woken by a timer of 0.5 s")
    assert.matches("\n  1  task%-%d+ %(b%), woken by a timer of 0%.5 s\n", screen)
    pane.line(":clock")
    pane.wait_for("0.500 s (virtual time)")
    pane.line("newcomer = asched.spawn(function() print('new' .. 'comer ran') end)")
    pane.line(":ready")
    screen = pane.wait_for("spawned by task-")
    assert.equals(0, count(screen, "newcomer ran"))       -- spawned while paused: held too
    pane.line(":step 2")
    screen = pane.wait_for("newcomer ran")
    pane.wait_for("resumed (spawned by task-")
    assert.matches("b tick 2\n%[%d+%] task%-%d+ %(b%) resumed", screen)
    pane.line(":run")
    pane.wait_for("running")
    pane.line(":advance 1")
    pane.wait_for("b tick 3")
  end)

  it("stops the ticks under real time on :pause, and :run lets them go on", function()
    pane = repl()
    pane.line("ticks = 0; asched.spawn(function() while true do ticks = ticks + 1 print('rt tick ' .. ticks) asched.sleep(0.05) end end)")
    pane.wait_for("rt tick 3")
    pane.line(":pause")
    pane.wait_for("paused at")
    pane.line("before = ticks")
    os.execute("sleep 0.5")
    pane.line("'ticks while paused: ' .. (ticks - before)")
    pane.wait_for("ticks while paused: 0\n")
    pane.line(":run")
    pane.wait_for("running")
    pane.line("asched.sleep(0.3); print('ticks since: ' .. tostring(ticks - before > 2))")
    pane.wait_for("ticks since: true\n")
  end)

  it("stops a :step waiting for a far timer on Ctrl-C, and the prompt is back", function()
    pane = repl()
    pane.line("far = asched.spawn(asched.sleep, 1000)")
    pane.line(":pause")
    pane.wait_for("paused at")
    pane.line(":step")
    os.execute("sleep 0.3")
    pane.key("C-c")
    pane.wait_for("(0 of 1 steps: stopped by Ctrl-C)")
    pane.line("'back at the prompt'")
    pane.wait_for("\nback at the prompt\n")
  end)

  it("says who holds a semaphore and who waits for it with :held", function()
    pane = repl("--virtual-time")
    pane.line("sem = asched.semaphore(1)")
    pane.line("for i = 1, 3 do asched.spawn(function() sem:acquire() print('got ' .. i) "
              .. "asched.sleep(10) sem:release() end).name = 'w' .. i end")
    pane.wait_for("got 1")
    pane.line(":held")
    local screen = pane.wait_for("waiting: task-")
    assert.matches("semaphore: held by task%-%d+ %(w1%); waiting: task%-%d+ %(w2%) at stdin:1, "
                   .. "task%-%d+ %(w3%) at stdin:1\n", screen)
  end)

  it("names with :held the holders of what nobody waits for, a finished holder too, until it is collected", function()
    pane = repl("--virtual-time")
    pane.line("lk = asched.lock(); sem = asched.semaphore(2)")
    pane.line("holder = asched.spawn(function() local l <close> = lk:acquire() local s <close> = sem:acquire() "
              .. "asched.sleep(100) end); holder.name = 'holder'")
    pane.line("asched.spawn(function() sem:acquire() end).name = 'leaker'")   -- ends without releasing
    pane.line("asched.sleep(1)")
    pane.line(":held")
    local screen = pane.wait_for("(finished)\n")
    assert.matches("\nlock: held by task%-%d+ %(holder%)\nsemaphore: held by task%-%d+ %(holder%), "
                   .. "task%-%d+ %(finished%)\n", screen)
    pane.line("holder:cancel(); asched.sleep(1)")
    pane.line(":held")
    pane.line("'after the second held'")
    screen = pane.wait_for("\nafter the second held\n")
    assert.matches("> :held\nsemaphore: held by task%-%d+ %(finished%)\n>", screen)
    pane.line("sem = nil; collectgarbage(); collectgarbage()")
    pane.line(":held")
    pane.wait_for("no task holds or waits on a lock or semaphore")
  end)

  it("says a semaphore with no permit to give is held by no task with :held", function()
    pane = repl("--virtual-time")
    pane.line("empty = asched.semaphore(0)")
    pane.line("asched.spawn(function() empty:acquire() end).name = 'hopeful'")
    pane.line("asched.sleep(1)")
    pane.line(":held")
    local screen = pane.wait_for("(hopeful) at stdin:1\n")
    assert.matches("\nsemaphore: held by no task; waiting: task%-%d+ %(hopeful%) at stdin:1\n", screen)
  end)

  it("refuses --step, --record and --replay at the REPL: it steps with :pause and :step", function()
    pane = open(asched_bin .. " --step")
    pane.wait_for("asched exited with 1")
    assert.matches("not the REPL %(at the REPL, :pause and :step step the loop%)", pane.screen())
  end)

  it("runs a script first with -i, then offers its globals and still-running tasks", function()
    local script = os.tmpname()
    local f = assert(io.open(script, "w"))
    f:write("greeting = 'from the script'\nkeeper = asched.spawn(function() asched.sleep(1000) end)\nkeeper.name = 'keeper'\n")
    f:close()
    pane = repl("-i " .. script)
    pane.line("greeting")
    pane.wait_for("\nfrom the script\n")
    pane.line(":tasks")
    pane.wait_for("keeper       sleeping until")
    os.remove(script)
  end)
end)
