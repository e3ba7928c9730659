-- Wrong: prints a summary and returns made-up lists.
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
  local successes, failures, slowest = {}, {}, 0
  for _, source in ipairs(sources) do
    slowest = math.max(slowest, source.delay)
    if source.id % 2 == 0 then
      failures[#failures + 1] = {source = source.id, error = "source " .. source.id .. " is not responding"}
    else
      successes[#successes + 1] = {source = source.id, data = "Data from " .. source.id}
    end
  end
  asched.sleep(slowest)
  print(string.format("%d succeeded, %d failed", #successes, #failures))
  return successes, failures
end

return M
