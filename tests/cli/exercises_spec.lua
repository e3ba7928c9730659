-- The exercises and their checker, as a learner uses them: `asched check N`
-- passes for every reference solution and fails for every untouched stub and
-- every wrong version in tests/exercises/wrong/; `asched hint N` gives the
-- hints one at a time; `asched exercises` counts what is done.
local here = debug.getinfo(1, "S").source:match("^@(.-)[^/]*$")
local support = dofile(here .. "support.lua")

local root = here .. "../../"
local exercises_dir = root .. "exercises/"
local wrong_dir = root .. "tests/exercises/wrong/"

local function capture(cmd)
  local p = assert(io.popen(cmd))
  local out = p:read("a")
  p:close()
  return out
end

local function ls(dir, pattern)
  local files = {}
  for name in capture("ls -1 " .. support.quote(dir) .. " 2>/dev/null"):gmatch("[^\n]+") do
    if name:match(pattern) then files[#files + 1] = name end
  end
  table.sort(files)
  return files
end

-- The exercises: {number = "01", name = "concurrent_fetch"}.
local exercises = {}
for _, file in ipairs(ls(exercises_dir .. "checks", "^%d%d_[%w_]+%.lua$")) do
  local number, name = file:match("^(%d%d)_([%w_]+)%.lua$")
  exercises[#exercises + 1] = {number = number, name = name}
end

-- A private exercises folder holding the checks and, as the learner's file of
-- exercise e, the text `learner` (the others: their stubs, never the
-- checkout's files, which a learner may be editing); returns it (the caller
-- removes it). Its state/ folder stands for $XDG_STATE_HOME.
local function workspace(e, learner)
  local dir = support.tmpdir()
  os.execute("cp -r " .. support.quote(exercises_dir .. "checks") .. " " .. support.quote(dir .. "/checks"))
  for _, other in ipairs(exercises) do
    local file = other.number .. "_" .. other.name .. ".lua"
    local text = other == e and learner or support.read(exercises_dir .. "stubs/" .. file)
    support.write(dir .. "/" .. file, text)
  end
  return dir
end

-- Runs `asched <args>` with ASCHED_EXERCISES = dir; returns status, stdout, stderr.
local function asched_in(dir, args)
  local cmd = string.format("cd %s && ASCHED_EXERCISES=%s XDG_STATE_HOME=%s timeout -s KILL 60 %s %s >out 2>err",
    support.quote(dir), support.quote(dir), support.quote(dir .. "/state"), support.quote(support.asched), args)
  local _, _, status = os.execute(cmd)
  return status, support.read(dir .. "/out") or "", support.read(dir .. "/err") or ""
end

local function check_with(e, learner)
  local dir = workspace(e, learner)
  local status, out, err = asched_in(dir, "check " .. e.number)
  support.remove(dir)
  return status, out .. err
end

describe("the exercises", function()
  it("are ten or more, each with a stub, a check and a solution", function()
    assert.is_true(#exercises >= 10, #exercises .. " exercises")
    for _, e in ipairs(exercises) do
      local file = e.number .. "_" .. e.name .. ".lua"
      assert.is_truthy(support.read(exercises_dir .. "stubs/" .. file), "no stub " .. file)
      assert.is_truthy(support.read(exercises_dir .. "solutions/" .. file), "no solution " .. file)
      assert.matches("TODO", support.read(exercises_dir .. "stubs/" .. file), 1, true)
    end
  end)

  it("keep in stubs/ the learner's files as committed (what reset and --init restore)", function()
    for _, e in ipairs(exercises) do
      local file = e.number .. "_" .. e.name .. ".lua"
      local committed = capture("cd " .. support.quote(root) .. " && git show HEAD:exercises/" .. file .. " 2>/dev/null")
      if committed ~= "" then   -- a checkout: the stub is the learner's file before any edit
        assert.equal(committed, support.read(exercises_dir .. "stubs/" .. file), file)
      end
    end
  end)

  for _, e in ipairs(exercises) do
    local file = e.number .. "_" .. e.name .. ".lua"

    it(string.format("%s: the reference solution passes its check", file), function()
      local status, output = check_with(e, support.read(exercises_dir .. "solutions/" .. file))
      assert.equal(0, status, output)
      assert.matches("PASS", output, 1, true)
    end)

    it(string.format("%s: the untouched stub fails its check", file), function()
      local status, output = check_with(e, support.read(exercises_dir .. "stubs/" .. file))
      assert.equal(1, status, output)
      assert.matches("FAIL", output, 1, true)
    end)

    local wrong = ls(wrong_dir, "^" .. e.number .. "_.*%.lua$")
    it(string.format("%s: has wrong versions to reject", file), function()
      assert.is_true(#wrong >= 2, #wrong .. " wrong versions")
    end)
    for _, bad in ipairs(wrong) do
      it(string.format("%s: rejects the wrong version %s", file, bad), function()
        local status, output = check_with(e, support.read(wrong_dir .. bad))
        assert.equal(1, status, output)
        assert.matches("FAIL", output, 1, true)
      end)
    end
  end
end)

describe("asched check, hint and exercises", function()
  it("check without a number checks every exercise and ends with a count", function()
    local e = exercises[1]
    local dir = workspace(e, support.read(exercises_dir .. "solutions/" .. e.number .. "_" .. e.name .. ".lua"))
    local status, out = asched_in(dir, "check")
    support.remove(dir)
    assert.equal(1, status)                       -- the other stubs fail
    assert.matches(string.format("1 passed, %d failed", #exercises - 1), out, 1, true)
  end)

  it("exercises lists every exercise and counts the done ones", function()
    local e = exercises[1]
    local dir = workspace(e, support.read(exercises_dir .. "solutions/" .. e.number .. "_" .. e.name .. ".lua"))
    local status, out = asched_in(dir, "exercises")
    support.remove(dir)
    assert.equal(0, status)
    assert.matches(string.format("1/%d █░", #exercises), out, 1, true)
    for _, other in ipairs(exercises) do assert.matches(other.name, out, 1, true) end
  end)

  it("hint gives the hints of an exercise one at a time, then keeps showing the last", function()
    local e = exercises[1]
    local dir = workspace(e, support.read(exercises_dir .. "stubs/" .. e.number .. "_" .. e.name .. ".lua"))
    local _, first = asched_in(dir, "hint " .. e.number)
    local _, second = asched_in(dir, "hint " .. e.number)
    for _ = 1, 5 do asched_in(dir, "hint " .. e.number) end
    local _, last = asched_in(dir, "hint " .. e.number)
    support.remove(dir)
    assert.matches("hint 1 of", first, 1, true)
    assert.matches("hint 2 of", second, 1, true)
    local count = tonumber(last:match("hint (%d+) of"))
    assert.matches(string.format("hint %d of %d", count, count), last, 1, true)
  end)

  it("check of an unknown exercise says so and exits 1", function()
    local dir = workspace(exercises[1], support.read(exercises_dir .. "stubs/" .. exercises[1].number .. "_" .. exercises[1].name .. ".lua"))
    local status, _, err = asched_in(dir, "check 99")
    support.remove(dir)
    assert.equal(1, status)
    assert.matches("no exercise '99'", err, 1, true)
  end)

  it("stops a solution that spins forever instead of hanging", function()
    local e = exercises[1]
    local status, output = check_with(e, "local M = setmetatable({}, {__index = function() return function() while true do end end end})\nreturn M\n")
    assert.equal(1, status, output)
    assert.matches("ran for too long", output, 1, true)
  end)
end)
