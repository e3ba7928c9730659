-- io_process_spec.lua -- asched.process.run: a child process through
-- uv_spawn (never a shell unless asked), its output collected, its input fed;
-- cancellation and timeouts kill it and leave nothing open (issue 9).
local helpers = require("spec.helpers")
local error_of, assert_error_named = helpers.error_of, helpers.assert_error_named
local run = asched.process.run

local function open_fds() return #asched.fs.list_dir("/proc/self/fd") end

local function scratch_dir()
  local dir = os.tmpname()
  os.remove(dir)
  assert(os.execute("mkdir " .. dir))
  return dir
end

describe("asched.process.run", function()
  after_each(helpers.cancel_leftovers)

  it("returns the exit code and what the child wrote on stdout and stderr", function()
    local r = run({"sh", "-c", "printf out; printf err >&2; exit 3"})
    assert.same({code = 3, stdout = "out", stderr = "err"}, r)
  end)

  it("passes argv as is, with no shell in between", function()
    local r = run({"printf", "%s|", "two words", "$HOME", "*"})
    assert.equal("two words|$HOME|*|", r.stdout)
  end)

  it("feeds stdin, and sets the working directory and the environment", function()
    assert.equal("fed\n", run({"cat"}, {stdin = "fed\n"}).stdout)
    assert.equal("/\n", run({"pwd"}, {cwd = "/"}).stdout)
    assert.equal("ONLY=1\n", run({"/usr/bin/env"}, {env = {ONLY = "1"}}).stdout)
  end)

  it("survives a child that exits without reading its input", function()
    local r = run({"true"}, {stdin = string.rep("y", 4 * 1024 * 1024)})
    assert.equal(0, r.code)
  end)

  it("collects large outputs whole", function()
    assert.equal(3000000, #run({"head", "-c", "3000000", "/dev/zero"}).stdout)
  end)

  it("reports the signal that killed the child", function()
    local r = run({"sh", "-c", "kill -9 $$"})
    assert.equal(9, r.signal)
  end)

  it("raises an IOError naming a program that does not exist", function()
    local err = error_of(run, {"/nonexistent/program"})
    assert_error_named("IOError", err)
    assert.matches("/nonexistent/program: no such file or directory", err.message, 1, true)
  end)

  it("runs children concurrently: one waits for a file the other creates", function()
    local dir = scratch_dir()
    local waiter = asched.spawn(run, {"sh", "-c", "while [ ! -e " .. dir .. "/flag ]; do sleep 0.01; done; echo seen"})
    local maker = asched.spawn(run, {"sh", "-c", "sleep 0.05; touch " .. dir .. "/flag"})
    local results = asched.gather({waiter, maker})
    os.execute("rm -rf " .. dir)
    assert.equal("seen\n", results[1].stdout)
  end)

  it("kills the child when the caller is cancelled, leaving no descriptor open", function()
    local dir = scratch_dir()
    local before = open_fds()
    local children = {}
    for i = 1, 10 do
      -- each child writes its pid, then would sleep far longer than the spec
      children[i] = asched.spawn(run, {"sh", "-c", "echo $$ > " .. dir .. "/" .. i .. "; exec sleep 60"})
    end
    for i = 1, 10 do   -- until every child has started
      while #asched.fs.list_dir(dir) < 10 or asched.fs.read_file(dir .. "/" .. i) == "" do
        run({"sleep", "0.01"})
      end
    end
    for _, t in ipairs(children) do t:cancel() end
    for _, t in ipairs(children) do assert_error_named("CancelledError", error_of(t.await, t)) end
    for i = 1, 10 do
      local pid = asched.fs.read_file(dir .. "/" .. i):match("%d+")
      local alive = true
      for _ = 1, 500 do     -- the kill is sent at once; reaping takes a moment
        alive = run({"kill", "-0", pid}).code == 0
        if not alive then break end
        run({"sleep", "0.01"})
      end
      assert.is_false(alive, "child " .. i .. " (pid " .. pid .. ") still runs")
    end
    os.execute("rm -rf " .. dir)
    assert.equal(before, open_fds())
  end)

  it("does not wait for a grandchild that keeps the output pipes open", function()
    local dir = scratch_dir()
    local before = open_fds()
    local t = asched.spawn(run, {"sh", "-c", "sleep 60 & echo started > " .. dir .. "/s; wait"})
    while #asched.fs.list_dir(dir) == 0 do run({"sleep", "0.01"}) end
    t:cancel()
    assert_error_named("CancelledError", error_of(t.await, t))
    for _ = 1, 500 do      -- the shell is killed and reaped; its pipes are closed
      if open_fds() == before then break end
      run({"sleep", "0.01"})
    end
    local after = open_fds()
    os.execute("rm -rf " .. dir)
    os.execute("pkill -f '^sleep 60$' 2>/dev/null")
    assert.equal(before, after)
  end)

  -- (its timeout is in tests/module/process_timeout_spec.lua, in real time:
  -- under virtual time the clock jumps to the deadline once a running child
  -- has held it for the autojump threshold)

  it("rejects bad arguments in Lua's style", function()
    assert.matches("bad argument #1 to 'run' %(table expected, got string%)", error_of(run, "ls"))
    assert.matches("bad argument #1 to 'run' %(argv must name a program%)", error_of(run, {}))
    assert.matches("bad argument #1 to 'run' %(argv%[2%] is a number, not a string%)", error_of(run, {"ls", 2}))
    assert.matches("bad argument #2 to 'run' %(option 'env' must map names to strings%)",
      error_of(run, {"ls"}, {env = {1}}))
    assert.matches("bad argument #2 to 'run' %(option 'timeout' must be a number, got string%)",
      error_of(run, {"ls"}, {timeout = "1"}))
    assert.matches("bad argument #2 to 'run' %(unknown option 'stdout'%)", error_of(run, {"ls"}, {stdout = "pipe"}))
  end)
end)
