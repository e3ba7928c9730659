-- asched.task_group as the asched program reports it: the errors a group hands on
-- in a TaskGroupError count as observed (never reported as unretrieved, whether the
-- script catches the TaskGroupError or dies of it), and a deadlock inside a group
-- is reported as a DeadlockError, unwrapped, naming the children the group waits for.
local support = dofile(debug.getinfo(1, "S").source:match("^@(.-)[^/]*$") .. "support.lua")

local function run_virtual(script, options)
  local all = {"--virtual-time"}
  for _, o in ipairs(options or {}) do all[#all + 1] = o end
  return support.run({script = script, options = all})
end

-- A script whose group gathers three errors (a child's, the body's and a child's
-- cleanup's), catches the TaskGroupError, collects garbage, and runs on; then a
-- lone task fails and nobody retrieves its error, as a control: that one, and
-- only that one, must be reported.
local CAUGHT = [[
local ok, err = pcall(asched.task_group, function(tg)
  tg:spawn(function() asched.sleep(1); error("child failed") end)
  tg:spawn(function()
    pcall(asched.sleep, 10)
    asched.sleep(0.5)
    error("cleanup failed")
  end)
  pcall(asched.sleep, 10)
  error("body failed")
end)
print(err.name, #err.errors)
err = nil
collectgarbage(); collectgarbage()
asched.sleep(1)
collectgarbage(); collectgarbage()
local lost = asched.spawn(function() error("nobody retrieves this") end)
lost.name = "control"
lost = nil
asched.sleep(1)
]]

describe("the errors a task group hands on", function()
  it("are never reported as unretrieved when the script catches the TaskGroupError", function()
    local r = run_virtual(CAUGHT)
    assert.equal(0, r.status, support.describe(r))
    assert.equal("TaskGroupError\t3\n", r.stdout)
    assert.matches("error in control was never retrieved", r.stderr, 1, true)
    assert.not_matches("child failed", r.stderr, 1, true)
    assert.not_matches("cleanup failed", r.stderr, 1, true)
    assert.not_matches("body failed", r.stderr, 1, true)
    local _, reports = r.stderr:gsub("was never retrieved", "")
    assert.equal(1, reports, support.describe(r))
  end)

  it("are never reported as unretrieved under --debug, which reports them as they are collected", function()
    local r = run_virtual(CAUGHT, {"--debug"})
    assert.equal(0, r.status, support.describe(r))
    assert.matches("error in control [^\n]*was never retrieved", r.stderr)
    assert.not_matches("child failed", r.stderr, 1, true)
    assert.not_matches("cleanup failed", r.stderr, 1, true)
    local _, reports = r.stderr:gsub("was never retrieved", "")
    assert.equal(1, reports, support.describe(r))
  end)

  it("are not reported again when the script dies of the TaskGroupError", function()
    local r = run_virtual([[
asched.task_group(function(tg)
  tg:spawn(function() asched.sleep(1); error("child failed") end)
  asched.sleep(10)
end)
]])
    assert.equal(1, r.status, support.describe(r))
    assert.matches("^asched: TaskGroupError: ", r.stderr)
    assert.not_matches("was never retrieved", r.stderr, 1, true)
  end)
end)

describe("a deadlock inside a task group", function()
  it("ends the run with a DeadlockError, not wrapped, whose message lists the group's children", function()
    local script = [[
local never = asched.event()
asched.task_group(function(tg) -- the group waits here
  tg:spawn(never.wait, never).name = "alpha"
  tg:spawn(function() never:wait() end).name = "beta"
end)
]]
    local r = run_virtual(script)
    assert.equal(1, r.status, support.describe(r))
    assert.matches("^asched: DeadlockError: ", r.stderr)
    assert.not_matches("TaskGroupError", r.stderr, 1, true)
    assert.matches("waiting for its task group: alpha, beta at " .. r.script .. ":"
      .. support.line_of(script, "the group waits here") .. ")", r.stderr, 1, true)
    assert.matches("\n  beta (waiting on event at ", r.stderr, 1, true)
  end)
end)
