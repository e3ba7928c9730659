-- io_fs_spec.lua -- asched.fs: read_file, write_file, stat and list_dir run on
-- the libuv pool while the loop runs on; failures are IOErrors naming the
-- path; a cancelled caller leaves no file descriptor behind (issue 9).
local helpers = require("spec.helpers")
local error_of, assert_error_named = helpers.error_of, helpers.assert_error_named
local fs = asched.fs

local function scratch_dir()
  local dir = os.tmpname()
  os.remove(dir)
  assert(os.execute("mkdir " .. dir))
  return dir
end

-- File descriptors open in this process now (list_dir's own is closed again).
local function open_fds()
  return #fs.list_dir("/proc/self/fd")
end

describe("asched.fs", function()
  local dir
  before_each(function() dir = scratch_dir() end)
  after_each(function()
    helpers.cancel_leftovers()
    os.execute("rm -rf " .. dir)
  end)

  it("writes and reads back any bytes, an empty file included", function()
    local data = "line\n\0binary\255" .. string.rep("x", 100000)
    fs.write_file(dir .. "/data", data)
    assert.equal(data, fs.read_file(dir .. "/data"))
    fs.write_file(dir .. "/empty", "")
    assert.equal("", fs.read_file(dir .. "/empty"))
  end)

  it("replaces a file's contents when writing", function()
    fs.write_file(dir .. "/f", "a long first version")
    fs.write_file(dir .. "/f", "short")
    assert.equal("short", fs.read_file(dir .. "/f"))
  end)

  it("reports a file's size, type and mode, and a directory's type", function()
    fs.write_file(dir .. "/f", "12345")
    assert(os.execute("chmod 640 " .. dir .. "/f"))
    local st = fs.stat(dir .. "/f")
    assert.equal(5, st.size)
    assert.equal("file", st.type)
    assert.equal(tonumber("640", 8), st.mode)
    assert.is_number(st.mtime)
    assert.equal("directory", fs.stat(dir).type)
  end)

  it("lists a directory's names sorted, without . and ..", function()
    for _, name in ipairs({"b", "a", "c.txt"}) do fs.write_file(dir .. "/" .. name, name) end
    assert.same({"a", "b", "c.txt"}, fs.list_dir(dir))
    assert(os.execute("mkdir " .. dir .. "/empty"))
    assert.same({}, fs.list_dir(dir .. "/empty"))
  end)

  it("raises an IOError naming the operation and the path of a missing file, with its code", function()
    local err = error_of(fs.read_file, dir .. "/missing")
    assert_error_named("IOError", err)
    assert.equal("fs.read_file " .. dir .. "/missing: no such file or directory", err.message)
    assert.equal("ENOENT", err.code)
    assert_error_named("IOError", error_of(fs.stat, dir .. "/missing"))
    assert_error_named("IOError", error_of(fs.list_dir, dir .. "/missing"))
    assert_error_named("IOError", error_of(fs.write_file, dir .. "/no/such/dir", "x"))
  end)

  it("raises an IOError when reading a directory as a file", function()
    local err = error_of(fs.read_file, dir)
    assert_error_named("IOError", err)
    assert.equal("fs.read_file " .. dir .. ": illegal operation on a directory", err.message)
    assert.equal("EISDIR", err.code)
  end)

  it("lets other tasks run while a file is read", function()
    fs.write_file(dir .. "/big", string.rep("z", 8 * 1024 * 1024))
    local turns, reading = 0, true
    local ticker = asched.spawn(function()
      while reading do turns = turns + 1; asched.sleep(0) end
    end)
    local data = fs.read_file(dir .. "/big")
    reading = false
    ticker:await()
    assert.equal(8 * 1024 * 1024, #data)
    assert.is_true(turns > 0)
  end)

  it("raises CancelledError in a cancelled reader and leaves no descriptor open", function()
    fs.write_file(dir .. "/big", string.rep("z", 4 * 1024 * 1024))
    local before = open_fds()
    for _ = 1, 20 do
      local reader = asched.spawn(fs.read_file, dir .. "/big")
      asched.sleep(0)
      reader:cancel()
      assert_error_named("CancelledError", error_of(reader.await, reader))
    end
    -- The jobs that were already running finish on the pool: wait for them,
    -- bounded by the wall clock (a count of calls raced the pool's threads).
    local give_up = os.time() + 10
    while open_fds() ~= before and os.time() < give_up do asched.sleep(0.01) end
    assert.equal(before, open_fds())
  end)

  it("rejects bad arguments in Lua's style", function()
    assert.matches("bad argument #1 to '[%w.]*read_file' %(string expected, got boolean%)",
      error_of(function() fs.read_file(true) end))
    assert.matches("bad argument #2 to '[%w.]*write_file' %(string expected, got no value%)",
      error_of(function() fs.write_file(dir .. "/x") end))
  end)
end)
