-- Exercise 3, a reference solution: a task per job, but each job first takes
-- one of `workers` permits from a semaphore, so at most `workers` run at once.
-- (Another way: start `workers` tasks that each take the next job from a
-- shared list or an asched.queue until none is left.)

local asched = require("asched")

local M = {}

-- Given: processes one job.
function M.process_job(job)
  print(string.format("Processing job %d (%.1f s)", job.id, job.seconds))
  asched.sleep(job.seconds)
  return {job = job.id, result = "Job " .. job.id .. " done"}
end

function M.process_all(jobs, workers)
  local permits = asched.semaphore(workers or 3)
  local work = {}
  for i, job in ipairs(jobs) do
    work[i] = function()
      local permit <close> = permits:acquire()
      return M.process_job(job)
    end
  end
  local r = asched.gather(work)
  local results = {}
  for i = 1, r.n do results[i] = r[i] end
  return results
end

return M
