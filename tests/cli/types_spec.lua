-- types/asched.lua (the LuaLS definition file) and the running module must not
-- drift apart: every public name of `asched` (and of its sub-tables) is defined
-- in the file and every name the file defines exists; the same for the methods
-- of live objects.
local support = dofile(debug.getinfo(1, "S").source:match("^@(.-)[^/]*$") .. "support.lua")
local TYPES = debug.getinfo(1, "S").source:match("^@(.-)[^/]*$") .. "../../types/asched.lua"

-- Prints "asched.<path>" for every public name, recursively, skipping `_`-names.
local LIST_MODULE = [[
local function walk(t, p, seen)
  seen[t] = true
  local ks = {}
  for k in pairs(t) do
    if type(k) == "string" and k:sub(1, 1) ~= "_" then ks[#ks + 1] = k end
  end
  table.sort(ks)
  for _, k in ipairs(ks) do
    local v = t[k]
    print(p .. k)
    if type(v) == "table" and not seen[v] then walk(v, p .. k .. ".", seen) end
  end
end
walk(asched, "asched.", {})
]]

-- Prints "<Class>:<method>" for the methods of live objects whose metatable
-- __index is a table, and "Task:<name>" for the probed task names (a task's
-- __index is a function, so its methods cannot be listed, only probed).
local LIST_METHODS = [[
local objects = {
  Lock = asched.lock(), Semaphore = asched.semaphore(1), Event = asched.event(),
  Queue = asched.queue(), Condition = asched.condition(), PriorityQueue = asched.priority_queue(),
  Barrier = asched.barrier(1),
}
asched.task_group(function(tg) objects.TaskGroup = tg end)
for class, obj in pairs(objects) do
  -- A type with fields has an __index function and its methods in __methods.
  local mt = getmetatable(obj)
  local index = type(mt.__index) == "function" and mt.__methods or mt.__index
  assert(type(index) == "table", class .. ": no table of methods")
  for k, v in pairs(index) do
    if type(k) == "string" and k:sub(1, 1) ~= "_" and type(v) == "function" then
      print(class .. ":" .. k)
    end
  end
end
local task = asched.spawn(function() end)
for name in (arg[1] or ""):gmatch("[%w_]+") do
  if type(task[name]) == "function" then print("Task:" .. name) end
end
task:await()
]]

local function read_types()
  local text = assert(support.read(TYPES), "cannot read " .. TYPES)
  local names, methods = {}, {}
  local class
  for line in (text .. "\n"):gmatch("([^\n]*)\n") do
    -- function asched.x(  /  function asched.fs.x(
    local f = line:match("^%s*function%s+(asched[%w_.]*)%s*%(")
    if f then names[f] = true end
    -- asched.x = ...
    local v = line:match("^%s*(asched%.[%w_.]+)%s*=")
    if v then names[v] = true end
    -- ---@class asched / ---@field name under it
    local c = line:match("^%-%-%-@class%s+([%w_.]+)")
    if c then class = c end
    local field = line:match("^%-%-%-@field%s+([%w_]+)")
    if field and class and class:match("^asched[%.%w_]*$") and class == "asched" then
      names["asched." .. field] = true
    end
    -- function Class:method(
    local cls, m = line:match("^%s*function%s+([%w_]+):([%w_]+)%s*%(")
    if cls then methods[cls .. ":" .. m] = true end
  end
  return names, methods
end

local function set_of(lines)
  local set = {}
  for _, l in ipairs(support.lines(lines)) do set[l] = true end
  return set
end

local function missing(from, into)
  local list = {}
  for k in pairs(from) do if not into[k] then list[#list + 1] = k end end
  table.sort(list)
  return list
end

describe("types/asched.lua", function()
  it("is valid Lua", function()
    local chunk, err = loadfile(TYPES)
    assert(chunk, err)
  end)

  it("defines exactly the public names of the running module", function()
    local r = support.run{script = LIST_MODULE}
    assert.are.equal(0, r.status, r.stderr)
    local live = set_of(r.stdout)
    assert(next(live), "the module listed no names")
    local defined = read_types()
    local not_in_file = missing(live, defined)
    local not_in_module = missing(defined, live)
    assert(#not_in_file == 0 and #not_in_module == 0,
      "module names missing from types/asched.lua: {" .. table.concat(not_in_file, ", ") ..
      "}\nnames in types/asched.lua missing from the module: {" ..
      table.concat(not_in_module, ", ") .. "}")
  end)

  it("defines every method of Task, Lock, Semaphore, Event, the queues, Condition, Barrier and TaskGroup", function()
    local _, methods = read_types()
    -- Task methods the API promises, plus every Task method the file defines
    local task_names = {"await", "cancel", "cancelling", "uncancel", "done", "cancelled", "result",
      "exception", "traceback", "add_done_callback"}
    for k in pairs(methods) do
      local m = k:match("^Task:(.*)$")
      if m then task_names[#task_names + 1] = m end
    end
    local r = support.run{script = LIST_METHODS, args = {table.concat(task_names, " ")}}
    assert.are.equal(0, r.status, r.stderr)
    local live = set_of(r.stdout)
    local checked = {Task = true, Lock = true, Semaphore = true, Event = true,
      Queue = true, Condition = true, PriorityQueue = true, Barrier = true, TaskGroup = true}
    local in_file = {}
    for k in pairs(methods) do
      if checked[k:match("^[^:]+")] then in_file[k] = true end
    end
    local not_in_file = missing(live, in_file)
    local not_in_module = missing(in_file, live)
    assert(#not_in_file == 0 and #not_in_module == 0,
      "methods missing from types/asched.lua: {" .. table.concat(not_in_file, ", ") ..
      "}\nmethods in types/asched.lua missing from live objects: {" ..
      table.concat(not_in_module, ", ") .. "}")
  end)
end)
