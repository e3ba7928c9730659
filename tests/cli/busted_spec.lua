-- asched stands in for lua5.4 under busted: `busted --lua=asched` runs specs
-- whose `it` blocks suspend, busted itself running as the main task.
local support = dofile(debug.getinfo(1, "S").source:match("^@(.-)[^/]*$") .. "support.lua")

-- Runs busted with --lua=asched on one inner spec file in a fresh directory.
local function busted_with_asched(inner)
  return support.run({
    program = "busted",
    no_script = true,
    options = {"--lua=" .. support.asched, "-o", "plainTerminal", "inner_spec.lua"},
    files = {["inner_spec.lua"] = inner},
    env = {ASCHED_VIRTUAL_TIME = "1"},
  })
end

describe("busted --lua=asched", function()
  it("runs a spec whose it block calls asched.sleep directly, under the virtual clock", function()
    local r = busted_with_asched([[
describe("inside asched", function()
  it("sleeps", function()
    local t0 = asched.now()
    asched.sleep(100)
    assert.equal(100, asched.now() - t0)
  end)
  it("awaits a task", function()
    local t = asched.spawn(function() asched.sleep(1) return "done" end)
    assert.equal("done", t:await())
  end)
end)
]])
    assert.equal(0, r.status, support.describe(r))
    assert.matches("2 successes / 0 failures / 0 errors", r.stdout, 1, true)
  end)

  it("reports a failing assertion after a sleep as a failure, exiting non-zero", function()
    local r = busted_with_asched([[
describe("inside asched", function()
  it("sleeps", function()
    asched.sleep(100)
    assert.equal(99, asched.now())
  end)
end)
]])
    assert.are_not.equal(0, r.status, support.describe(r))
    assert.matches("0 successes / 1 failure", r.stdout, 1, true)
  end)
end)
