-- Wrong: workers pull jobs from a queue, but results are listed in the order jobs finish.
local asched = require("asched")

local M = {}

function M.process_job(job)
  print(string.format("Processing job %d (%.1f s)", job.id, job.seconds))
  asched.sleep(job.seconds)
  return {job = job.id, result = "Job " .. job.id .. " done"}
end

function M.process_all(jobs, workers)
  local queue = asched.queue()
  for _, job in ipairs(jobs) do queue:put_nowait(job) end
  local results = {}
  local function worker()
    while not queue:empty() do
      local job = queue:get_nowait()
      local result = M.process_job(job)
      results[#results + 1] = result
    end
  end
  local pool = {}
  for i = 1, workers or 3 do pool[i] = worker end
  asched.gather(pool)
  return results
end

return M
