-- Wrong: raises TimeoutError in time, but forgets to cancel the slow fetch.
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
  local done = asched.wait({task}, {timeout = seconds})
  if #done == 1 then return task:result() end
  error(setmetatable({name = "TimeoutError", message = "source " .. source_id .. " is too slow"},
                     {__tostring = function(e) return e.name .. ": " .. e.message end}), 0)
end

return M
