-- churn.lua -- spawns, cancels and fails tasks in every way the core knows,
-- for valgrind's leak check (tests/CMakeLists.txt runs it when valgrind exists).
local function sleeper(s) asched.sleep(s) return s end
local tasks = {}
for i = 1, 200 do tasks[i] = asched.spawn(sleeper, i / 100) end
for i = 1, 200, 3 do tasks[i]:cancel("churn") end
local failing = asched.spawn(function()
  local guard <close> = setmetatable({}, {__close = function() end})
  asched.sleep(0.01)
  error("expected failure")
end)
local awaiter = asched.spawn(function() return tasks[2]:await() end)
awaiter:cancel()
asched.spawn(function() coroutine.yield() end)
asched.spawn(function() error({}) end)
asched.sleep(0.5)
pcall(failing.await, failing)
tasks[3]:add_done_callback(function() end)
local never = asched.spawn(function() asched.sleep(math.huge) end)
never.name = "never"
asched.spawn(function() asched.sleep(1000) end)
