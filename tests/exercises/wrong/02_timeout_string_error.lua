-- Wrong: times out correctly but raises a plain string, not a TimeoutError.
local asched = require("asched")

local M = {}

function M.fetch_data(source_id, delay)
  print(string.format("Starting fetch from source %d", source_id))
  asched.sleep(delay)
  print(string.format("Completed fetch from source %d", source_id))
  return {source = source_id, data = "Data from " .. source_id}
end

function M.fetch_with_timeout(source_id, delay, seconds)
  local ok, result = pcall(asched.wait_for, function() return M.fetch_data(source_id, delay) end, seconds or 3)
  if ok then return result end
  error("TimeoutError: gave up on source " .. source_id, 0)
end

return M
