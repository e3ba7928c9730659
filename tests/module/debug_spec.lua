-- Debug mode from a plain lua5.4: asched.run's `debug` option is for one run;
-- asched.debug(on) sets it for the running loop and the runs after it. (What
-- debug mode reports is in tests/cli/debug_spec.lua, where stderr is seen.)
local asched = require("asched")

describe("debug mode through the module", function()
  after_each(function() asched.debug(false) end)

  it("is off by default", function()
    assert.is_false(asched.debug())
    assert.is_false(asched.run(asched.debug))
  end)

  it("is on for one run with {debug = true}", function()
    assert.is_true(asched.run({debug = true}, asched.debug))
    assert.is_false(asched.run(asched.debug))
  end)

  it("stays on for later runs once asched.debug(true) is called", function()
    assert.is_false(asched.debug(true))
    assert.is_true(asched.run(asched.debug))
    assert.is_true(asched.debug(false))
    assert.is_false(asched.run(asched.debug))
  end)
end)
