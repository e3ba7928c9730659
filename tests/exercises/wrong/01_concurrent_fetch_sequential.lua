-- Wrong: calls the four fetches one after the other (10 s, not 4).
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
  return {M.fetch_data(1, 1), M.fetch_data(2, 2), M.fetch_data(3, 3), M.fetch_weather_data(city)}
end

return M
