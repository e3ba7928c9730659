-- generated_args_spec.lua -- hostile arguments, generated from the module table
-- so that a new function or method is covered without anyone remembering to
-- (issue 19): every function of `asched` and of its namespaces, and every method
-- of every object type, is called with each hostile value in each of its first
-- three argument places, and with the wrong kind of object as `self`. Each call
-- runs in a task of its own, stopped after one virtual second if it suspends. A
-- call may succeed (Lua ignores extra arguments, and a queue takes any item) or
-- raise; what it may never do is crash, hang, or raise an argument error that
-- does not name the function as the user called it. A full collection after each
-- function, and a working loop after that, close the check.
-- Then every function is called from the places a task cannot suspend in: a
-- done callback, a `<close>` handler, a `__gc` metamethod, a table.sort
-- comparator. The hand-written cases (proxy lists, options) are in
-- hostile_args_spec.lua.
local helpers = require("spec.helpers")

-- Functions left out, and why.
local SKIP = {
  run = "a nested run is refused before it looks at its arguments (hostile_args_spec)",
  debug = "switches the whole state's debug mode, which would outlive this spec",
}

-- Values no public function wants, or wants only in a narrow range. No strings:
-- the fs, tcp, http and process functions would take one as a path or a host.
local function hostile_values()
  local erroring = setmetatable({}, {
    __index = function() error("__index raised") end,
    __len = function() error("__len raised") end,
    __newindex = function() error("__newindex raised") end,
  })
  local huge_len = setmetatable({}, {__len = function() return math.maxinteger end})
  local negative_len = setmetatable({}, {__len = function() return -5 end})
  local float_len = setmetatable({}, {__len = function() return 2.5 end})
  return {
    {"nil", nil}, {"false", false}, {"true", true},
    {"NaN", 0 / 0}, {"inf", math.huge}, {"-inf", -math.huge},
    {"maxinteger", math.maxinteger}, {"mininteger", math.mininteger},
    {"-1", -1}, {"1e308", 1e308}, {"0.5", 0.5},
    {"an empty table", {}}, {"a table of junk", {1, true, {}, 0 / 0}},
    {"a table whose __index and __len raise", erroring},
    {"a table whose __len is maxinteger", huge_len},
    {"a table whose __len is negative", negative_len},
    {"a table whose __len is a float", float_len},
    {"a coroutine", coroutine.create(function() end)},
    {"a C function", print},
    {"a lock", asched.lock()},
    {"a task", asched.spawn(function() end)},
  }
end

-- The children behind the Process and Stream objects, killed and reaped after
-- each spec (a <close> does so), so they do not pile up.
local children = {}
local function child(argv, opts)
  children[#children + 1] = asched.process.spawn(argv, opts)
  return children[#children]
end
local function close_children()
  for i = #children, 1, -1 do
    getmetatable(children[i]).__close(children[i])
    children[i] = nil
  end
end

-- Every object a method can be called on: made fresh for each method, so a
-- call that closes or shuts one down does not change the next call's object.
local OBJECTS = {
  Task = function() return asched.spawn(asched.sleep, 1e9) end,
  Semaphore = function() return asched.semaphore(1) end,
  BoundedSemaphore = function() return asched.bounded_semaphore(1) end,
  Lock = function() return asched.lock() end,
  Event = function() return asched.event() end,
  Condition = function() return asched.condition() end,
  Queue = function() return asched.queue(2) end,
  LifoQueue = function() return asched.lifo_queue(2) end,
  PriorityQueue = function() return asched.priority_queue(2) end,
  Barrier = function() return asched.barrier(2) end,
  Process = function() return child({"true"}) end,   -- short-lived: a wait costs no autojump
  Stream = function() return child({"true"}, {stdout = "pipe"}).stdout end,
  Socket = function() return asched.udp.bind(nil, 0) end,
}

-- The table of `object`'s methods: its metatable's __index table, or (with an
-- __index function) its "__methods" table.
local function method_table(object)
  local mt = getmetatable(object)
  return type(mt.__index) == "table" and mt.__index or mt.__methods
end

-- The names of `object`'s methods, sorted.
local function methods_of(object)
  local index = method_table(object)
  local names = {}
  for name, value in pairs(index) do
    if type(value) == "function" then names[#names + 1] = name end
  end
  table.sort(names)
  return names
end

-- Every public function: "name" or "ns.name", with the function.
local function public_functions()
  local list = {}
  for name, value in pairs(asched) do
    if type(value) == "function" and not SKIP[name] then
      list[#list + 1] = {name, value}
    elseif type(value) == "table" then
      for inner, fn in pairs(value) do
        if type(fn) == "function" then list[#list + 1] = {name .. "." .. inner, fn} end
      end
    end
  end
  table.sort(list, function(a, b) return a[1] < b[1] end)
  return list
end

-- Runs fn(...) in a task, stopped after one virtual second if it suspends.
-- Returns "ok", or "error" and the error, or "stopped".
local function try(fn, ...)
  local args = table.pack(...)
  local task = asched.spawn(function() return fn(table.unpack(args, 1, args.n)) end)
  local ok, err = pcall(asched.wait_for, task, 1)
  if ok then return "ok" end
  if type(err) == "table" and err.name == "TimeoutError" then return "stopped" end
  return "error", err
end

-- An argument error must name the function as the user called it: the last
-- part of `public` ("read_file" for "fs.read_file"), or the method's name.
local function check_error(public, what, err)
  if type(err) ~= "string" then
    assert.equals("table", type(err), public .. " with " .. what .. " raised a " .. type(err))
    assert.is_string(err.name, public .. " with " .. what .. " raised a table without a name")
    return
  end
  if err:find("bad argument", 1, true) then
    local short = public:match("([%w_]+)$")
    assert.truthy(err:find("'" .. short .. "'", 1, true),
                  public .. " with " .. what .. ": the argument error does not name '" .. short .. "': " .. err)
  end
end

-- Calls fn with each hostile value at places 1..3 (the others nil), then checks
-- that a full collection is safe and the loop still works.
local function sweep(public, fn, before)
  for place = 1, 3 do
    for _, hostile in ipairs(hostile_values()) do
      local args = {n = place}
      args[place] = hostile[2]
      local outcome, err
      if before then
        local self = before()
        outcome, err = try(fn, self, table.unpack(args, 1, args.n))
      else
        outcome, err = try(fn, table.unpack(args, 1, args.n))
      end
      if outcome == "error" then
        check_error(public, hostile[1] .. " as argument " .. place, err)
      end
    end
  end
  collectgarbage()
  collectgarbage()
  local t0 = asched.now()
  assert.equals("still fine", asched.spawn(function() asched.sleep(0.5) return "still fine" end):await())
  helpers.assert_elapsed(0.5, t0)
end

describe("every public function, with hostile arguments", function()
  after_each(helpers.cancel_leftovers)

  for _, entry in ipairs(public_functions()) do
    local public, fn = entry[1], entry[2]
    it(public .. " raises a clean error or returns, never crashes or hangs", function()
      sweep(public, fn)
    end)
  end

  it("covers every function of the module (a new one is swept without a list)", function()
    local count = #public_functions()
    assert.is_true(count >= 30, "only " .. count .. " functions found")
  end)
end)

describe("every method, with hostile arguments and the wrong self", function()
  after_each(helpers.cancel_leftovers)
  after_each(close_children)

  local kinds = {}
  for kind in pairs(OBJECTS) do kinds[#kinds + 1] = kind end
  table.sort(kinds)
  for _, kind in ipairs(kinds) do
    local make = OBJECTS[kind]
    for _, method in ipairs(methods_of(make())) do
      local public = kind .. ":" .. method
      it(public .. " raises a clean error or returns, never crashes or hangs", function()
        local index = method_table(make())
        sweep(method, index[method], make)
        -- The wrong self: each hostile value, and every other kind of object.
        for _, hostile in ipairs(hostile_values()) do
          local outcome, err = try(index[method], hostile[2])
          if outcome == "error" then check_error(method, hostile[1] .. " as self", err) end
        end
        for _, other in ipairs(kinds) do
          if other ~= kind then
            local outcome, err = try(index[method], OBJECTS[other]())
            if outcome == "error" then check_error(method, "a " .. other .. " as self", err) end
          end
        end
      end)
    end
  end
end)

-- Each context runs call() where a task cannot suspend; the spec below passes
-- a call() that tries one public function and catches its error there.
local CONTEXTS = {
  ["a done callback"] = function(call)
    local t = asched.spawn(function() end)
    t:add_done_callback(function() call() end)
    t:await()
    asched.sleep(0)
  end,
  ["a <close> handler"] = function(call)
    do
      local _ <close> = setmetatable({}, {__close = function() call() end})
    end
  end,
  ["a __gc metamethod"] = function(call)
    setmetatable({}, {__gc = function() call() end})
    collectgarbage()
    collectgarbage()
  end,
  ["a table.sort comparator"] = function(call)
    table.sort({3, 1, 2}, function(a, b) call() return a < b end)
  end,
}

describe("every public function, called where a task cannot suspend", function()
  after_each(helpers.cancel_leftovers)

  local places = {}
  for where in pairs(CONTEXTS) do places[#places + 1] = where end
  table.sort(places)
  for _, where in ipairs(places) do
    it("from " .. where .. ": raises or returns, never crashes, hangs or breaks the loop", function()
      local calls, raised = 0, 0
      for _, entry in ipairs(public_functions()) do
        local fn = entry[2]
        for _, args in ipairs({{n = 0}, {n = 1, 0}}) do
          CONTEXTS[where](function()
            calls = calls + 1
            local ok = pcall(fn, table.unpack(args, 1, args.n))
            if not ok then raised = raised + 1 end
          end)
        end
      end
      assert.is_true(calls >= 60, "only " .. calls .. " calls ran from " .. where)
      assert.is_true(raised > 0)
      helpers.cancel_leftovers()
      collectgarbage()
      local t0 = asched.now()
      assert.equals("still fine", asched.spawn(function() asched.sleep(0.5) return "still fine" end):await())
      helpers.assert_elapsed(0.5, t0)
    end)
  end
end)
