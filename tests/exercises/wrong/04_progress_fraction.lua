-- Wrong: reports done / total (0.2) instead of a percentage (20).
local asched = require("asched")

local M = {}

function M.fetch_data(source_id, delay)
  print(string.format("Starting fetch from source %d", source_id))
  asched.sleep(delay)
  print(string.format("Completed fetch from source %d", source_id))
  return {source = source_id, data = "Data from " .. source_id}
end

function M.fetch_with_progress(sources, report)
  local tasks = {}
  for i, source in ipairs(sources) do tasks[i] = asched.spawn(M.fetch_data, source.id, source.delay) end
  local results = {}
  for task in asched.as_completed(tasks) do
    results[#results + 1] = task:result()
    report(#results, #sources, #results / #sources)
  end
  return results
end

return M
