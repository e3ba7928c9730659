-- Wrong: catches every error, but fetches the sources one after the other.
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
  local successes, failures = {}, {}
  for _, source in ipairs(sources) do
    local ok, value = pcall(M.fetch_data, source.id, source.delay)
    if ok then
      successes[#successes + 1] = value
    else
      failures[#failures + 1] = {source = source.id, error = value}
    end
  end
  return successes, failures
end

return M
