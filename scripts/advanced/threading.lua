-- threading.lua -- asched.to_thread moves blocking or CPU-heavy work off the
-- loop onto a worker thread, so every other task keeps running meanwhile.
-- What may cross into the thread, and how errors come back.
--
--   asched scripts/advanced/threading.lua                  (watch the ticker tick)
--   asched --virtual-time scripts/advanced/threading.lua   (see the note at the end)
--
-- Like Python's asyncio.to_thread, but a Lua state is not thread-safe, so the
-- function runs in a fresh Lua state of its own (standard libraries only):
-- it may not capture local variables, and its arguments and results are
-- copied (nil, booleans, numbers, strings and tables of those).

-- CPU-bound work: spin for `seconds` of processor time, count the turns.
-- No upvalues: it uses only its argument and globals (os), so it can be
-- sent to a thread.
local function crunch(seconds)
  local turns, start = 0, os.clock()
  while os.clock() - start < seconds do turns = turns + 1 end
  return turns > 0, seconds
end

-- A ticker task: while the loop is free, it ticks every 0.05 s.
local ticks = 0
local ticker = asched.spawn(function()
  while true do
    asched.sleep(0.05)
    ticks = ticks + 1
  end
end)
asched.sleep(0)   -- let the ticker start

---------------------------------------------------------------------------
print("=== 1. Heavy work on the loop stops every task ===")
-- The main task computes for 0.2 s without suspending. asched is
-- cooperative: nothing else runs until it suspends, so the ticker is frozen.

local before = ticks
crunch(0.2)
print(string.format("on the loop: %d ticks during 0.2 s of work", ticks - before))

---------------------------------------------------------------------------
print("\n=== 2. The same work in a thread: the loop stays free ===")
-- to_thread suspends only the calling task. The loop goes on running other
-- tasks while a pool thread does the work, then resumes the caller with the
-- function's results. Here the work runs in a task of its own, and a helper
-- task takes three turns meanwhile.

before = ticks
local clock_before = asched.now()
local work = asched.spawn(asched.to_thread, crunch, 0.2)
local helper = asched.spawn(function()
  for step = 1, 3 do
    print(string.format("  helper, turn %d: is the thread's work done? %s", step, tostring(work:done())))
    asched.sleep(0)
  end
end)
local finished, seconds = work:await()
local during, moved = ticks - before, asched.now() - clock_before
print(string.format("in a thread: finished = %s after %.1f s of work", tostring(finished), seconds))
helper:await()

---------------------------------------------------------------------------
print("\n=== 3. Blocking calls belong in a thread too ===")
-- A blocking call (a shell command, a C library without an async API, a
-- large file read) stalls the loop just like computing does. In a thread it
-- does not. Several threads run at once, and gather keeps their order.

local function run_command(command)
  local ok, how, code = os.execute(command)
  return string.format("%s -> %s %d", command, how, code)
end

local outputs = asched.gather({
  function() return asched.to_thread(run_command, "sleep 0.1") end,
  function() return asched.to_thread(run_command, "true") end,
  function() return asched.to_thread(run_command, "exit 3") end,
})
for i = 1, outputs.n do print("  " .. outputs[i]) end

---------------------------------------------------------------------------
print("\n=== 4. What may cross into a thread ===")
-- Values are copied into the thread's own Lua state. A table of plain data
-- is fine; a function that captures a local variable is not, because its
-- upvalues live in this state.

local summary = asched.to_thread(function(numbers)
  local total = 0
  for _, n in ipairs(numbers) do total = total + n end
  return {count = #numbers, total = total}
end, {3, 4, 5})
print(string.format("a table in, a table out: %d numbers, total %d", summary.count, summary.total))

local ok, err = pcall(asched.to_thread, function() return ticks end)
print("a closure over `ticks` is refused: " .. tostring(err))

---------------------------------------------------------------------------
print("\n=== 5. An error in the thread is raised in the caller ===")

ok, err = pcall(asched.to_thread, function(name)
  error("cannot open " .. name, 0)
end, "missing.csv")
-- A string error comes back with the thread's traceback appended, so the
-- first line is the message and the rest says where in the thread it failed.
print("caught: " .. tostring(err):match("[^\n]*"))

ticker:cancel()

---------------------------------------------------------------------------
print("\n=== Note: threads and --virtual-time ===")
-- Under --virtual-time the clock jumps to the next timer when every task
-- waits. Thread work is real, so the clock waits for it -- but only up to a
-- threshold of real time (0.05 s; ASCHED_AUTOJUMP=S sets it), then it jumps
-- to the next timer anyway (Trio's autojump). So the ticker ticks while the
-- thread works in both modes; under virtual time each tick stands for 0.05 s
-- of real waiting, not for the 0.05 s the ticker asked to sleep.

print(string.format("The loop clock moved %.2f s during 0.2 s of thread work,", moved))
print(string.format("and the ticker ticked %d times meanwhile.", during))
