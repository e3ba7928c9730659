-- Exercise 1: add a slower source to the concurrent fetch
--
-- In the tutorial (scripts/async_scheduler.lua), five sources are fetched at
-- the same time with asched.gather, so the whole fetch takes as long as the
-- slowest source, not the sum of all the delays.
--
-- Now add a fourth, slower kind of source: the weather.
--
-- 1. Write M.fetch_weather_data(city). It simulates a slow request: it
--    sleeps for 4 seconds (asched.sleep) and returns the table
--        {source = "weather", city = city, data = "Weather for " .. city}
--    (printing something before and after is up to you).
--
-- 2. Write M.fetch_all(city). It fetches sources 1, 2 and 3, each with
--    M.fetch_data(id, id) (so source 2 takes 2 seconds), and the weather
--    for `city` with M.fetch_weather_data(city) -- all four at the same time.
--    It returns a list of the four results, in this order:
--        {result of source 1, result of source 2, result of source 3, weather}
--    Since they all run at once, fetch_all takes 4 seconds (the slowest
--    one), not 1 + 2 + 3 + 4 = 10.
--
-- Call the helpers as M.fetch_data(...) and M.fetch_weather_data(...): the
-- check replaces them with versions that watch what your code does.
--
-- Check your work with:  ./build/asched check 1

local asched = require("asched")

local M = {}

-- Given: fetches one source (as in the tutorial).
function M.fetch_data(source_id, delay)
  print(string.format("Starting fetch from source %d", source_id))
  asched.sleep(delay)
  print(string.format("Completed fetch from source %d", source_id))
  return {source = source_id, data = "Data from " .. source_id}
end

-- Sleeps 4 seconds, returns {source = "weather", city = city, data = ...}.
function M.fetch_weather_data(city)
  -- TODO
end

-- Fetches sources 1, 2, 3 and the weather for `city` concurrently;
-- returns {result1, result2, result3, weather}.
function M.fetch_all(city)
  -- TODO
end

return M
