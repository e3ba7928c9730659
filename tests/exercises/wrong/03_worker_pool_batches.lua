-- Wrong: runs the jobs in batches of `workers`, waiting for a whole batch before the next.
local asched = require("asched")

local M = {}

function M.process_job(job)
  print(string.format("Processing job %d (%.1f s)", job.id, job.seconds))
  asched.sleep(job.seconds)
  return {job = job.id, result = "Job " .. job.id .. " done"}
end

function M.process_all(jobs, workers)
  workers = workers or 3
  local results = {}
  for first = 1, #jobs, workers do
    local batch = {}
    for i = first, math.min(first + workers - 1, #jobs) do
      batch[#batch + 1] = function() return M.process_job(jobs[i]) end
    end
    local r = asched.gather(batch)
    for k = 1, r.n do results[first + k - 1] = r[k] end
  end
  return results
end

return M
