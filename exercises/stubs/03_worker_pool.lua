-- Exercise 3: a pool of at most three workers
--
-- Starting a task for every job at once is fine for five jobs, but not for
-- five thousand: a real service would be flooded. Write
-- M.process_all(jobs, workers):
--
--   * `jobs` is a list of jobs; each job is a table {id = N, seconds = S};
--   * every job is processed once, with M.process_job(job);
--   * at most `workers` jobs (3 when `workers` is nil) run at the same time,
--     and no fewer while jobs are waiting: as soon as one job finishes, the
--     next waiting job starts;
--   * it returns the list of results in the order of `jobs` (result i is
--     what M.process_job(jobs[i]) returned), even though jobs finish in a
--     different order.
--
-- So with three workers, jobs of 2, 1 and 3 seconds followed by a 1 second
-- job take 3 seconds in all: the fourth job starts when the 1 second job is
-- done, and finishes at 2 seconds.
--
-- Call the helper as M.process_job(job): the check replaces it with a version
-- that counts how many jobs run at once.
--
-- Check your work with:  ./build/asched check 3

local asched = require("asched")

local M = {}

-- Given: processes one job.
function M.process_job(job)
  print(string.format("Processing job %d (%.1f s)", job.id, job.seconds))
  asched.sleep(job.seconds)
  return {job = job.id, result = "Job " .. job.id .. " done"}
end

-- Runs M.process_job on every job, at most `workers` (default 3) at once;
-- returns the results in the order of `jobs`.
function M.process_all(jobs, workers)
  -- TODO
end

return M
