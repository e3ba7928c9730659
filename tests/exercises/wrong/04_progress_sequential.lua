-- Wrong: fetches the sources one after the other, reporting after each.
local asched = require("asched")

local M = {}

function M.fetch_data(source_id, delay)
  print(string.format("Starting fetch from source %d", source_id))
  asched.sleep(delay)
  print(string.format("Completed fetch from source %d", source_id))
  return {source = source_id, data = "Data from " .. source_id}
end

function M.fetch_with_progress(sources, report)
  local results = {}
  for i, source in ipairs(sources) do
    results[i] = M.fetch_data(source.id, source.delay)
    report(i, #sources, i * 100 / #sources)
  end
  return results
end

return M
