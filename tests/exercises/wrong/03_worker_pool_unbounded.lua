-- Wrong: runs every job at once, ignoring the limit.
local asched = require("asched")

local M = {}

function M.process_job(job)
  print(string.format("Processing job %d (%.1f s)", job.id, job.seconds))
  asched.sleep(job.seconds)
  return {job = job.id, result = "Job " .. job.id .. " done"}
end

function M.process_all(jobs, workers)
  local work = {}
  for i, job in ipairs(jobs) do work[i] = function() return M.process_job(job) end end
  local r = asched.gather(work)
  local results = {}
  for i = 1, r.n do results[i] = r[i] end
  return results
end

return M
