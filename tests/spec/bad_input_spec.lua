-- bad_input_spec.lua -- wrong calls: Lua-style argument errors, suspending outside
-- a task or across a C-call boundary, bare coroutine.yield, and a nested asched.run.
local helpers = require("spec.helpers")
local error_of, assert_error_named = helpers.error_of, helpers.assert_error_named

-- The message of a Lua error raised in this file, without its "file:line: "
-- position prefix (which Lua adds to argument errors as to any luaL_error).
local function message_of(err)
  assert.equals("string", type(err), "expected a string error, got: " .. tostring(err))
  local message, found = err:gsub("^spec/bad_input_spec%.lua:%d+: ", "")
  assert.equals(1, found, "no position prefix naming this file in: " .. err)
  return message
end

-- Runs fn in a plain coroutine and returns the error it stopped with.
local function error_in_coroutine(fn)
  local co = coroutine.create(fn)
  local ok, err = coroutine.resume(co)
  assert.is_false(ok, "the coroutine did not fail")
  return err
end

-- Asserts that the loop still works: a spawned task sleeps and is awaited, and
-- exactly `seconds` pass.
local function assert_loop_works()
  local t0 = asched.now()
  local t = asched.spawn(function(x) asched.sleep(0.5); return x end, "still fine")
  assert.equals("still fine", t:await())
  helpers.assert_elapsed(0.5, t0)
end

describe("argument errors", function()
  after_each(helpers.cancel_leftovers)

  -- Each call is a statement inside a function (not a tail call), so Lua names
  -- the called function as a user would see it.

  it("sleep with a string reads as Lua's own argument error", function()
    local err = message_of(error_of(function() asched.sleep("soon") end))
    assert.equals("bad argument #1 to 'sleep' (number expected, got string)", err)
  end)

  it("sleep without arguments reads as Lua's own argument error", function()
    local err = message_of(error_of(function() asched.sleep() end))
    assert.equals("bad argument #1 to 'sleep' (number expected, got no value)", err)
  end)

  it("sleep with NaN is an argument error", function()
    local err = message_of(error_of(function() asched.sleep(0 / 0) end))
    assert.matches("^bad argument #1 to 'sleep' %(.+%)$", err)
  end)

  it("sleep with NaN does not suspend the caller", function()
    local other_ran = false
    asched.spawn(function() other_ran = true end)
    pcall(function() asched.sleep(0 / 0) end)
    assert.is_false(other_ran)
  end)

  it("spawn with a non-function reads as Lua's own argument error", function()
    local err = message_of(error_of(function() asched.spawn(42) end))
    assert.equals("bad argument #1 to 'spawn' (function expected, got number)", err)
  end)

  it("create_task without a function reads as Lua's own argument error", function()
    local err = message_of(error_of(function() asched.create_task() end))
    assert.equals("bad argument #1 to 'create_task' (function expected, got no value)", err)
  end)

  it("await with a non-task names the Task type", function()
    local err = message_of(error_of(function() asched.await("task-1") end))
    assert.equals("bad argument #1 to 'await' (asched.Task expected, got string)", err)
  end)

  it("a Task method called on a non-task names the Task type", function()
    local t = asched.spawn(function() end)
    local err = message_of(error_of(function() t.done({}) end))
    assert.equals("bad argument #1 to 'done' (asched.Task expected, got table)", err)
  end)

  it("add_done_callback with a non-function counts arguments after the task, as for methods", function()
    local t = asched.spawn(function() end)
    local err = message_of(error_of(function() t:add_done_callback("later") end))
    assert.equals("bad argument #1 to 'add_done_callback' (function expected, got string)", err)
  end)

  it("cancel with a table message reads as Lua's own argument error", function()
    local t = asched.spawn(function() end)
    local err = message_of(error_of(function() t:cancel({}) end))
    assert.equals("bad argument #1 to 'cancel' (string expected, got table)", err)
    assert.is_false(t:cancelled())
  end)

  it("an argument error is a plain string, not an asched error object", function()
    local err = error_of(function() asched.sleep(false) end)
    assert.equals("string", type(err))
  end)
end)

describe("suspending outside a task", function()
  after_each(helpers.cancel_leftovers)

  it("sleep in a plain coroutine inside a task says asched.sleep: not inside a task", function()
    local err = message_of(error_in_coroutine(function() asched.sleep(1) end))
    assert.matches("^asched%.sleep: not inside a task", err)
  end)

  it("await in a plain coroutine inside a task says asched.await: not inside a task", function()
    local t = asched.spawn(function() end)
    local err = message_of(error_in_coroutine(function() t:await() end))
    assert.matches("^asched%.await: not inside a task", err)
    t:await()
  end)

  it("sleep through coroutine.wrap raises the same message to the caller", function()
    local err = error_of(coroutine.wrap(function() asched.sleep(0) end))
    assert.is_truthy(err:find("asched.sleep: not inside a task", 1, true), err)
  end)

  it("sleep in a done callback, which runs outside any task, says not inside a task", function()
    local t = asched.spawn(function() end)
    local err
    t:add_done_callback(function() err = select(2, pcall(asched.sleep, 0)) end)
    t:await()
    asched.sleep(0)
    assert.matches("^asched%.sleep: not inside a task", err)
  end)

  it("leaves the task that ran the coroutine able to suspend", function()
    error_in_coroutine(function() asched.sleep(1) end)
    assert_loop_works()
  end)

  it("spawn works from a plain coroutine inside a task, since it does not suspend", function()
    local co = coroutine.wrap(function() return asched.spawn(function() return "spawned" end) end)
    local t = co()
    assert.equals("spawned", t:await())
  end)

  it("plain coroutines inside a task still yield to their resumer as usual", function()
    local gen = coroutine.wrap(function()
      for i = 1, 3 do coroutine.yield(i) end
    end)
    assert.same({1, 2, 3}, {gen(), gen(), gen()})
    asched.sleep(0)
  end)
end)

describe("yielding across a C-call boundary", function()
  after_each(helpers.cancel_leftovers)

  it("sleep inside a table.sort comparator raises a clear error naming the problem", function()
    local err = error_of(table.sort, {3, 1, 2}, function(a, b)
      asched.sleep(0)
      return a < b
    end)
    assert.equals("string", type(err))
    assert.is_truthy(err:find("asched.sleep", 1, true), err)
    assert.is_truthy(err:find("C-call boundary", 1, true), err)
  end)

  it("keeps the loop working after sleep was tried inside table.sort", function()
    pcall(table.sort, {3, 1, 2}, function(a, b) asched.sleep(1); return a < b end)
    assert_loop_works()
  end)

  it("await inside a string.gsub callback raises a clear error naming the problem", function()
    local t = asched.spawn(function() return "x" end)
    local err = error_of(string.gsub, "abc", "%w", function() return t:await() end)
    assert.is_truthy(err:find("asched.await", 1, true), err)
    assert.is_truthy(err:find("C-call boundary", 1, true), err)
    assert.equals("x", t:await())
  end)

  it("fails only the spawned task that tried it, which other tasks can await", function()
    local t = asched.spawn(function()
      table.sort({2, 1}, function(a, b) asched.sleep(0); return a < b end)
    end)
    local err = error_of(t.await, t)
    assert.is_truthy(tostring(err):find("C-call boundary", 1, true), tostring(err))
    assert_loop_works()
  end)
end)

describe("coroutine.yield() directly in a task", function()
  after_each(helpers.cancel_leftovers)

  it("fails the task with a RuntimeError", function()
    local t = asched.spawn(function() coroutine.yield() end)
    local err = error_of(t.await, t)
    assert_error_named("RuntimeError", err)
    assert.is_false(t:cancelled())
  end)

  it("fails the task with a RuntimeError when values are yielded too", function()
    local t = asched.spawn(function() coroutine.yield("a", 1) end)
    assert_error_named("RuntimeError", error_of(t.await, t))
  end)

  it("does not run the rest of the task", function()
    local after = false
    local t = asched.spawn(function() coroutine.yield(); after = true end)
    pcall(t.await, t)
    asched.sleep(1)
    assert.is_false(after)
  end)

  it("still runs the task's <close> variables", function()
    local closed = false
    local t = asched.spawn(function()
      local _ <close> = setmetatable({}, {__close = function() closed = true end})
      coroutine.yield()
    end)
    pcall(t.await, t)
    assert.is_true(closed)
  end)

  it("leaves other tasks and the loop working", function()
    local sibling = asched.spawn(function() asched.sleep(1); return "sibling done" end)
    local t = asched.spawn(function() coroutine.yield() end)
    pcall(t.await, t)
    assert.equals("sibling done", sibling:await())
    assert_loop_works()
  end)
end)

describe("asched.run inside a running loop", function()
  after_each(helpers.cancel_leftovers)

  it("is an error, and never calls the function", function()
    local called = false
    local ok, err = pcall(asched.run, function() called = true end)
    assert.is_false(ok)
    assert.is_truthy(tostring(err):find("asched.run", 1, true), tostring(err))
    assert.is_false(called)
  end)

  it("is an error inside a spawned task too", function()
    local called = false
    local t = asched.spawn(function()
      return pcall(asched.run, function() called = true end)
    end)
    assert.is_false((t:await()))
    assert.is_false(called)
  end)

  it("leaves the running loop working", function()
    pcall(asched.run, function() end)
    assert_loop_works()
  end)
end)
