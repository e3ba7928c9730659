-- to_thread_spec.lua -- asched.to_thread from a plain lua5.4, in real time (a thread
-- holds the virtual clock only for the autojump threshold, so these runs use the real one): the loop runs on while a
-- thread works, values copied both ways, values refused with their path, errors with
-- the thread's traceback, a cancelled caller, reused worker states (API.md, Threads;
-- issue 4). Bounds on time are generous: a slow machine only makes them looser.
local asched = require("asched")

-- Burns CPU in the thread for `seconds` of its own clock, then returns `value`.
-- (No upvalues: it travels to the thread as it is.)
local function busy(seconds, value)
  local t0 = os.clock()
  while os.clock() - t0 < seconds do end
  return value
end

-- Calls fn(...) and returns the error it raises; fails the spec if it returns.
local function error_of(fn, ...)
  local ok, err = pcall(fn, ...)
  assert.is_false(ok, "expected an error, but the call returned")
  return err
end

-- Runs fn(...) as the main task of a run on the real clock.
local run = asched.run

describe("asched.to_thread", function()
  it("returns fn(...)'s values", function()
    assert.same({n = 2, 42, "answer"}, table.pack(run(function()
      return asched.to_thread(function(a, b) return a * b, "answer" end, 6, 7)
    end)))
  end)

  it("keeps the loop running other tasks while a thread burns CPU", function()
    local ticks_during, value = run(function()
      local ticks = 0
      local ticker = asched.spawn(function()
        while true do
          asched.sleep(0.01)
          ticks = ticks + 1
        end
      end)
      local v = asched.to_thread(busy, 0.3, "burnt")
      local during = ticks
      ticker:cancel()
      return during, v
    end)
    assert.equals("burnt", value)
    assert.is_true(ticks_during >= 3, "the ticker ticked only " .. ticks_during .. " times")
  end)

  it("gives each of several calls running at once its own results", function()
    local results = run(function()
      local calls = {}
      for i = 1, 8 do
        calls[i] = function() return asched.to_thread(busy, 0.02 * (9 - i), i) end
      end
      return asched.gather(calls)
    end)
    assert.same({n = 8, 1, 2, 3, 4, 5, 6, 7, 8}, results)
  end)

  it("completes many calls in a row, reusing worker states", function()
    local results = run(function()
      local r = {}
      for i = 1, 200 do r[i] = asched.to_thread(function(x) return x * 2 end, i) end
      return r
    end)
    for i = 1, 200 do assert.equals(i * 2, results[i]) end
  end)

  it("reuses worker Lua states rather than making one per call", function()
    -- package.loaded lives in the worker state's registry, so it outlasts a call
    local highest = run(function()
      local most = 0
      for _ = 1, 20 do
        most = math.max(most, asched.to_thread(function()
          package.loaded.to_thread_spec_calls = (package.loaded.to_thread_spec_calls or 0) + 1
          return package.loaded.to_thread_spec_calls
        end))
      end
      return most
    end)
    assert.is_true(highest > 1, "every call ran in a fresh state")
  end)

  it("does not let a global set in one call be seen by the next", function()
    local first, second = run(function()
      local a = asched.to_thread(function()
        leaked_global = "set by the first call"
        return leaked_global
      end)
      local b = asched.to_thread(function() return leaked_global end)
      return a, b
    end)
    assert.equals("set by the first call", first)
    assert.is_nil(second)
  end)

  it("does not let a global set through _G in one call be seen by the next", function()
    local first, second = run(function()
      local a = asched.to_thread(function() _G.leaked_through_G = "first" return leaked_through_G end)
      local b = asched.to_thread(function() return _G.leaked_through_G end)
      return a, b
    end)
    assert.equals("first", first)
    assert.is_nil(second)
  end)

  it("gives the thread the standard libraries", function()
    local got = table.pack(run(function()
      return asched.to_thread(function()
        return string.rep("ab", 2), math.floor(2.5), table.concat({1, 2}, ","), type(os.time()),
               type(io.write), type(coroutine.create), utf8.char(72)
      end)
    end))
    assert.same({n = 7, "abab", 2, "1,2", "number", "function", "function", "H"}, got)
  end)

  it("gives the thread no asched", function()
    assert.is_nil(run(function()
      return asched.to_thread(function() return rawget(_G, "asched") end)
    end))
  end)

  -- Eight jobs (twice libuv's four threads) each require asched and call
  -- to_thread from a loop of their own: waiting on the pool they run in, they
  -- would hang once all four threads wait. Such a call raises instead.
  it("refuses a to_thread inside a to_thread worker instead of hanging #loop_in_worker", function()
    local messages = run(function()
      local tasks = {}
      for i = 1, 8 do
        tasks[i] = asched.spawn(asched.to_thread, function()
          local inner = require("asched")
          return inner.run(function()
            local ok, err = pcall(inner.to_thread, function() return 1 end)
            return not ok and tostring(err) or "returned"
          end)
        end)
      end
      local got = {}
      for i = 1, 8 do got[i] = tasks[i]:await() end
      return got
    end)
    for i = 1, 8 do
      assert.matches("RuntimeError: to_thread: called inside a to_thread worker, which would wait on the "
                     .. "thread pool it runs in", messages[i], 1, true)
    end
  end)
end)

describe("values copied to and from asched.to_thread", function()
  -- Returns, from the thread, a description of what it received: the count,
  -- each value's type (math.type for numbers) and the values themselves.
  local function echo(...)
    return run(function(...)
      return asched.to_thread(function(...)
        local kinds = {}
        for i = 1, select("#", ...) do
          local v = select(i, ...)
          kinds[i] = math.type(v) or type(v)
        end
        return select("#", ...), kinds, ...
      end, ...)
    end, ...)
  end

  it("copies nil, booleans, and keeps integers and floats apart, both ways", function()
    local n, kinds, a, b, c, d, e, f = echo(nil, true, false, 1, 1.0, -0.5)
    assert.equals(6, n)
    assert.same({"nil", "boolean", "boolean", "integer", "float", "float"}, kinds)
    assert.is_nil(a)
    assert.is_true(b)
    assert.is_false(c)
    assert.equals("integer", math.type(d))
    assert.equals(1, d)
    assert.equals("float", math.type(e))
    assert.equals(1.0, e)
    assert.equals(-0.5, f)
  end)

  it("copies extreme numbers exactly", function()
    local n, _, maxi, mini, huge, tiny, nan = echo(math.maxinteger, math.mininteger, math.huge, -math.huge, 0 / 0)
    assert.equals(5, n)
    assert.equals(math.maxinteger, maxi)
    assert.equals(math.mininteger, mini)
    assert.equals(math.huge, huge)
    assert.equals(-math.huge, tiny)
    assert.is_true(nan ~= nan)
  end)

  it("copies strings byte for byte, zero bytes included", function()
    local binary = "a\0b\0\0c\255" .. string.rep("x", 10000)
    local n, _, empty, s = echo("", binary)
    assert.equals(2, n)
    assert.equals("", empty)
    assert.equals(binary, s)
    assert.equals(#binary, #s)
  end)

  it("keeps nil holes in the argument and result lists, trailing ones included", function()
    local n, kinds, a, b, c, d = echo(nil, "x", nil, nil)
    assert.equals(4, n)
    assert.same({"nil", "string", "nil", "nil"}, kinds)
    assert.same({nil, "x", nil, nil}, {a, b, c, d})
    local count = select("#", run(function()
      return asched.to_thread(function() return nil, nil, 3, nil end)
    end))
    assert.equals(4, count)
  end)

  it("copies nested tables, with holes, every key type and shared subtables", function()
    local shared = {"shared"}
    local input = {
      1, nil, 3,
      name = "x",
      nested = {deeper = {deepest = {"bottom", 2.5}}},
      [true] = "true key", [2.5] = "float key", [-7] = "negative key",
      a = shared, b = shared,
    }
    local n, _, copy = echo(input)
    assert.equals(1, n)
    assert.are_not.equal(input, copy)
    assert.same(input, copy)
    assert.equals("float", math.type(copy.nested.deeper.deepest[2]))
    assert.is_nil(copy[2])
    assert.equals(3, copy[3])
  end)

  it("gives the thread a copy: changes made there do not reach the caller's table", function()
    local mine = {count = 1}
    local theirs = run(function(t)
      return asched.to_thread(function(t)
        t.count = t.count + 1
        t.added = true
        return t
      end, t)
    end, mine)
    assert.same({count = 1}, mine)
    assert.same({count = 2, added = true}, theirs)
  end)
end)

describe("values asched.to_thread refuses", function()
  local function refusal(...)
    local args = table.pack(...)
    return error_of(run, function()
      return asched.to_thread(function() return true end, table.unpack(args, 1, args.n))
    end)
  end

  it("refuses a function argument with an argument error naming it", function()
    local err = refusal(print)
    assert.matches("bad argument #2 to 'to_thread' (args[1] ", err, 1, true)
    assert.matches("function", err, 1, true)
  end)

  it("names the path of a bad value inside a table, e.g. args[2].cb", function()
    local err = refusal(1, {cb = function() end})
    assert.matches("bad argument #3 to 'to_thread' (args[2].cb ", err, 1, true)
  end)

  it("names the path of a bad value deep in nested tables and lists", function()
    local err = refusal({list = {1, 2, {io.stdout}}})
    assert.matches("args[1].list[3][1]", err, 1, true)
    assert.matches("userdata", err, 1, true)
  end)

  it("refuses userdata", function()
    local err = refusal(nil, io.stdout)
    assert.matches("bad argument #3 to 'to_thread' (args[2] ", err, 1, true)
    assert.matches("userdata", err, 1, true)
  end)

  it("refuses a coroutine (a Lua thread)", function()
    local err = refusal(coroutine.create(function() end))
    assert.matches("bad argument #2 to 'to_thread' (args[1] ", err, 1, true)
    assert.matches("thread", err, 1, true)
  end)

  it("refuses a table that contains itself, naming where the cycle closes", function()
    local t = {inner = {}}
    t.inner.back = t
    local err = refusal(t)
    assert.matches("bad argument #2 to 'to_thread' (args[1].inner.back ", err, 1, true)
  end)

  it("refuses a bad value used as a table key", function()
    local err = refusal({[print] = 1})
    assert.matches("bad argument #2 to 'to_thread'", err, 1, true)
    assert.matches("function", err, 1, true)
  end)

  it("refuses a function with an upvalue other than _ENV, naming the upvalue", function()
    local captured = 1
    local err = error_of(run, function()
      return asched.to_thread(function() return captured end)
    end)
    assert.matches("bad argument #1 to 'to_thread'", err, 1, true)
    assert.matches("captured", err, 1, true)
  end)

  it("refuses a C function", function()
    local err = error_of(run, function() return asched.to_thread(print) end)
    assert.matches("bad argument #1 to 'to_thread'", err, 1, true)
  end)

  it("refuses a first argument that is not a function", function()
    local err = error_of(run, function() return asched.to_thread("print") end)
    assert.matches("bad argument #1 to 'to_thread'", err, 1, true)
  end)

  it("points the argument error at the caller's line", function()
    local err = error_of(run, function() return asched.to_thread(function() end, print) end)
    assert.matches("to_thread_spec.lua:%d+: bad argument", err)
  end)

  it("raises an error naming results[n] when the thread returns a value that cannot be copied", function()
    local err = error_of(run, function()
      return asched.to_thread(function() return 1, {f = print} end)
    end)
    assert.matches("results[2].f", err, 1, true)
  end)

  it("leaves the loop usable after refusing: the next call works", function()
    local after = run(function()
      pcall(asched.to_thread, function() end, print)
      return asched.to_thread(function() return "fine" end)
    end)
    assert.equals("fine", after)
  end)
end)

describe("an error in asched.to_thread's function", function()
  it("is raised in the caller with the thread's message", function()
    local err = error_of(run, function()
      return asched.to_thread(function() error("disk on fire") end)
    end)
    assert.equals("string", type(err))
    assert.matches("disk on fire", err, 1, true)
  end)

  it("carries the thread's traceback, naming the function that failed", function()
    local err = error_of(run, function()
      return asched.to_thread(function()
        local function failing_helper() error("deep failure") end
        failing_helper()
      end)
    end)
    assert.matches("deep failure", err, 1, true)
    assert.matches("stack traceback:", err, 1, true)
    assert.matches("failing_helper", err, 1, true)
  end)

  it("is raised as a copy when it is a table, with the thread's traceback added", function()
    local err = run(function()
      return error_of(asched.to_thread, function() error({code = 7, why = "bad input"}) end)
    end)
    assert.equals("table", type(err))
    assert.equals(7, err.code)
    assert.equals("bad input", err.why)
    assert.matches("^stack traceback:", err.traceback)
  end)

  it("is raised as its message when the error value cannot be copied", function()
    local err = run(function()
      return error_of(asched.to_thread, function() error(print) end)
    end)
    assert.matches("^%(error object is a function value%)", err)
  end)

  it("can be caught by the caller, which goes on", function()
    local ok, err, after = run(function()
      local ok, err = pcall(asched.to_thread, function() error("caught", 0) end)
      return ok, err, asched.to_thread(function() return "after" end)
    end)
    assert.is_false(ok)
    assert.matches("^caught", err)
    assert.equals("after", after)
  end)
end)

describe("cancelling a task waiting in asched.to_thread", function()
  it("raises CancelledError in it at once; the thread finishes in the background and the run waits for it", function()
    local path = os.tmpname()
    os.remove(path)
    local err, waited = run(function(path)
      local caller = asched.spawn(function()
        return asched.to_thread(function(path)
          local t0 = os.clock()
          while os.clock() - t0 < 0.3 do end
          local f = assert(io.open(path, "w"))
          f:write("finished")
          f:close()
          return {"a result", "that is dropped"}
        end, path)
      end)
      asched.sleep(0.05)
      local t0 = asched.now()
      caller:cancel("stop")
      local ok, e = pcall(caller.await, caller)
      assert(not ok)
      return e, asched.now() - t0
    end, path)
    -- asched.run has returned: the thread must have finished by now
    local f = io.open(path)
    local written = f and f:read("a")
    if f then f:close() end
    os.remove(path)
    assert.equals("table", type(err))
    assert.equals("CancelledError", err.name)
    assert.equals("stop", err.message)
    assert.is_true(waited < 0.2, "the cancelled caller waited " .. waited .. " s for its thread")
    assert.equals("finished", written)
  end)

  it("lets the cancelled task and the others go on while the thread runs", function()
    local log = run(function()
      local log = {}
      local caller = asched.spawn(function()
        local ok, e = pcall(asched.to_thread, busy, 0.3)
        log[#log + 1] = "caller caught " .. e.name
        return asched.to_thread(function() return "next call" end)
      end)
      asched.sleep(0.05)
      caller:cancel()
      local value = caller:await()
      log[#log + 1] = value
      return log
    end)
    assert.same({"caller caught CancelledError", "next call"}, log)
  end)

  it("cancelled while their jobs run or wait for a free pool thread, every job still runs and the run waits for all", function()
    local dir = os.tmpname()
    os.remove(dir)
    local paths = {}
    for i = 1, 8 do paths[i] = dir .. "-" .. i end
    run(function()
      local callers = {}
      for i = 1, 8 do
        callers[i] = asched.spawn(asched.to_thread, function(path)
          local t0 = os.clock()
          while os.clock() - t0 < 0.2 do end
          local f = assert(io.open(path, "w"))
          f:write("done")
          f:close()
        end, paths[i])
      end
      asched.sleep(0.01)
      for _, c in ipairs(callers) do c:cancel() end
      for _, c in ipairs(callers) do pcall(c.await, c) end
    end)
    local written = 0
    for _, path in ipairs(paths) do
      local f = io.open(path)
      if f then
        written = written + 1
        f:close()
        os.remove(path)
      end
    end
    assert.equals(8, written)
  end)

  it("survives the main task returning while a thread still runs", function()
    local path = os.tmpname()
    os.remove(path)
    local value = run(function(path)
      asched.spawn(asched.to_thread, function(path)
        local t0 = os.clock()
        while os.clock() - t0 < 0.2 do end
        local f = assert(io.open(path, "w"))
        f:write("finished after main")
        f:close()
      end, path)
      asched.sleep(0.02)
      return "main done"
    end, path)
    local f = io.open(path)
    local written = f and f:read("a")
    if f then f:close() end
    os.remove(path)
    assert.equals("main done", value)
    assert.equals("finished after main", written)
  end)
end)

describe("asched.to_thread outside a task", function()
  it("raises 'asched.to_thread: not inside a task' with no loop running", function()
    local err = error_of(asched.to_thread, function() return 1 end)
    assert.matches("asched.to_thread: not inside a task", tostring(err), 1, true)
  end)

  it("raises 'asched.to_thread: not inside a task' in a plain coroutine inside a run", function()
    local message = run(function()
      local co = coroutine.create(function() return asched.to_thread(function() end) end)
      local _, err = coroutine.resume(co)
      return tostring(err)
    end)
    assert.matches("asched.to_thread: not inside a task", message, 1, true)
  end)
end)
