-- Wrong: uses return_exceptions and takes every string for an error, every table for a result.
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
  local r = asched.gather(work, {return_exceptions = true})
  local successes, failures = {}, {}
  for i = 1, r.n do
    if type(r[i]) == "string" then
      failures[#failures + 1] = {source = sources[i].id, error = r[i]}
    else
      successes[#successes + 1] = r[i]
    end
  end
  return successes, failures
end

return M
