-- Check for exercise 5: fetch_all_safely fetches concurrently, never raises,
-- and returns the successes and the failures ({source =, error =}, the error
-- value unchanged), both in the order of the sources.
local asched = require("asched")

local function show(v)
  if type(v) == "table" and v.token then return (v.token:gsub("%-%d+%-%d+$", "")) end
  if type(v) == "table" and v.name then return string.format("{name = %q, message = %q}", tostring(v.name), tostring(v.message)) end
  if type(v) == "table" and v.source ~= nil then
    return string.format("{source = %s, error = %s}", show(v.source), show(v.error))
  end
  if type(v) == "table" then return "a table" end
  if type(v) == "string" then return string.format("%q", v) end
  return tostring(v)
end

local TIMEOUT_MT = {__tostring = function(e) return e.name .. ": " .. e.message end}

local function list(items)
  local parts = {}
  for i, v in ipairs(items) do parts[i] = tostring(v) end
  if #parts == 0 then return "none" end
  return table.concat(parts, ", ")
end

return {
  title = "Collect successes and failures without raising",
  hints = {
    "An error in one fetch must not stop fetch_all_safely, nor the other fetches: each " ..
    "fetch needs to run in its own task, and its error has to be caught and kept as a " ..
    "value. Errors are not always strings (asched's own errors are tables), so don't " ..
    "tell results and errors apart by their type.",
    "pcall(M.fetch_data, source.id, source.delay) returns true and the result, or false " ..
    "and the error value exactly as raised. Do that inside each function you hand to " ..
    "asched.gather, and return both (for example {ok = ok, value = value}); gather keeps " ..
    "the order of the list.",
    "local work = {}\n" ..
    "for i, source in ipairs(sources) do\n" ..
    "  work[i] = function()\n" ..
    "    local ok, value = pcall(M.fetch_data, source.id, source.delay)\n" ..
    "    return {ok = ok, value = value}\n" ..
    "  end\n" ..
    "end\n" ..
    "local outcomes = asched.gather(work)\n" ..
    "-- then for i = 1, outcomes.n: put outcomes[i].value in successes, or\n" ..
    "-- {source = sources[i].id, error = outcomes[i].value} in failures",
  },
  check = function(M, t)
    t.expect(type(M.fetch_all_safely) == "function", "M.fetch_all_safely should be a function",
             "a function", type(M.fetch_all_safely))

    -- specs: {delay = s, fails = "string" | "table" | nil} for sources 1, 2, ...
    local function run(specs)
      local n = #specs
      local sources, outcome, fetched = {}, {}, {}
      for i, spec in ipairs(specs) do
        sources[i] = {id = i, delay = spec.delay}
        local tag = math.random(1000, 9999)   -- so that a made-up error cannot match
        if spec.fails == "string" then
          outcome[i] = {error = string.format("source %d is not responding (error %d)", i, tag)}
        elseif spec.fails == "table" then
          -- shaped like asched's own errors: a table with name and message
          outcome[i] = {error = setmetatable({name = "TimeoutError",
                                              message = string.format("source %d timed out (error %d)", i, tag)},
                                             TIMEOUT_MT)}
        else
          outcome[i] = {result = t.token(string.format("<what M.fetch_data returned for source %d>", i))}
        end
      end
      local tracker = t.tracker()
      M.fetch_data = tracker.wrap(function(source_id, delay)
        fetched[#fetched + 1] = {source_id, delay}
        asched.sleep(delay)
        local o = outcome[source_id]
        if not o then return t.token("<a result for a source not in the list>") end
        if o.error then error(o.error, 0) end
        return o.result
      end)

      local ok_ids, failed_ids, slowest = {}, {}, 0
      for i, spec in ipairs(specs) do
        if spec.fails then failed_ids[#failed_ids + 1] = i else ok_ids[#ok_ids + 1] = i end
        slowest = math.max(slowest, spec.delay)
      end
      local what = string.format("fetch_all_safely (sources %s fail)", list(failed_ids))

      local elapsed, successes, failures = t.timed(what, M.fetch_all_safely, sources)

      table.sort(fetched, function(a, b) return (tonumber(a[1]) or 0) < (tonumber(b[1]) or 0) end)
      local wanted_calls = {}
      for i, spec in ipairs(specs) do wanted_calls[i] = {i, spec.delay} end
      t.equal(fetched, wanted_calls, what .. " should call M.fetch_data(source.id, source.delay) once per source")
      t.near(elapsed, slowest, what .. " should take as long as the slowest source, not the sum: " ..
                               "fetch them all at the same time")
      t.expect(tracker.most == n, what .. " should fetch all the sources at the same time",
               string.format("%d at once", n), string.format("at most %d at once", tracker.most))

      t.expect(type(successes) == "table" and type(failures) == "table",
               what .. " should return two lists: successes, failures (an empty list when there are none)",
               "two tables", string.format("%s, %s", type(successes), type(failures)))

      t.expect(#successes == #ok_ids, what .. ": successes should hold one result per source that worked " ..
                                      "(sources " .. list(ok_ids) .. ")",
               string.format("%d results", #ok_ids), string.format("%d", #successes))
      for k, id in ipairs(ok_ids) do
        t.expect(successes[k] == outcome[id].result,
                 string.format("%s: successes[%d] should be the result of source %d (in the order of sources)",
                               what, k, id),
                 show(outcome[id].result), show(successes[k]))
      end

      t.expect(#failures == #failed_ids, what .. ": failures should hold one entry per source that failed " ..
                                         "(sources " .. list(failed_ids) .. ")",
               string.format("%d entries", #failed_ids), string.format("%d", #failures))
      for k, id in ipairs(failed_ids) do
        local f = failures[k]
        t.expect(type(f) == "table" and f.source == id,
                 string.format("%s: failures[%d] should be {source = %d, error = ...} (in the order of sources)",
                               what, k, id),
                 string.format("{source = %d, ...}", id), show(f))
        t.expect(rawequal(f.error, outcome[id].error) or (type(f.error) == "string" and f.error == outcome[id].error),
                 string.format("%s: failures[%d].error should be the error value source %d raised, unchanged " ..
                               "(not turned into text)", what, k, id),
                 show(outcome[id].error), show(f.error))
      end
    end

    run({{delay = 2}, {delay = 1, fails = "string"}, {delay = 3}, {delay = 1.5, fails = "table"}, {delay = 2.5}})
    run({{delay = 1, fails = "table"}, {delay = 2, fails = "string"}})
    run({{delay = 0.5}, {delay = 1.5}})
  end,
}
