-- errors_spec.lua -- the error objects asched raises itself: tables with `name` and
-- `message` whose tostring is "name: message" (API.md, Errors).
local helpers = require("spec.helpers")
local error_of = helpers.error_of

-- Pins the shape every asched error object shares.
local function assert_error_object(name, err)
  assert.equals("table", type(err))
  assert.equals(name, err.name)
  assert.equals("string", type(err.message))
  assert.is_true(#err.message > 0, "the message is empty")
  assert.equals(err.name .. ": " .. err.message, tostring(err))
end

describe("asched error objects", function()
  after_each(helpers.cancel_leftovers)

  it("CancelledError has a name, the given message, and tostring name: message", function()
    local t = asched.spawn(asched.sleep, 10)
    asched.sleep(0)
    t:cancel("operator asked")
    local err = error_of(t.await, t)
    assert_error_object("CancelledError", err)
    assert.equals("operator asked", err.message)
    assert.equals("CancelledError: operator asked", tostring(err))
  end)

  it("CancelledError without a given message still has a message", function()
    local t = asched.spawn(asched.sleep, 10)
    asched.sleep(0)
    t:cancel()
    assert_error_object("CancelledError", error_of(t.await, t))
  end)

  it("InvalidStateError from result() of a pending task has a name, a message and tostring name: message", function()
    local t = asched.spawn(asched.sleep, 1)
    assert_error_object("InvalidStateError", error_of(t.result, t))
    assert_error_object("InvalidStateError", error_of(t.exception, t))
  end)

  it("RuntimeError from a task awaiting itself has a name, a message and tostring name: message", function()
    local t = asched.spawn(function()
      local me = asched.current_task()
      return error_of(me.await, me)
    end)
    assert_error_object("RuntimeError", t:await())
  end)

  it("RuntimeError from coroutine.yield() in a task has a name, a message and tostring name: message", function()
    local t = asched.spawn(function() coroutine.yield() end)
    assert_error_object("RuntimeError", error_of(t.await, t))
  end)

  it("can be told apart by comparing err.name", function()
    local cancelled = asched.spawn(asched.sleep, 10)
    local pending = asched.spawn(asched.sleep, 10)
    cancelled:cancel()
    local a = error_of(cancelled.await, cancelled)
    local b = error_of(pending.result, pending)
    assert.is_true(a.name == "CancelledError" and b.name == "InvalidStateError")
  end)

  it("keeps its fields and tostring when it passes through error() and pcall again", function()
    local t = asched.spawn(asched.sleep, 10)
    t:cancel("once more")
    local first = error_of(t.await, t)
    local again = error_of(error, first)
    assert.equals(first, again)
    assert.equals("CancelledError: once more", tostring(again))
  end)
end)
