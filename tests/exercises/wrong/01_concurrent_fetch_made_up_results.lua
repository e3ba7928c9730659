-- Wrong: runs the fetches concurrently but returns results it made up, not the ones fetched.
local asched = require("asched")

local M = {}

function M.fetch_data(source_id, delay)
  print(string.format("Starting fetch from source %d", source_id))
  asched.sleep(delay)
  print(string.format("Completed fetch from source %d", source_id))
  return {source = source_id, data = "Data from " .. source_id}
end

function M.fetch_weather_data(city)
  asched.sleep(4)
  return {source = "weather", city = city, data = "Weather for " .. city}
end

function M.fetch_all(city)
  asched.gather({
    function() return M.fetch_data(1, 1) end,
    function() return M.fetch_data(2, 2) end,
    function() return M.fetch_data(3, 3) end,
    function() return M.fetch_weather_data(city) end,
  })
  return {
    {source = 1, data = "Data from 1"},
    {source = 2, data = "Data from 2"},
    {source = 3, data = "Data from 3"},
    {source = "weather", city = city, data = "Weather for " .. city},
  }
end

return M
