-- loading_spec.lua -- the asched module as the asched executable provides it
-- (API.md, Loading). Loading from a plain lua5.4 is pinned in tests/module.
local helpers = require("spec.helpers")

describe("the asched module inside the asched executable", function()
  after_each(helpers.cancel_leftovers)

  it("is preloaded as the global asched, the same table require returns", function()
    assert.equals("table", type(asched))
    assert.equals(asched, require("asched"))
  end)

  it("has a version string such as 0.1.0", function()
    assert.equals("string", type(asched.version))
    assert.matches("^%d+%.%d+%.%d+", asched.version)
  end)

  it("runs busted itself as the main task, so specs may suspend", function()
    assert.is_not_nil(asched.current_task())
    local t0 = asched.now()
    asched.sleep(0.25)
    helpers.assert_elapsed(0.25, t0)
  end)
end)
