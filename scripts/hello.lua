-- hello.lua -- five tasks sleep at the same time: the whole run takes as long
-- as the longest sleep, not the sum of them.
--   asched scripts/hello.lua                  (real time: about 1.0 s)
--   asched --virtual-time scripts/hello.lua   (instant, same output)

local function worker(name, seconds)
  print(string.format("%5.2f  %s starts, sleeps %.1f s", asched.now(), name, seconds))
  asched.sleep(seconds)
  print(string.format("%5.2f  %s done", asched.now(), name))
  return seconds
end

local delays = {0.6, 0.2, 1.0, 0.4, 0.8}
local start = asched.now()
local tasks = {}
for i, seconds in ipairs(delays) do
  tasks[i] = asched.spawn(worker, "worker " .. i, seconds)
end

local total = 0
for _, task in ipairs(tasks) do total = total + task:await() end

print(string.format("slept %.1f s in all, in %.2f s of loop time", total, asched.now() - start))
