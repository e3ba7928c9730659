-- sleepers.lua -- N tasks, task i sleeps ((i % 1000) / 1000) * 0.5 s and
-- returns i; every task is awaited; prints the sum, the wall time and the
-- peak RSS. Usage: asched bench/sleepers.lua [N]; bench/run compares peers.
local N = tonumber(arg and arg[1]) or 1000000

local function peak_rss_kb()
  local f = io.open("/proc/self/status")
  if not f then return 0 end
  local kb = f:read("a"):match("VmHWM:%s*(%d+)")
  f:close()
  return tonumber(kb) or 0
end

local function sleeper(i)
  asched.sleep(((i % 1000) / 1000) * 0.5)
  return i
end

local start = asched.now()
local tasks = {}
for i = 1, N do tasks[i] = asched.spawn(sleeper, i) end
local sum = 0
for i = 1, N do sum = sum + tasks[i]:await() end
local wall = asched.now() - start
print(string.format("sum=%d wall=%.3f peak_rss_kb=%d", sum, wall, peak_rss_kb()))
