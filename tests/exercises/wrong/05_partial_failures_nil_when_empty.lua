-- Wrong: returns nil instead of an empty list when nothing failed (or nothing worked).
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
  local tasks = {}
  for i, source in ipairs(sources) do tasks[i] = asched.spawn(M.fetch_data, source.id, source.delay) end
  asched.wait(tasks)
  local successes, failures
  for i, task in ipairs(tasks) do
    local err = task:exception()
    if err ~= nil then
      failures = failures or {}
      failures[#failures + 1] = {source = sources[i].id, error = err}
    else
      successes = successes or {}
      successes[#successes + 1] = task:result()
    end
  end
  return successes, failures
end

return M
