-- Exercise 2, a reference solution: asched.wait_for runs the fetch under a
-- deadline; when the deadline comes first it cancels the fetch, waits for the
-- cancellation to finish, and raises TimeoutError.

local asched = require("asched")

local M = {}

-- Given: fetches one source (as in the tutorial).
function M.fetch_data(source_id, delay)
  print(string.format("Starting fetch from source %d", source_id))
  asched.sleep(delay)
  print(string.format("Completed fetch from source %d", source_id))
  return {source = source_id, data = "Data from " .. source_id}
end

function M.fetch_with_timeout(source_id, delay, seconds)
  seconds = seconds or 3
  return asched.wait_for(function() return M.fetch_data(source_id, delay) end, seconds)
end

return M
