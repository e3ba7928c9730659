-- Wrong: gathers everything, then makes all the reports at the end.
local asched = require("asched")

local M = {}

function M.fetch_data(source_id, delay)
  print(string.format("Starting fetch from source %d", source_id))
  asched.sleep(delay)
  print(string.format("Completed fetch from source %d", source_id))
  return {source = source_id, data = "Data from " .. source_id}
end

function M.fetch_with_progress(sources, report)
  local work = {}
  for i, source in ipairs(sources) do
    work[i] = function() return M.fetch_data(source.id, source.delay) end
  end
  local r = asched.gather(work)
  local results = {}
  for i = 1, r.n do
    results[i] = r[i]
    report(i, #sources, i * 100 / #sources)
  end
  return results
end

return M
