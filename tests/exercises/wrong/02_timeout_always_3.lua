-- Wrong: always uses a 3 second limit, ignoring the `seconds` argument.
local asched = require("asched")

local M = {}

function M.fetch_data(source_id, delay)
  print(string.format("Starting fetch from source %d", source_id))
  asched.sleep(delay)
  print(string.format("Completed fetch from source %d", source_id))
  return {source = source_id, data = "Data from " .. source_id}
end

function M.fetch_with_timeout(source_id, delay, seconds)
  return asched.wait_for(function() return M.fetch_data(source_id, delay) end, 3)
end

return M
