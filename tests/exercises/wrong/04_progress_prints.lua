-- Wrong: prints the progress lines instead of calling report, and returns made-up results.
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
  local sorted = {}
  for i, source in ipairs(sources) do sorted[i] = source end
  table.sort(sorted, function(a, b) return a.delay < b.delay end)
  local now = 0
  for i, source in ipairs(sorted) do
    asched.sleep(source.delay - now)
    now = source.delay
    print(string.format("Progress: %d/%d (%d%%)", i, #sources, i * 100 // #sources))
    results[i] = {source = source.id, data = "Data from " .. source.id}
  end
  return results
end

return M
