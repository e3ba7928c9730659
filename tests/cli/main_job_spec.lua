-- The README's main job, scripts/hello.lua: five concurrent sleeps finish in
-- the time of the longest, not of their sum.
local here = debug.getinfo(1, "S").source:match("^@(.-)[^/]*$")
local support = dofile(here .. "support.lua")

local hello = assert(support.read(here .. "../../scripts/hello.lua"))

describe("scripts/hello.lua", function()
  it("finishes five concurrent sleeps in the time of the longest one", function()
    local r = support.run({script = hello, options = {"--virtual-time"}})
    assert.equal(0, r.status, support.describe(r))
    assert.equal("", r.stderr)
    assert.matches("slept 3.0 s in all, in 1.00 s of loop time", r.stdout, 1, true)
  end)

  it("wakes the workers in the order of their deadlines", function()
    local r = support.run({script = hello, options = {"--virtual-time"}})
    local order = {}
    for worker in r.stdout:gmatch("worker (%d) done") do order[#order + 1] = tonumber(worker) end
    assert.same({2, 4, 1, 5, 3}, order)
  end)
end)
