-- Wrong: starts the fetch, then always sleeps the whole time limit before looking.
local asched = require("asched")

local M = {}

function M.fetch_data(source_id, delay)
  print(string.format("Starting fetch from source %d", source_id))
  asched.sleep(delay)
  print(string.format("Completed fetch from source %d", source_id))
  return {source = source_id, data = "Data from " .. source_id}
end

function M.fetch_with_timeout(source_id, delay, seconds)
  seconds = seconds or 3
  local task = asched.spawn(M.fetch_data, source_id, delay)
  asched.sleep(seconds)
  if task:done() then return task:result() end
  task:cancel()
  error({name = "TimeoutError", message = "source " .. source_id .. " is too slow"}, 0)
end

return M
