-- On the real clock, a loop that falls behind still fires due deadlines one at a
-- time: the tasks one deadline wakes (and what they wake) run before a later
-- deadline fires. The main task blocks the loop by busy-waiting until both
-- deadlines have passed, so the case arises on every run, however fast the machine.
local asched = require("asched")

describe("a loop running late", function()
  it("lets the tasks an earlier deadline wakes finish before a later deadline fires", function()
    local events = {}
    asched.run(function()
      local early = asched.spawn(function()
        asched.sleep(0.05)
        events[#events + 1] = "early woke"
        asched.sleep(0)                   -- one more turn through the ready queue
        events[#events + 1] = "early done"
      end)
      local late = asched.spawn(function()
        asched.sleep(0.1)
        events[#events + 1] = "late woke"
      end)
      asched.sleep(0)                     -- both timers are now set
      local start = asched.now()
      while asched.now() - start < 0.2 do end  -- block the loop past both deadlines
      early:await()
      late:await()
    end)
    assert.same({"early woke", "early done", "late woke"}, events)
  end)
end)
