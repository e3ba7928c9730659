-- --debug and asched.debug(on): a task that runs over 100 ms without suspending
-- is reported on stderr with its name and the Lua line it was at. The busy
-- loops burn real CPU time, so 250 ms of it is always over the 100 ms limit
-- whatever the machine; the clock the limit reads is real even under
-- --virtual-time.
local support = dofile(debug.getinfo(1, "S").source:match("^@(.-)[^/]*$") .. "support.lua")

local BUSY = [[
local t = asched.spawn(function()
  local start = os.clock()
  while os.clock() - start < 0.25 do end -- the busy line
  asched.sleep(0)
end)
t.name = "cruncher"
t:await()
]]

local function warnings(stderr)
  local list = {}
  for line in stderr:gmatch("[^\n]+") do
    if line:find("^asched: warning: ") then list[#list + 1] = line end
  end
  return list
end

describe("--debug", function()
  it("names a busy task and the line it was on when the limit passed", function()
    local r = support.run({options = {"--debug"}, script = BUSY})
    assert.equal(0, r.status, support.describe(r))
    local w = warnings(r.stderr)
    assert.equal(1, #w, support.describe(r))
    assert.matches("asched: warning: cruncher has run 1%d%d ms without suspending, now at "
      .. r.script:gsub("%p", "%%%0") .. ":" .. support.line_of(BUSY, "the busy line"), w[1])
    assert.matches("stack traceback:", r.stderr, 1, true)
  end)

  it("still measures real time under --virtual-time", function()
    local r = support.run({options = {"--virtual-time", "--debug"}, script = BUSY})
    assert.equal(0, r.status, support.describe(r))
    assert.equal(1, #warnings(r.stderr), support.describe(r))
  end)

  it("reports time spent blocked in a C call once the task suspends, with the line", function()
    local script = [[
local t = asched.spawn(function()
  os.execute("sleep 0.25")
  asched.sleep(0) -- where it suspends
end)
t:await()
]]
    local r = support.run({options = {"--debug"}, script = script})
    assert.equal(0, r.status, support.describe(r))
    local w = warnings(r.stderr)
    assert.equal(1, #w, support.describe(r))
    assert.matches("asched: warning: task%-2 ran %d+ ms without suspending, until it suspended at "
      .. r.script:gsub("%p", "%%%0") .. ":" .. support.line_of(script, "where it suspends"), w[1])
  end)

  it("says nothing about tasks that suspend often", function()
    local script = [[
local t = asched.spawn(function()
  for _ = 1, 40 do
    local start = os.clock()
    while os.clock() - start < 0.002 do end
    asched.sleep(0)
  end
end)
t:await()
]]
    local r = support.run({options = {"--debug"}, script = script})
    assert.equal(0, r.status, support.describe(r))
    assert.same({}, warnings(r.stderr))
  end)

  it("is off without the option", function()
    local r = support.run({script = BUSY})
    assert.equal(0, r.status, support.describe(r))
    assert.same({}, warnings(r.stderr))
  end)
end)

describe("asched.debug", function()
  it("turns the watchdog on and off from inside a run and returns the previous setting", function()
    local script = [[
print(asched.debug(), asched.debug(true), asched.debug())
]] .. BUSY .. [[
print(asched.debug(false))
local start = os.clock()
while os.clock() - start < 0.25 do end
]]
    local r = support.run({script = script})
    assert.equal(0, r.status, support.describe(r))
    assert.equal("false\tfalse\ttrue\ntrue\n", r.stdout)
    assert.equal(1, #warnings(r.stderr), support.describe(r))
  end)

  it("rejects a non-boolean in Lua's style", function()
    local r = support.run({script = "asched.debug('yes')"})
    assert.equal(1, r.status, support.describe(r))
    assert.matches("bad argument #1 to '[%w.]*debug' %(boolean expected, got string%)", r.stderr)
  end)
end)
