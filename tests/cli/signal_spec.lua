-- Ctrl-C: SIGINT cancels the main task so its cleanup runs, then asched exits
-- 130; a second SIGINT exits at once. No sleep-and-hope: each script creates a
-- marker file when it is ready, and the signal is sent only after that.
local support = dofile(debug.getinfo(1, "S").source:match("^@(.-)[^/]*$") .. "support.lua")

-- Every script gets its directory as arg[1] and marks readiness with mark(name).
local PRELUDE = support.MARKING

describe("SIGINT", function()
  it("runs the main task's <close> variables and exits with status 130", function()
    local r = support.interrupt(PRELUDE .. [[
local guard <close> = setmetatable({}, {__close = function() print("main closed") end})
mark("ready")
asched.sleep(1000)
print("sleep returned")
]], {"ready"})
    assert.equal(130, r.status, support.describe(r))
    assert.equal("main closed\n", r.stdout)
  end)

  it("raises CancelledError in the main task, which may catch it and sleep during cleanup before exiting 130", function()
    local r = support.interrupt(PRELUDE .. [[
local guard <close> = setmetatable({}, {__close = function() print("main closed") end})
local ok, err = pcall(function()
  mark("ready")
  asched.sleep(1000)
end)
print("caught " .. tostring(not ok and err.name))
asched.sleep(0.01)
print("cleaned up")
error(err, 0)
]], {"ready"})
    assert.equal(130, r.status, support.describe(r))
    assert.equal("caught CancelledError\ncleaned up\nmain closed\n", r.stdout)
  end)

  it("exits 130 even when the main task swallows the cancellation and returns normally", function()
    local r = support.interrupt(PRELUDE .. [[
local ok = pcall(function()
  mark("ready")
  asched.sleep(1000)
end)
print("swallowed")
]], {"ready"})
    assert.equal(130, r.status, support.describe(r))
    assert.equal("swallowed\n", r.stdout)
  end)

  it("cancels the other pending tasks too, running their <close> variables", function()
    local r = support.interrupt(PRELUDE .. [[
asched.spawn(function()
  local guard <close> = setmetatable({}, {__close = function() print("child closed") end})
  asched.sleep(1000)
end)
asched.sleep(0)
mark("ready")
asched.sleep(1000)
]], {"ready"})
    assert.equal(130, r.status, support.describe(r))
    assert.equal("child closed\n", r.stdout)
  end)

end)

-- SIGINT during each kind of wait (issue 19): the main task waits, a second
-- task waits on the same kind of thing, both hold a <close> variable. The run
-- exits 130, both close, and no child process is left.
local WAITS = {
  sleep = {"", "asched.sleep(1000)"},
  semaphore = {"local s = asched.semaphore(0)", "s:acquire()"},
  lock = {"local l = asched.lock(); local held = l:acquire()", "l:acquire()"},
  event = {"local e = asched.event()", "e:wait()"},
  condition = {"local c = asched.condition()", "c:with(function() c:wait() end)"},
  ["queue get"] = {"local q = asched.queue(1)", "q:get()"},
  ["queue put"] = {"local q = asched.queue(1); q:put(0)", "q:put(1)"},
  barrier = {"local b = asched.barrier(3)", "b:wait()"},
  ["to_thread"] = {"", "asched.to_thread(function() local t = os.clock() while os.clock() - t < 0.3 do end end)"},
  ["tcp read"] = {[[
local server = asched.tcp.listen("127.0.0.1", 0, function(s) asched.sleep(1000) end)
local function stream() return asched.tcp.connect("127.0.0.1", server.port) end]], "stream():read()"},
  ["http request"] = {[[
local server = asched.tcp.listen("127.0.0.1", 0, function(s) asched.sleep(1000) end)]],
    [[asched.http.get("http://127.0.0.1:" .. server.port .. "/")]]},
  process = {"", [[asched.process.run({"sleep", "31337"})]]},
}

describe("SIGINT during each kind of wait", function()
  local kinds = {}
  for kind in pairs(WAITS) do kinds[#kinds + 1] = kind end
  table.sort(kinds)
  for _, kind in ipairs(kinds) do
    local setup, wait = WAITS[kind][1], WAITS[kind][2]
    it("(" .. kind .. ") exits 130, closing both waiting tasks' <close> variables", function()
      local r = support.interrupt(PRELUDE .. setup .. "\n" .. [[
local other = asched.spawn(function()
  local guard <close> = setmetatable({}, {__close = function() print("other closed") end})
  ]] .. wait .. "\n" .. [[
end)
local guard <close> = setmetatable({}, {__close = function() print("main closed") end})
asched.sleep(0)
asched.spawn(function() asched.sleep(0.05) mark("ready") end)
asched.spawn(asched.sleep, 1000)   -- a timer: no deadlock, so only the signal ends the waits
]] .. wait .. "\n" .. [[
print("the wait returned")
]], {"ready"})
      assert.equal(130, r.status, support.describe(r))
      assert.matches("main closed", r.stdout, 1, true)
      assert.matches("other closed", r.stdout, 1, true)
      assert.is_nil(r.stdout:find("the wait returned", 1, true), support.describe(r))
      if kind == "process" then
        local p = io.popen("pgrep -f 'slee[p] 31337'")   -- [p]: not this shell's own command line
        local left = p:read("a")
        p:close()
        assert.equal("", left, "a child process was left running")
      end
    end)
  end
end)

-- SIGTERM ends a run as Ctrl-C does, so that a supervisor's stop is clean:
-- the main task is cancelled with the message "terminated", cleanup runs,
-- children are killed, and the status is 143 (128 + 15) as a shell reports it.
describe("SIGTERM", function()
  it("cancels the main task, closes every task's <close> variables, leaves no child and exits 143", function()
    local r = support.interrupt(PRELUDE .. [[
asched.spawn(asched.process.run, {"sleep", "31342"})
asched.spawn(function()
  local guard <close> = setmetatable({}, {__close = function() print("child closed") end})
  asched.sleep(1000)
end)
local guard <close> = setmetatable({}, {__close = function() print("main closed") end})
local ok, err = pcall(function()
  asched.sleep(0.1)
  mark("ready")
  asched.sleep(1000)
end)
print("caught " .. tostring(err.name) .. ": " .. tostring(err.message))
error(err, 0)
]], {"ready"}, "TERM")
    assert.equal(143, r.status, support.describe(r))
    assert.equal("caught CancelledError: terminated\nmain closed\nchild closed\n", r.stdout)
    assert.matches("asched: terminated", r.stderr, 1, true)
    local p = io.popen("pgrep -f 'slee[p] 31342'")
    local left = p:read("a")
    p:close()
    assert.equal("", left, "a child process outlived SIGTERM")
  end)
end)

-- A second signal while the cleanup sleeps 1000 s: only it can end the run
-- within the timeout (a hang shows as status 137).
describe("a second signal", function()
  for _, case in ipairs({{"INT", 130}, {"TERM", 143}}) do
    local name, status = case[1], case[2]
    it("(SIG" .. name .. ") while the cleanup sleeps exits at once with status " .. status, function()
      local r = support.interrupt(PRELUDE .. [[
pcall(function()
  mark("ready")
  asched.sleep(1000)
end)
mark("cleaning")
asched.sleep(1000)
print("cleanup finished")
]], {"ready", "cleaning"}, name)
      assert.equal(status, r.status, support.describe(r))
      assert.is_nil(r.stdout:find("cleanup finished", 1, true))
    end)
  end
end)

describe("teardown", function()
  local function children_left(pattern)
    local p = io.popen("pgrep -f '" .. pattern .. "'")
    local left = p:read("a")
    p:close()
    return left
  end

  it("os.exit inside a task exits with its code and leaves no child process", function()
    local r = support.run({script = [[
asched.spawn(asched.process.run, {"sleep", "31340"})
asched.spawn(function() asched.sleep(0.2) os.exit(7) end)
asched.sleep(1000)
]]})
    assert.equal(7, r.status, support.describe(r))
    assert.equal("", children_left("slee[p] 31340"), "a child process outlived os.exit")
  end)

  it("a script error while 1,000 tasks are parked exits 1, closing all of them, no child left", function()
    local r = support.run({script = [[
local closed = 0
for i = 1, 1000 do
  asched.spawn(function()
    local g <close> = setmetatable({}, {__close = function()
      closed = closed + 1
      if closed == 1000 then io.stdout:write("all 1000 closed\n") end
    end})
    asched.sleep(1000)
  end)
end
asched.spawn(asched.process.run, {"sleep", "31341"})
asched.sleep(0.2)
error("boom")
]]})
    assert.equal(1, r.status, support.describe(r))
    assert.matches("boom", r.stderr, 1, true)
    assert.equal("all 1000 closed\n", r.stdout)
    assert.equal("", children_left("slee[p] 31341"), "a child process outlived the run")
  end)
end)
