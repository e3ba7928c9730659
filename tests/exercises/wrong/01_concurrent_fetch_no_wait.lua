-- Wrong: starts the four tasks but returns before they finish.
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
  return {
    asched.spawn(M.fetch_data, 1, 1),
    asched.spawn(M.fetch_data, 2, 2),
    asched.spawn(M.fetch_data, 3, 3),
    asched.spawn(M.fetch_weather_data, city),
  }
end

return M
