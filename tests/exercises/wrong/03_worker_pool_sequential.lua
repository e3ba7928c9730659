-- Wrong: processes the jobs one at a time (a single worker).
local asched = require("asched")

local M = {}

function M.process_job(job)
  print(string.format("Processing job %d (%.1f s)", job.id, job.seconds))
  asched.sleep(job.seconds)
  return {job = job.id, result = "Job " .. job.id .. " done"}
end

function M.process_all(jobs, workers)
  local results = {}
  for i, job in ipairs(jobs) do results[i] = M.process_job(job) end
  return results
end

return M
