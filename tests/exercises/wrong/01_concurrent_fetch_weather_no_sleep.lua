-- Wrong: the weather source returns at once instead of taking 4 seconds.
local asched = require("asched")

local M = {}

function M.fetch_data(source_id, delay)
  print(string.format("Starting fetch from source %d", source_id))
  asched.sleep(delay)
  print(string.format("Completed fetch from source %d", source_id))
  return {source = source_id, data = "Data from " .. source_id}
end

function M.fetch_weather_data(city)
  -- (forgot to sleep)
  return {source = "weather", city = city, data = "Weather for " .. city}
end

function M.fetch_all(city)
  local r = asched.gather({
    function() return M.fetch_data(1, 1) end,
    function() return M.fetch_data(2, 2) end,
    function() return M.fetch_data(3, 3) end,
    function() return M.fetch_weather_data(city) end,
  })
  return {r[1], r[2], r[3], r[4]}
end

return M
