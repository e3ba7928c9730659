-- Spawned children and the end of a run, through the module (issue 20): the
-- moment asched.run returns -- normally or with an error -- every child the run
-- spawned and left running has been killed and reaped: no child of this
-- process is left, not even a zombie. The Process then tells how it ended.
-- (The program's own ends -- Ctrl-C, SIGTERM, os.exit, a failing script -- are
-- in tests/cli/spawn_spec.lua.)
local asched = require("asched")

local function read(path)
  local f = io.open(path)
  if not f then return nil end
  local text = f:read("a")
  f:close()
  return text
end

local PID = tonumber(read("/proc/self/stat"):match("^(%d+)"))

-- The processes whose parent is this one, zombies included: pid -> state.
local function children()
  local found = {}
  local ls = io.popen("ls /proc")
  local names = ls:read("a")
  ls:close()                                 -- ls itself is reaped by now
  for name in names:gmatch("%d+\n") do
    name = name:sub(1, -2)
    local state, ppid = (read("/proc/" .. name .. "/stat") or ""):match("%) (%a) (%d+)")
    if ppid and tonumber(ppid) == PID then found[tonumber(name)] = state end
  end
  return found
end

describe("the end of a run with spawned children", function()
  it("kills and reaps every child left running before asched.run returns", function()
    local procs = asched.run(function()
      local list = {
        asched.process.spawn({"sleep", "1000"}),
        asched.process.spawn({"sleep", "1000"}, {stdin = "pipe", stdout = "pipe", stderr = "pipe"}),
      }
      local waiter = asched.spawn(list[1].wait, list[1])   -- left waiting: cancelled at the end
      asched.sleep(0.01)
      return list
    end)
    assert.same({}, children())
    for _, p in ipairs(procs) do
      assert.is_nil(children()[p.pid])
      assert.same({nil, "SIGKILL"}, {asched.run(p.wait, p)})
      assert.is_false(p:kill())
    end
    assert.matches("closed", tostring(procs[2].stdout))
  end)

  it("kills and reaps them when the run fails, too", function()
    local pid
    local ok, err = pcall(asched.run, function()
      pid = asched.process.spawn({"sleep", "1000"}).pid
      asched.sleep(0.01)
      error("the run failed", 0)
    end)
    assert.is_false(ok)
    assert.equal("the run failed", err)
    assert.is_nil(children()[pid])
    assert.same({}, children())
  end)
end)
