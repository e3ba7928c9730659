-- Wrong: prints what a concurrent fetch prints, waits the right time, returns made-up results.
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
  for id = 1, 3 do print(string.format("Starting fetch from source %d", id)) end
  asched.sleep(4)
  for id = 1, 3 do print(string.format("Completed fetch from source %d", id)) end
  print("Fetched 4 items in 4.00 seconds")
  return {
    {source = 1, data = "Data from 1"},
    {source = 2, data = "Data from 2"},
    {source = 3, data = "Data from 3"},
    {source = "weather", city = city, data = "Weather for " .. city},
  }
end

return M
