-- Check for exercise 1: fetch_weather_data, and fetch_all running the three
-- sources and the weather concurrently.
local asched = require("asched")

-- How a value looks in a message.
local function show(v)
  if type(v) ~= "table" then return type(v) == "string" and string.format("%q", v) or tostring(v) end
  if v.token then return (v.token:gsub("%-%d+%-%d+$", "")) end
  local parts = {}
  for _, k in ipairs({"source", "city", "data"}) do
    if v[k] ~= nil then parts[#parts + 1] = k .. " = " .. show(v[k]) end
  end
  return "{" .. table.concat(parts, ", ") .. "}"
end

return {
  title = "Add a slower weather source to the concurrent fetch",
  hints = {
    "fetch_weather_data is like M.fetch_data: asched.sleep(4), then return the table. " ..
    "For fetch_all, remember that calling a function that sleeps runs it right here, " ..
    "one call after the other (1 + 2 + 3 + 4 = 10 s). To run the four at the same time, " ..
    "each needs its own task.",
    "asched.gather takes a list of functions, runs each one as its own task, waits for " ..
    "all of them and returns their results in the list's order:\n" ..
    "  local r = asched.gather({function() return M.fetch_data(1, 1) end, ...})",
    "local r = asched.gather({\n" ..
    "  function() return M.fetch_data(1, 1) end,\n" ..
    "  function() return M.fetch_data(2, 2) end,\n" ..
    "  function() return M.fetch_data(3, 3) end,\n" ..
    "  function() return M.fetch_weather_data(city) end,\n" ..
    "})\n" ..
    "return {r[1], r[2], r[3], r[4]}",
  },
  check = function(M, t)
    t.expect(type(M.fetch_weather_data) == "function", "M.fetch_weather_data should be a function",
             "a function", type(M.fetch_weather_data))
    t.expect(type(M.fetch_all) == "function", "M.fetch_all should be a function", "a function", type(M.fetch_all))

    -- 1. The weather on its own: 4 seconds, and a table naming the city.
    local city = "Lisbon-" .. math.random(1000, 9999)
    local elapsed, weather = t.timed("fetch_weather_data", M.fetch_weather_data, city)
    t.near(elapsed, 4, "fetch_weather_data(city) should take 4 seconds")
    t.expect(type(weather) == "table", "fetch_weather_data(city) should return a table",
             "a table", show(weather))
    t.equal(weather.source, "weather", 'fetch_weather_data(city) should return a table with source = "weather"')
    t.equal(weather.city, city, "fetch_weather_data(city) should return a table with city = the city it was given")

    -- 2. fetch_all, with helpers that watch it: every fetch returns a
    -- unique token, and the tracker counts how many run at once.
    local tracker = t.tracker()
    local expected = {t.token("<what M.fetch_data(1, 1) returned>"),
                      t.token("<what M.fetch_data(2, 2) returned>"),
                      t.token("<what M.fetch_data(3, 3) returned>")}
    local calls, weather_calls = {}, {}
    M.fetch_data = tracker.wrap(function(source_id, delay)
      calls[#calls + 1] = {source_id, delay}
      asched.sleep(delay)
      return expected[source_id] or t.token("<what M.fetch_data returned for another source>")
    end)
    local weather_of_learner = M.fetch_weather_data
    M.fetch_weather_data = tracker.wrap(function(c)
      weather_calls[#weather_calls + 1] = c
      return weather_of_learner(c)
    end)

    local other_city = "Oslo-" .. math.random(1000, 9999)
    local results
    elapsed, results = t.timed("fetch_all", M.fetch_all, other_city)

    t.near(elapsed, 4, "fetch_all should take as long as the slowest source (the weather, 4 s), " ..
                       "not the sum of all four")
    table.sort(calls, function(a, b) return (tonumber(a[1]) or 0) < (tonumber(b[1]) or 0) end)
    t.equal(calls, {{1, 1}, {2, 2}, {3, 3}},
            "fetch_all should call M.fetch_data(id, id) once for each of sources 1, 2 and 3")
    t.equal(weather_calls, {other_city},
            "fetch_all(city) should call M.fetch_weather_data(city) once, with the city it was given")
    t.expect(tracker.most == 4, "all four fetches should run at the same time, each in its own task",
             "4 running at once", string.format("at most %d at once", tracker.most))
    t.expect(tracker.running == 0, "fetch_all should wait for all four fetches to finish before returning",
             "none still running", string.format("%d still running", tracker.running))

    t.expect(type(results) == "table", "fetch_all should return a list of the four results",
             "a table", show(results))
    for i = 1, 3 do
      t.expect(results[i] == expected[i],
               string.format("fetch_all's result %d should be what M.fetch_data(%d, %d) returned", i, i, i),
               show(expected[i]), show(results[i]))
    end
    local w = results[4]
    t.expect(type(w) == "table" and w.source == "weather" and w.city == other_city,
             "fetch_all(city)'s result 4 should be the weather for that city",
             show({source = "weather", city = other_city}), show(w))
    t.expect(results[5] == nil, "fetch_all should return exactly four results", "nothing after result 4",
             show(results[5]))
  end,
}
