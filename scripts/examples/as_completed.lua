-- as_completed.lua -- handle results in the order they finish, not the order
-- they were started: the fastest answer is processed first. And what
-- as_completed's timeout does (and does not do) to the slow ones.
--
--   asched scripts/examples/as_completed.lua
--   asched --virtual-time scripts/examples/as_completed.lua   (instant)

-- A download that takes `seconds` and returns its size.
local function download(file, seconds, size)
  asched.sleep(seconds)
  return {file = file, size = size}
end

---------------------------------------------------------------------------
print("=== 1. Process each result as soon as it is ready ===")
-- asched.as_completed(list) is an iterator for a generic `for`. Each step
-- suspends until the next item is done and yields its Task, so the loop body
-- runs once per item, in completion order. Python's version yields
-- awaitables to await; here task:result() reads the finished task's values
-- without suspending.

local tasks = {
  asched.spawn(download, "video.mp4", 3, 700),
  asched.spawn(download, "notes.txt", 1, 2),
  asched.spawn(download, "photo.jpg", 2, 40),
}
local start = asched.now()
local total = 0
for task in asched.as_completed(tasks) do
  local result = task:result()
  total = total + result.size
  print(string.format("%5.2f  processed %s (%d MB, %d MB so far)",
                      asched.now() - start, result.file, result.size, total))
end

-- gather would have handed back all three only at 3.00 s. With as_completed
-- the small file was processed two seconds earlier.

---------------------------------------------------------------------------
print("\n=== 2. Progress as a percentage ===")
-- Knowing how many items there are, each completion is a step of progress.

start = asched.now()
local jobs = {}
for i = 1, 4 do
  jobs[i] = asched.spawn(download, "part" .. i, i * 0.5, 10)
end
local finished = 0
for task in asched.as_completed(jobs) do
  finished = finished + 1
  print(string.format("%5.2f  %s done: %3d%%", asched.now() - start, task:result().file,
                      finished * 100 // #jobs))
end

---------------------------------------------------------------------------
print("\n=== 3. A timeout for the whole iteration ===")
-- {timeout = s} limits the whole loop, not each item: past the deadline the
-- next step raises TimeoutError. The items still running are NOT cancelled
-- (as in asyncio) -- they are yours to cancel or to wait for.

local slow = {
  asched.spawn(download, "quick.txt", 1, 1),
  asched.spawn(download, "huge.iso", 5, 4000),
}
start = asched.now()
local ok, err = pcall(function()
  for task in asched.as_completed(slow, {timeout = 2}) do
    print(string.format("%5.2f  processed %s", asched.now() - start, task:result().file))
  end
end)
print(string.format("%5.2f  gave up: %s (err.name = %s)", asched.now() - start, tostring(err), err.name))
print(string.format("       huge.iso still running: done = %s", tostring(slow[2]:done())))

-- We do not want it any more, so cancel it explicitly.
slow[2]:cancel()
asched.sleep(0)   -- let the cancelled task see its CancelledError and finish
print(string.format("       after cancel: cancelled = %s", tostring(slow[2]:cancelled())))
