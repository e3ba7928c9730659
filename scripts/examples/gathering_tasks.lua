-- gathering_tasks.lua -- asched.gather runs many items at once and returns
-- their results in the order they were listed, whatever order they finish
-- in; with return_exceptions, a failure takes its item's place instead of
-- being raised.
--
--   asched scripts/examples/gathering_tasks.lua
--   asched --virtual-time scripts/examples/gathering_tasks.lua   (instant)

-- A job that takes `seconds` and returns a word.
local function job(word, seconds)
  asched.sleep(seconds)
  print(string.format("%5.2f  %s finished", asched.now(), word))
  return word
end

---------------------------------------------------------------------------
print("=== 1. gather takes functions or tasks ===")
-- Python writes asyncio.gather(a(), b(), c()). In Lua a call would run at
-- once, so gather takes a list of *functions* (each is spawned as a task) or
-- of tasks already spawned. Mixing the two is fine.

local start = asched.now()
local results = asched.gather({
  function() return job("first", 3) end,
  function() return job("second", 1) end,
  asched.spawn(job, "third", 2),
})
print(string.format("gather returned after %.2f seconds (the longest job)", asched.now() - start))

---------------------------------------------------------------------------
print("\n=== 2. Results come back in input order ===")
-- The jobs finished second, third, first -- but results[i] belongs to item i.
-- results.n is the number of items, so a nil result still counts.

for i = 1, results.n do
  print(string.format("results[%d] = %s", i, results[i]))
end

---------------------------------------------------------------------------
print("\n=== 3. Without return_exceptions the first error is raised ===")
-- A failing item makes gather raise its error in the caller, as soon as it
-- fails. The other items are not cancelled: they keep running.

local function fail(message, seconds)
  asched.sleep(seconds)
  error(message, 0)
end

local survivor = asched.spawn(job, "survivor", 2)
local ok, err = pcall(asched.gather, {
  function() return fail("disk on fire", 1) end,
  survivor,
})
print(string.format("%5.2f  gather raised: %s", asched.now(), tostring(err)))
print(string.format("       the survivor is still running: done = %s", tostring(survivor:done())))
print(string.format("       and finishes anyway: %s", survivor:await()))

---------------------------------------------------------------------------
print("\n=== 4. With return_exceptions every item reports ===")
-- {return_exceptions = true} waits for every item; an error value stands in
-- its item's place, so the caller sorts successes from failures itself.

-- Here a success is the job's own word; in a real program return something
-- an error value cannot be mistaken for (a table of your own, say).

local names = {"alpha", "beta", "gamma"}
results = asched.gather({
  function() return job("alpha", 1) end,
  function() return fail("beta broke", 1) end,
  function() return job("gamma", 1) end,
}, {return_exceptions = true})
local successes, failures = 0, 0
for i = 1, results.n do
  if results[i] == names[i] then
    successes = successes + 1
    print(string.format("item %d succeeded: %s", i, results[i]))
  else
    failures = failures + 1
    print(string.format("item %d failed: %s", i, tostring(results[i])))
  end
end
print(string.format("%d succeeded, %d failed", successes, failures))

---------------------------------------------------------------------------
print("\n=== 5. An empty list ===")
-- Nothing to wait for: gather returns {n = 0} at once.

print(string.format("gather({}).n = %d", asched.gather({}).n))
