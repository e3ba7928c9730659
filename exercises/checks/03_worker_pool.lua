-- Check for exercise 3: process_all runs every job once, keeps exactly
-- `workers` jobs running while jobs wait (default 3), takes the time that
-- many workers need, and returns the results in job order.
local asched = require("asched")

local function show(v)
  if type(v) == "table" and v.token then return (v.token:gsub("%-%d+%-%d+$", "")) end
  if type(v) == "table" and v.job then return string.format("{job = %s, result = %q}", v.job, tostring(v.result)) end
  if type(v) == "string" then return string.format("%q", v) end
  return tostring(v)
end

-- The jobs' lengths, and how long they take with 1, 2, 3, ... workers that
-- each take the next waiting job as soon as they are free.
local SECONDS = {2, 1, 3, 1, 2, 2, 1, 1}
local function pool_time(workers)
  local free_at = {}
  for i = 1, workers do free_at[i] = 0 end
  local finish = 0
  for _, s in ipairs(SECONDS) do
    table.sort(free_at)
    free_at[1] = free_at[1] + s
    finish = math.max(finish, free_at[1])
  end
  return finish
end

return {
  title = "Process a list of jobs with at most three workers",
  hints = {
    "Spawning a task for every job runs all of them at once; calling M.process_job in a " ..
    "loop runs one at a time. You want something in between: a job may only start while " ..
    "fewer than `workers` are running. Running them in batches of three is not it either: " ..
    "a worker that is done should start the next job at once.",
    "asched.semaphore(n) hands out n permits. A task that takes a permit before its job " ..
    "(`local permit <close> = sem:acquire()`) waits while all n are taken, and the " ..
    "permit goes back when the variable goes out of scope. asched.gather keeps the " ..
    "results in the order of the list.",
    "local permits = asched.semaphore(workers or 3)\n" ..
    "local work = {}\n" ..
    "for i, job in ipairs(jobs) do\n" ..
    "  work[i] = function()\n" ..
    "    local permit <close> = permits:acquire()\n" ..
    "    return M.process_job(job)\n" ..
    "  end\n" ..
    "end\n" ..
    "local r = asched.gather(work)   -- then copy r[1] .. r[r.n] into a list",
  },
  check = function(M, t)
    t.expect(type(M.process_all) == "function", "M.process_all should be a function",
             "a function", type(M.process_all))

    local function run(workers, what)
      local jobs, expected, seen = {}, {}, {}
      for i, s in ipairs(SECONDS) do
        jobs[i] = {id = i, seconds = s}
        expected[jobs[i]] = t.token(string.format("<what M.process_job returned for job %d>", i))
      end
      local tracker = t.tracker()
      M.process_job = tracker.wrap(function(job)
        seen[job] = (seen[job] or 0) + 1
        asched.sleep(job.seconds)
        return expected[job] or t.token("<a result for a job that is not in the list>")
      end)

      local elapsed, results = t.timed(what, M.process_all, jobs, workers)
      local limit = workers or 3

      for i, job in ipairs(jobs) do
        t.expect(seen[job] == 1, string.format("%s should call M.process_job once for every job", what),
                 string.format("job %d processed once", i),
                 string.format("job %d processed %d times", i, seen[job] or 0))
      end
      t.expect(tracker.most <= limit,
               string.format("%s should never run more than %d jobs at once", what, limit),
               string.format("at most %d at once", limit), string.format("%d at once", tracker.most))
      t.expect(tracker.most == limit,
               string.format("%s should keep %d workers busy: %d jobs should run at the same time " ..
                             "while others wait", what, limit, limit),
               string.format("%d at once", limit), string.format("at most %d at once", tracker.most))
      t.near(elapsed, pool_time(limit),
             string.format("%s: %d workers that each start the next job as soon as they are free " ..
                           "finish these jobs in %g s", what, limit, pool_time(limit)))
      t.expect(tracker.running == 0, string.format("%s should wait for every job to finish before returning", what),
               "none still running", string.format("%d still running", tracker.running))

      t.expect(type(results) == "table", string.format("%s should return the list of results", what),
               "a table", show(results))
      for i, job in ipairs(jobs) do
        t.expect(results[i] == expected[job],
                 string.format("%s: result %d should be what M.process_job(jobs[%d]) returned " ..
                               "(results in the order of the jobs, not the order they finish)", what, i, i),
                 show(expected[job]), show(results[i]))
      end
      t.expect(results[#jobs + 1] == nil, string.format("%s should return one result per job", what),
               string.format("%d results", #jobs), "more")
    end

    run(nil, "process_all(jobs)")
    run(2, "process_all(jobs, 2)")
    run(5, "process_all(jobs, 5)")
  end,
}
