-- Wrong: gathers without catching anything: the first failure is raised.
local asched = require("asched")

local M = {}

function M.fetch_data(source_id, delay)
  print(string.format("Starting fetch from source %d", source_id))
  asched.sleep(delay)
  if source_id % 3 == 0 then
    error(string.format("source %d is not responding", source_id), 0)
  end
  print(string.format("Completed fetch from source %d", source_id))
  return {source = source_id, data = "Data from " .. source_id}
end

function M.fetch_all_safely(sources)
  local work = {}
  for i, source in ipairs(sources) do
    work[i] = function() return M.fetch_data(source.id, source.delay) end
  end
  local r = asched.gather(work)
  local successes = {}
  for i = 1, r.n do successes[i] = r[i] end
  return successes, {}
end

return M
