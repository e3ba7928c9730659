-- debugging.lua -- the classic mistakes of asynchronous code, each one made
-- on purpose, kept small and harmless, and followed by its fix: blocking the
-- loop, forgetting to spawn, starting too many tasks at once, an error
-- nobody looks at, and a deadlock.
--
--   asched scripts/advanced/debugging.lua
--   asched --virtual-time scripts/advanced/debugging.lua   (instant)

-- A heartbeat task: every 0.05 s it wakes and counts. If the loop is free it
-- beats about 20 times a second; if something hogs the loop, it cannot.
local beats = 0
local heartbeat = asched.spawn(function()
  while true do
    asched.sleep(0.05)
    beats = beats + 1
  end
end)
heartbeat.name = "heartbeat"
asched.sleep(0)   -- let it start

-- Runs `block` and reports how many heartbeats happened meanwhile and how
-- far the loop clock moved.
local function measure(label, block)
  local first_beat, start = beats, asched.now()
  block()
  print(string.format("  %-28s %d heartbeats, loop clock moved %.2f s",
                      label .. ":", beats - first_beat, asched.now() - start))
end

---------------------------------------------------------------------------
print("=== 1. Blocking the loop ===")
-- asched is cooperative: a task runs until it suspends (sleep, await, a lock,
-- a queue...). A busy loop never suspends, so for its whole duration no other
-- task runs -- the heartbeat is starved. Python's time.sleep() inside a
-- coroutine is the same mistake; os.execute("sleep 1") is Lua's version:
-- the whole process waits for the shell command, loop included.

measure("busy loop, 0.2 s", function()
  local stop = os.clock() + 0.2
  while os.clock() < stop do end
end)
measure('os.execute("sleep 0.1")', function()
  os.execute("sleep 0.1")
end)

-- The fix: wait with asched.sleep (or any asched primitive), and move real
-- blocking or CPU work to a thread with asched.to_thread. (Three beats, not
-- four: the fourth is due at the very moment main wakes, and timers with the
-- same deadline fire in the order they were set -- main's first.)
measure("asched.sleep(0.2)", function()
  asched.sleep(0.2)
end)

-- Under --virtual-time the blocked runs above report "moved 0.00 s": the
-- virtual clock only jumps when the loop is idle, so it cannot even see the
-- time a busy task wastes. Run without it to see the real time lost. (The
-- API also specifies a --debug option that warns about any task running
-- over 100 ms without suspending.)

---------------------------------------------------------------------------
print("\n=== 2. Forgetting to spawn ===")
-- In Python, forgetting `await` gives you a coroutine object that never
-- runs. Lua functions have no colour, so the opposite mistake is the common
-- one: calling a function that sleeps *runs it now, in this task*. Three
-- calls in a row are sequential, however "async" the function feels.

local function fetch(id)
  asched.sleep(1)
  return id
end

local start = asched.now()
for id = 1, 3 do fetch(id) end
print(string.format("  called directly: %.2f s (one after the other)", asched.now() - start))

start = asched.now()
local tasks = {}
for id = 1, 3 do tasks[id] = asched.spawn(fetch, id) end
asched.gather(tasks)
print(string.format("  spawned:         %.2f s (at the same time)", asched.now() - start))

---------------------------------------------------------------------------
print("\n=== 3. Too many tasks at once ===")
-- Spawning is cheap, so it is easy to fire 500 requests at a server that can
-- take 10. Count how many are in flight at once, then cap it with a
-- semaphore: the others queue in order, and the server is never flooded.
-- The capped run takes longer -- the point is what the server has to bear.

local function hammer(limit)
  local in_flight, peak = 0, 0
  local permits = limit and asched.semaphore(limit)
  local function request()
    local permit <close> = permits and permits:acquire()   -- nil closes to nothing
    in_flight = in_flight + 1
    peak = math.max(peak, in_flight)
    asched.sleep(0.1)
    in_flight = in_flight - 1
  end
  local jobs = {}
  for i = 1, 500 do jobs[i] = request end
  local begin = asched.now()
  asched.gather(jobs)
  return peak, asched.now() - begin
end

local peak, took = hammer(nil)
print(string.format("  %-15s %3d requests in flight at once, %.2f s", "no limit:", peak, took))
peak, took = hammer(10)
print(string.format("  %-15s %3d requests in flight at once, %.2f s", "semaphore(10):", peak, took))

---------------------------------------------------------------------------
print("\n=== 4. An error nobody retrieves ===")
-- A task that fails keeps its error until someone awaits it. Spawn and
-- forget, and the error is only reported on stderr when it is collected or
-- the run ends -- long after the fact, though never silently lost.

local forgotten = asched.spawn(function()
  asched.sleep(0.1)
  error("lost in the background", 0)
end)
forgotten.name = "fire-and-forget"
print("  spawned 'fire-and-forget' and never awaited it: see stderr at exit")

-- The fix: await every task you spawn, or handle its outcome in a done
-- callback -- task:exception() there retrieves the error.
local watched = asched.spawn(function()
  asched.sleep(0.1)
  error("caught by its callback", 0)
end)
watched:add_done_callback(function(task)
  print("  done callback: " .. tostring(task:exception()))
end)
asched.sleep(0.2)

---------------------------------------------------------------------------
print("\n=== 5. A deadlock ===")
-- Two tasks take two locks in opposite orders: each holds one and waits for
-- the other forever. In Python this hangs silently. asched notices that
-- nothing can ever wake anyone and raises DeadlockError in the main task,
-- listing who waits on what. (The heartbeat is stopped first: a task that
-- sleeps can still wake, so while it runs there is no deadlock to detect.)

heartbeat:cancel()

local lock_a, lock_b = asched.lock(), asched.lock()
local function transfer(first, second)
  local hold_first <close> = first:acquire()
  asched.sleep(0.1)                       -- the other task takes its first lock
  local hold_second <close> = second:acquire()
end
local t1 = asched.spawn(transfer, lock_a, lock_b)
local t2 = asched.spawn(transfer, lock_b, lock_a)
t1.name, t2.name = "a-then-b", "b-then-a"

asched.current_task().name = "main"        -- names make the report readable
local ok, err = pcall(asched.gather, {t1, t2})
print(string.format("  pcall caught %s:", err.name))
for line in err.message:gmatch("[^\n]+") do print("    " .. line:gsub("at .*/", "at ")) end

-- Recover: cancel both; their <close> guards release the locks they held.
t1:cancel()
t2:cancel()
asched.wait({t1, t2})
print(string.format("  after cancelling both: lock a locked = %s, lock b locked = %s",
                    tostring(lock_a:locked()), tostring(lock_b:locked())))
-- The fix: always take locks in one agreed order (a before b), or hold one
-- lock at a time.
