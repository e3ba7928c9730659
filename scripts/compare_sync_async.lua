-- compare_sync_async.lua -- the same five two-second operations, run one
-- after the other and then all at once: waiting overlaps, so the concurrent
-- run takes as long as one operation, not five.
--
--   asched scripts/compare_sync_async.lua                  (about 12 s of real time)
--   asched --virtual-time scripts/compare_sync_async.lua   (instant, same output)
--
-- The script is the main task, so its top level may sleep and await.

local OPERATIONS, SECONDS = 5, 2

-- One simulated I/O operation: a network call or a disk read that spends its
-- time waiting, not computing. asched.sleep stands in for the wait.
local function operation(id)
  print(string.format("  %5.2f  operation %d starts", asched.now(), id))
  asched.sleep(SECONDS)
  print(string.format("  %5.2f  operation %d done", asched.now(), id))
  return id
end

---------------------------------------------------------------------------
print("=== 1. Sequential: call each operation in turn ===")
-- Calling a function that sleeps runs it in the current task, to the end,
-- before the next line runs. Lua functions have no colour: there is no
-- `await` keyword to forget, and no coroutine object to create -- a plain
-- call is simply sequential, like calling a blocking function in Python.

local start = asched.now()
for id = 1, OPERATIONS do
  operation(id)
end
local sequential = asched.now() - start
print(string.format("Sequential: %d operations took %.2f seconds", OPERATIONS, sequential))

---------------------------------------------------------------------------
print("\n=== 2. Concurrent: spawn every operation, then wait for all ===")
-- asched.spawn is asyncio.create_task: each operation becomes a task, and
-- while one sleeps the loop runs the others. gather waits for all of them
-- and returns their results in the order they were listed.

start = asched.now()
local tasks = {}
for id = 1, OPERATIONS do
  tasks[id] = asched.spawn(operation, id)
end
local results = asched.gather(tasks)
local concurrent = asched.now() - start
print(string.format("Concurrent: %d operations took %.2f seconds", results.n, concurrent))

---------------------------------------------------------------------------
print("\n=== 3. The difference ===")
-- The work was the same; only the waiting overlapped. This is concurrency,
-- not parallelism: one thread ran every task, taking turns at each sleep.

print(string.format("Sequential %.2f s, concurrent %.2f s: %.1fx faster",
                    sequential, concurrent, sequential / concurrent))
