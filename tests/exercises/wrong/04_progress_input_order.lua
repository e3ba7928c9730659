-- Wrong: reports on time, but returns the results in the order of the sources.
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
  local done = 0
  for _ in asched.as_completed(tasks) do
    done = done + 1
    report(done, #sources, done * 100 / #sources)
  end
  local results = {}
  for i, task in ipairs(tasks) do results[i] = task:result() end
  return results
end

return M
