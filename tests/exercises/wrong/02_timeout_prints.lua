-- Wrong: prints what a timeout prints and returns a made-up result.
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
  if delay > seconds then
    asched.sleep(seconds)
    print("Gave up on source " .. source_id .. ": TimeoutError")
    error({name = "TimeoutError", message = "gave up"}, 0)
  end
  asched.sleep(delay)
  print("Completed fetch from source " .. source_id)
  return {source = source_id, data = "Data from " .. source_id}
end

return M
