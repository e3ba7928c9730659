-- async_scheduler.lua -- the tutorial's main program: fetch data from several
-- simulated sources at once, process results as they complete, retry
-- failures, give up on slow sources, and limit how many run at once.
--
--   asched scripts/async_scheduler.lua          random delays, real time
--   asched scripts/async_scheduler.lua 42       the same run every time
--   asched --virtual-time scripts/async_scheduler.lua 42
--                                               the same run, instantly
--
-- Every function below runs inside a task: the script itself is the main
-- task, so its top level may call asched.sleep, gather and the rest.

local seed = tonumber(arg and arg[1]) or os.time()
math.randomseed(seed)

-- A random delay between 1 and 3 seconds, to two decimals.
local function random_delay()
  return 1 + math.random(0, 200) / 100
end

-- Simulates fetching data from a source: in a real program, an HTTP request
-- or a database query. While this task sleeps, the others run.
local function fetch_data(source_id, delay)
  print(string.format("Starting fetch from source %d", source_id))
  asched.sleep(delay)
  print(string.format("Completed fetch from source %d", source_id))
  return {source = source_id, data = "Data from " .. source_id}
end

print(string.format("asched %s, seed %d", asched.version, seed))

---------------------------------------------------------------------------
print("\n=== 1. Fetch five sources concurrently (gather) ===")
-- Five tasks sleep at the same time, so the whole fetch takes as long as the
-- slowest source, not the sum of all delays.

local delays, longest = {}, 0
local fetches = {}
for id = 1, 5 do
  delays[id] = random_delay()
  longest = math.max(longest, delays[id])
  fetches[id] = function() return fetch_data(id, delays[id]) end
end

local start = asched.now()
local results = asched.gather(fetches)
local elapsed = asched.now() - start
print(string.format("Fetched %d items in %.2f seconds (the slowest source took %.2f s, all together %.2f s)",
                    results.n, elapsed, longest, delays[1] + delays[2] + delays[3] + delays[4] + delays[5]))
for i = 1, results.n do
  print(string.format("  result %d: %s", i, results[i].data))
end

---------------------------------------------------------------------------
print("\n=== 2. Process as Completed (as_completed) ===")
-- The same kind of fetches, handled one by one in the order they finish.

local tasks = {}
for id = 1, 5 do
  tasks[id] = asched.spawn(fetch_data, id, random_delay())
end
start = asched.now()
for task in asched.as_completed(tasks) do
  local result = task:result()
  print(string.format("Processed %s after %.2f s", result.data, asched.now() - start))
end

---------------------------------------------------------------------------
print("\n=== 3. Retry failed fetches (up to 3 attempts) ===")
-- A flaky source fails half of the time. fetch_with_retry tries again after
-- a short pause, and gives up after the third failure.

local function flaky_fetch(source_id)
  local result = fetch_data(source_id, 0.5)
  if math.random() < 0.5 then
    error(string.format("source %d returned garbage", source_id), 0)
  end
  return result
end

local function fetch_with_retry(source_id, max_attempts)
  for attempt = 1, max_attempts do
    local ok, result = pcall(flaky_fetch, source_id)
    if ok then
      return result
    end
    print(string.format("Attempt %d for source %d failed: %s", attempt, source_id, result))
    if attempt == max_attempts then
      error(string.format("source %d failed after %d attempts", source_id, max_attempts), 0)
    end
    asched.sleep(1)
  end
end

local retried = asched.gather({
  function() return fetch_with_retry(1, 3) end,
  function() return fetch_with_retry(2, 3) end,
  function() return fetch_with_retry(3, 3) end,
}, {return_exceptions = true})
for i = 1, retried.n do
  local outcome = retried[i]
  if type(outcome) == "table" then
    print(string.format("Source %d: %s", i, outcome.data))
  else
    print(string.format("Source %d: gave up (%s)", i, outcome))
  end
end

---------------------------------------------------------------------------
print("\n=== 4. Give up on a slow source (wait_for) ===")
-- A source that takes 5 seconds, with a 2 second limit: wait_for cancels it
-- and raises TimeoutError.

local ok, err = pcall(asched.wait_for, function() return fetch_data(99, 5) end, 2)
if ok then
  print("The slow source answered in time")
else
  print(string.format("Gave up on source 99: %s", tostring(err)))
end

---------------------------------------------------------------------------
print("\n=== 5. At most two fetches at a time (semaphore) ===")
-- Six sources, but only two fetch at once: each waits for a permit first.

local permits = asched.semaphore(2)
local limited = {}
for id = 1, 6 do
  limited[id] = function()
    local permit <close> = permits:acquire()
    return fetch_data(id, 1)
  end
end
start = asched.now()
asched.gather(limited)
print(string.format("Six one-second fetches, two at a time, took %.2f seconds", asched.now() - start))
