-- Wrong: just fetches: waits as long as the fetch takes, never times out.
local asched = require("asched")

local M = {}

function M.fetch_data(source_id, delay)
  print(string.format("Starting fetch from source %d", source_id))
  asched.sleep(delay)
  print(string.format("Completed fetch from source %d", source_id))
  return {source = source_id, data = "Data from " .. source_id}
end

function M.fetch_with_timeout(source_id, delay, seconds)
  return M.fetch_data(source_id, delay)
end

return M
