-- Exercise 1, a reference solution: the weather source, and fetch_all with
-- asched.gather so that the four fetches run at the same time.

local asched = require("asched")

local M = {}

-- Given: fetches one source (as in the tutorial).
function M.fetch_data(source_id, delay)
  print(string.format("Starting fetch from source %d", source_id))
  asched.sleep(delay)
  print(string.format("Completed fetch from source %d", source_id))
  return {source = source_id, data = "Data from " .. source_id}
end

-- A slow source: 4 seconds.
function M.fetch_weather_data(city)
  print(string.format("Starting weather fetch for %s", city))
  asched.sleep(4)
  print(string.format("Completed weather fetch for %s", city))
  return {source = "weather", city = city, data = "Weather for " .. city}
end

-- Each function in the list runs as its own task; gather waits for all of
-- them and returns their results in the list's order.
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
