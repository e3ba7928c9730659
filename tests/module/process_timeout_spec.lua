-- asched.process.run's timeout, in real time (under virtual time a running
-- child holds the clock only for the autojump threshold): on expiry the child is killed and TimeoutError
-- raised, and nothing it would have done later happens.
local asched = require("asched")

describe("asched.process.run with a timeout", function()
  it("kills the child and raises TimeoutError when the timeout expires", function()
    local dir = os.tmpname()
    os.remove(dir)
    assert(os.execute("mkdir " .. dir))
    local err, listing = asched.run(function()
      local ok, e = pcall(asched.process.run, {"sh", "-c", "sleep 0.5; touch " .. dir .. "/late"}, {timeout = 0.05})
      assert(not ok)
      asched.sleep(0.8)           -- past the time the child would have touched its file
      return e, asched.fs.list_dir(dir)
    end)
    os.execute("rm -rf " .. dir)
    assert.equal("TimeoutError", err.name)
    assert.same({}, listing)
  end)

  it("returns the result when the child finishes in time", function()
    local r = asched.run(function() return asched.process.run({"echo", "quick"}, {timeout = 5}) end)
    assert.equal("quick\n", r.stdout)
  end)
end)
