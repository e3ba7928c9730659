-- asched.run's `timeline` and `trace` options from a plain lua5.4: the same
-- outputs as the program's --timeline=FILE.svg and --trace FILE.
local asched = require("asched")
local json = dofile(debug.getinfo(1, "S").source:match("^@(.-)[^/]*$") .. "../cli/json.lua")

local function read_and_remove(path)
  local f = assert(io.open(path, "rb"))
  local text = f:read("a")
  f:close()
  os.remove(path)
  return text
end

describe("asched.run with trace and timeline options", function()
  it("writes the trace and the SVG picture of the run", function()
    local trace, svg = os.tmpname(), os.tmpname()
    asched.run({virtual_time = true, trace = trace, timeline = svg}, function()
      asched.gather({asched.spawn(asched.sleep, 1), asched.spawn(asched.sleep, 2)})
    end)
    local events = json.decode(read_and_remove(trace)).traceEvents
    local tracks = {}
    for _, e in ipairs(events) do
      if e.ph == "M" and e.name == "thread_name" then tracks[#tracks + 1] = e.args.name end
    end
    assert.same({"task-1", "task-2", "task-3"}, tracks)
    assert.matches("^<svg ", read_and_remove(svg))
  end)

  it("rejects options of the wrong type in Lua's style", function()
    local ok, err = pcall(asched.run, {trace = 42}, print)
    assert.is_false(ok)
    assert.matches("bad argument #1 to '[%w.]*run' %(option 'trace' must be a string, got 42%)", err)
    ok, err = pcall(asched.run, {timeline = 42}, print)
    assert.is_false(ok)
    assert.matches("option 'timeline' must be a boolean or a file name", err, 1, true)
    ok, err = pcall(asched.run, {virtual_tim = true}, print)
    assert.is_false(ok)
    assert.matches("bad argument #1 to '[%w.]*run' %(unknown option 'virtual_tim'%)", err)
  end)
end)
