-- tasks_spec.lua -- the Task: spawning, names, await, its state and results, done
-- callbacks, current_task and all_tasks (API.md, Tasks). Cancellation has its own file.
local helpers = require("spec.helpers")
local error_of, assert_error_named = helpers.error_of, helpers.assert_error_named

local function returns(...)
  local values = table.pack(...)
  return function() return table.unpack(values, 1, values.n) end
end

describe("asched.spawn", function()
  after_each(helpers.cancel_leftovers)

  it("never runs the task's function inside spawn itself", function()
    local ran = false
    local t = asched.spawn(function() ran = true end)
    assert.is_false(ran)
    assert.is_false(t:done())
    t:await()
    assert.is_true(ran)
  end)

  it("starts the task on a later loop step, once the spawner suspends", function()
    local log = {}
    asched.spawn(function() log[#log + 1] = "task" end)
    log[#log + 1] = "spawner before yielding"
    asched.sleep(0)
    log[#log + 1] = "spawner after yielding"
    assert.same({"spawner before yielding", "task", "spawner after yielding"}, log)
  end)

  it("starts tasks in the order they were spawned", function()
    local log = {}
    for i = 1, 5 do asched.spawn(function() log[#log + 1] = i end) end
    asched.sleep(0)
    assert.same({1, 2, 3, 4, 5}, log)
  end)

  it("passes the extra arguments to the function, nils included", function()
    local t = asched.spawn(function(...) return select("#", ...), ... end, "a", nil, 3, nil)
    local got = table.pack(t:await())
    assert.same({n = 5, 4, "a", nil, 3, nil}, got)
  end)

  it("create_task spawns a task just like spawn", function()
    local ran = false
    local t = asched.create_task(function(x) ran = true; return x * 2 end, 21)
    assert.is_false(ran)
    assert.equals(42, t:await())
    assert.is_true(ran)
  end)

  it("accepts a callable table as the task's function", function()
    local callable = setmetatable({}, {__call = function(self, x) return self, x end})
    local t = asched.spawn(callable, "arg")
    local self, x = t:await()
    assert.equals(callable, self)
    assert.equals("arg", x)
  end)

  it("a task may spawn tasks of its own, which it can await", function()
    local outer = asched.spawn(function()
      local inner = asched.spawn(function() return "inner done" end)
      return "outer saw " .. inner:await()
    end)
    assert.equals("outer saw inner done", outer:await())
  end)
end)

describe("Task names", function()
  after_each(helpers.cancel_leftovers)

  it("the main task is task-1", function()
    assert.equals("task-1", asched.current_task().name)
  end)

  it("names tasks task-<n>, numbered in spawn order", function()
    local a = asched.spawn(function() end)
    local b = asched.spawn(function() end)
    local n = tonumber(a.name:match("^task%-(%d+)$"))
    assert.is_not_nil(n, "name was " .. tostring(a.name))
    assert.is_true(n > 1)
    assert.equals("task-" .. (n + 1), b.name)
  end)

  it("numbers tasks from the ones before them even when those have finished", function()
    local a = asched.spawn(function() end)
    a:await()
    local b = asched.spawn(function() end)
    local n = tonumber(a.name:match("^task%-(%d+)$"))
    assert.equals("task-" .. (n + 1), b.name)
  end)

  it("task.name can be assigned, and the task then goes by that name", function()
    local t = asched.spawn(function() end)
    t.name = "fetcher"
    assert.equals("fetcher", t.name)
    t:await()
    assert.equals("fetcher", t.name)
  end)

  it("a task may name itself through current_task", function()
    local t = asched.spawn(function() asched.current_task().name = "self-named" end)
    assert.is_truthy(t.name:match("^task%-%d+$"))
    t:await()
    assert.equals("self-named", t.name)
  end)

  it("assigning a name to one task leaves the others' names alone", function()
    local a = asched.spawn(function() end)
    local b = asched.spawn(function() end)
    local b_name = b.name
    a.name = "renamed"
    assert.equals(b_name, b.name)
  end)
end)

describe("Task:await", function()
  after_each(helpers.cancel_leftovers)

  it("suspends until the task finishes and returns its value", function()
    local t0 = asched.now()
    local t = asched.spawn(function() asched.sleep(2); return "done" end)
    assert.equals("done", t:await())
    helpers.assert_elapsed(2, t0)
  end)

  it("returns every value the task returned, nils included", function()
    local t = asched.spawn(returns(1, nil, "three", nil, false))
    assert.same({n = 5, 1, nil, "three", nil, false}, table.pack(t:await()))
  end)

  it("returns trailing nils of a task that returned only nils", function()
    local t = asched.spawn(returns(nil, nil))
    assert.equals(2, select("#", t:await()))
  end)

  it("returns a single nil as one value", function()
    local t = asched.spawn(function() return nil end)
    assert.equals(1, select("#", t:await()))
  end)

  it("returns hundreds of values when the task returned that many", function()
    local values = {}
    for i = 1, 300 do values[i] = i end
    local t = asched.spawn(returns(table.unpack(values)))
    assert.same(values, {t:await()})
  end)

  it("returns no values for a task that returned none", function()
    local t = asched.spawn(function() end)
    assert.equals(0, select("#", t:await()))
  end)

  it("returns a single table value as the same table", function()
    local value = {}
    local t = asched.spawn(returns(value))
    assert.equals(value, t:await())
  end)

  it("asched.await(task) is the same as task:await()", function()
    local t = asched.spawn(returns("x", nil, "z"))
    assert.same({n = 3, "x", nil, "z"}, table.pack(asched.await(t)))
  end)

  it("re-raises a table error value unchanged (the same table)", function()
    local problem = {code = 7}
    local t = asched.spawn(function() asched.sleep(0); error(problem) end)
    assert.equals(problem, error_of(t.await, t))
  end)

  it("re-raises a string error unchanged, position prefix and all", function()
    local t = asched.spawn(function() error("disk full") end)
    local err = error_of(t.await, t)
    assert.equals("string", type(err))
    assert.matches("^.-tasks_spec%.lua:%d+: disk full$", err)
  end)

  it("re-raises non-string error values such as numbers, booleans and nil unchanged", function()
    local n = asched.spawn(function() error(42) end)
    local b = asched.spawn(function() error(false) end)
    local z = asched.spawn(function() error(nil) end)
    assert.equals(42, error_of(n.await, n))
    assert.equals(false, error_of(b.await, b))
    local ok, err = pcall(z.await, z)
    assert.is_false(ok)
    assert.is_nil(err)
  end)

  it("re-raises the same error every time a failed task is awaited", function()
    local problem = {}
    local t = asched.spawn(function() error(problem) end)
    assert.equals(problem, error_of(t.await, t))
    assert.equals(problem, error_of(t.await, t))
  end)

  it("does not suspend when the task has already finished", function()
    local t = asched.spawn(returns("early"))
    t:await()
    local other_ran = false
    asched.spawn(function() other_ran = true end)
    assert.equals("early", t:await())
    assert.is_false(other_ran, "await of a finished task let another task run")
    asched.sleep(0)
    assert.is_true(other_ran)
  end)

  it("does not suspend when the task has already failed", function()
    local t = asched.spawn(function() error("failed early", 0) end)
    asched.sleep(0)
    local other_ran = false
    asched.spawn(function() other_ran = true end)
    assert.equals("failed early", error_of(t.await, t))
    assert.is_false(other_ran, "await of a failed task let another task run")
  end)

  it("wakes every task awaiting the same task, each with all the values", function()
    local target = asched.spawn(function() asched.sleep(1); return "v", 2 end)
    local waiters = {}
    for i = 1, 3 do
      waiters[i] = asched.spawn(function() return table.pack(target:await()) end)
    end
    for i = 1, 3 do
      assert.same({n = 2, "v", 2}, waiters[i]:await())
    end
  end)

  it("resumes the tasks awaiting one task in the order they began to await", function()
    local target = asched.spawn(function() asched.sleep(1) end)
    local log = {}
    for i = 1, 4 do
      asched.spawn(function() target:await(); log[#log + 1] = i end)
    end
    target:await()
    asched.sleep(0)
    assert.same({1, 2, 3, 4}, log)
  end)

  it("a task awaiting itself raises an error instead of waiting forever", function()
    local t = asched.spawn(function()
      local me = asched.current_task()
      return error_of(me.await, me)
    end)
    local err = t:await()
    assert_error_named("RuntimeError", err)
  end)

  it("raises CancelledError when the awaited task was cancelled", function()
    local t = asched.spawn(function() asched.sleep(10) end)
    asched.sleep(0)
    t:cancel()
    assert_error_named("CancelledError", error_of(t.await, t))
  end)
end)

describe("Task state", function()
  after_each(helpers.cancel_leftovers)

  it("done() is false while the task is pending and true once it has finished", function()
    local t = asched.spawn(function() asched.sleep(1) end)
    assert.is_false(t:done())
    asched.sleep(0)
    assert.is_false(t:done())
    t:await()
    assert.is_true(t:done())
  end)

  it("done() is true for a failed task and for a cancelled one", function()
    local failed = asched.spawn(function() error("x") end)
    local cancelled = asched.spawn(function() asched.sleep(1) end)
    cancelled:cancel()
    pcall(failed.await, failed)
    pcall(cancelled.await, cancelled)
    assert.is_true(failed:done())
    assert.is_true(cancelled:done())
  end)

  it("cancelled() is true only for a task that ended cancelled", function()
    local ok = asched.spawn(function() end)
    local failed = asched.spawn(function() error("x") end)
    local cancelled = asched.spawn(function() asched.sleep(1) end)
    asched.sleep(0)
    cancelled:cancel()
    assert.is_false(cancelled:cancelled(), "cancelled() before the task has ended")
    pcall(ok.await, ok)
    pcall(failed.await, failed)
    pcall(cancelled.await, cancelled)
    assert.is_false(ok:cancelled())
    assert.is_false(failed:cancelled())
    assert.is_true(cancelled:cancelled())
  end)

  it("result() returns every value of a finished task, nils included", function()
    local t = asched.spawn(returns(nil, "b", nil))
    t:await()
    assert.same({n = 3, nil, "b", nil}, table.pack(t:result()))
  end)

  it("result() raises InvalidStateError while the task is pending", function()
    local t = asched.spawn(function() asched.sleep(1) end)
    assert_error_named("InvalidStateError", error_of(t.result, t))
    asched.sleep(0)
    assert_error_named("InvalidStateError", error_of(t.result, t))
  end)

  it("result() raises the error value of a failed task unchanged", function()
    local problem = {}
    local t = asched.spawn(function() error(problem) end)
    pcall(t.await, t)
    assert.equals(problem, error_of(t.result, t))
  end)

  it("result() raises CancelledError for a cancelled task", function()
    local t = asched.spawn(function() asched.sleep(1) end)
    t:cancel()
    pcall(t.await, t)
    assert_error_named("CancelledError", error_of(t.result, t))
  end)

  it("exception() returns nil for a task that finished normally", function()
    local t = asched.spawn(returns("fine"))
    t:await()
    assert.is_nil(t:exception())
  end)

  it("exception() returns the error value of a failed task, without raising it", function()
    local problem = {}
    local t = asched.spawn(function() error(problem) end)
    pcall(t.await, t)
    assert.equals(problem, t:exception())
  end)

  it("exception() raises InvalidStateError while the task is pending", function()
    local t = asched.spawn(function() asched.sleep(1) end)
    assert_error_named("InvalidStateError", error_of(t.exception, t))
  end)

  it("exception() raises CancelledError for a cancelled task", function()
    local t = asched.spawn(function() asched.sleep(1) end)
    t:cancel()
    pcall(t.await, t)
    assert_error_named("CancelledError", error_of(t.exception, t))
  end)

  it("traceback() names the file and line where a failed task raised its error", function()
    local line
    local t = asched.spawn(function()
      asched.sleep(0)
      line = debug.getinfo(1, "l").currentline + 1
      error("broken")
    end)
    pcall(t.await, t)
    local tb = t:traceback()
    assert.equals("string", type(tb))
    assert.is_truthy(tb:find("tasks_spec.lua:" .. line, 1, true), tb)
  end)

  it("traceback() is nil for a task that finished normally", function()
    local t = asched.spawn(returns(1))
    t:await()
    assert.is_nil(t:traceback())
  end)

  it("traceback() is nil while the task is pending", function()
    local t = asched.spawn(function() asched.sleep(1) end)
    asched.sleep(0)
    assert.is_nil(t:traceback())
  end)
end)

describe("Task:add_done_callback", function()
  after_each(helpers.cancel_leftovers)

  it("calls fn(task) once the task has finished", function()
    local t = asched.spawn(function() asched.sleep(1); return "r" end)
    local calls = {}
    t:add_done_callback(function(task) calls[#calls + 1] = {task, task:done(), task:result()} end)
    t:await()
    asched.sleep(0)
    assert.same({{t, true, "r"}}, calls)
  end)

  it("runs soon after the task is done, before the clock moves on", function()
    local t0 = asched.now()
    local t = asched.spawn(function() asched.sleep(1) end)
    local called_at
    t:add_done_callback(function() called_at = asched.now() end)
    t:await()
    asched.sleep(0)
    assert.is_not_nil(called_at)
    helpers.assert_elapsed(1, t0, called_at)
  end)

  it("never runs synchronously inside cancel", function()
    local t = asched.spawn(function() asched.sleep(10) end)
    asched.sleep(0)
    local called = false
    t:add_done_callback(function() called = true end)
    t:cancel()
    assert.is_false(called)
    pcall(t.await, t)
    asched.sleep(0)
    assert.is_true(called)
  end)

  it("never runs synchronously when the task is already done, but soon after", function()
    local t = asched.spawn(returns(1))
    t:await()
    local received
    t:add_done_callback(function(task) received = task end)
    assert.is_nil(received)
    asched.sleep(0)
    assert.equals(t, received)
  end)

  it("runs for a task that failed and for a task cancelled before it started", function()
    local failed = asched.spawn(function() error("x") end)
    local cancelled = asched.spawn(function() end)
    local seen = {}
    failed:add_done_callback(function(task) seen[#seen + 1] = task end)
    cancelled:add_done_callback(function(task) seen[#seen + 1] = task end)
    cancelled:cancel()
    pcall(failed.await, failed)
    pcall(cancelled.await, cancelled)
    asched.sleep(0)
    assert.equals(2, #seen)
    assert.is_truthy((seen[1] == failed and seen[2] == cancelled)
                     or (seen[1] == cancelled and seen[2] == failed))
  end)

  it("runs each callback exactly once, in the order they were added", function()
    local t = asched.spawn(function() asched.sleep(1) end)
    local log = {}
    for i = 1, 3 do t:add_done_callback(function() log[#log + 1] = i end) end
    t:await()
    asched.sleep(2)
    assert.same({1, 2, 3}, log)
  end)

  it("runs outside any task: current_task() is nil inside the callback", function()
    local t = asched.spawn(function() end)
    local current = "not called"
    t:add_done_callback(function() current = asched.current_task() end)
    t:await()
    asched.sleep(0)
    assert.is_nil(current)
  end)
end)

describe("asched.current_task", function()
  after_each(helpers.cancel_leftovers)

  it("returns the running task inside a task", function()
    local t
    t = asched.spawn(function() return asched.current_task() end)
    assert.equals(t, t:await())
  end)

  it("returns the same Task object each time within one task", function()
    local t = asched.spawn(function()
      local first = asched.current_task()
      asched.sleep(0.5)
      return first == asched.current_task()
    end)
    assert.is_true(t:await())
  end)
end)

describe("asched.all_tasks", function()
  after_each(helpers.cancel_leftovers)

  local function contains(list, task)
    for _, t in ipairs(list) do if t == task then return true end end
    return false
  end

  it("lists the running task, tasks not started yet and suspended tasks", function()
    local sleeping = asched.spawn(function() asched.sleep(1) end)
    asched.sleep(0)
    local fresh = asched.spawn(function() end)
    local all = asched.all_tasks()
    assert.is_true(contains(all, asched.current_task()))
    assert.is_true(contains(all, sleeping))
    assert.is_true(contains(all, fresh))
  end)

  it("leaves out tasks that are done, however they ended", function()
    local ok = asched.spawn(function() end)
    local failed = asched.spawn(function() error("x") end)
    local cancelled = asched.spawn(function() asched.sleep(1) end)
    cancelled:cancel()
    for _, t in ipairs({ok, failed, cancelled}) do pcall(t.await, t) end
    local all = asched.all_tasks()
    assert.is_false(contains(all, ok))
    assert.is_false(contains(all, failed))
    assert.is_false(contains(all, cancelled))
  end)

  it("returns a plain list, one entry per pending task", function()
    asched.spawn(function() asched.sleep(1) end)
    asched.spawn(function() asched.sleep(1) end)
    local all = asched.all_tasks()
    assert.equals(3, #all)
    for _, t in ipairs(all) do assert.is_false(t:done()) end
  end)
end)
