-- Check for exercise 4: fetch_with_progress fetches concurrently, calls
-- report(done, total, percent) at the moment each fetch completes, and
-- returns the results in completion order.
local asched = require("asched")

local function show(v)
  if type(v) == "table" and v.token then return (v.token:gsub("%-%d+%-%d+$", "")) end
  if type(v) == "table" and v.source then return string.format("{source = %s, data = %q}", v.source, tostring(v.data)) end
  if type(v) == "string" then return string.format("%q", v) end
  if math.type(v) == "float" then return string.format("%.6g", v) end
  return tostring(v)
end

return {
  title = "Report progress as a percentage while fetches complete",
  hints = {
    "If you wait for all the fetches together (gather) you only learn about them at the " ..
    "end. You need to handle each fetch the moment it finishes, whichever it is.",
    "Start a task per source with asched.spawn(M.fetch_data, source.id, source.delay), " ..
    "then loop over asched.as_completed(tasks): each step gives you the next task to " ..
    "finish; task:result() is its result.",
    "local tasks = {}\n" ..
    "for i, source in ipairs(sources) do tasks[i] = asched.spawn(M.fetch_data, source.id, source.delay) end\n" ..
    "local results = {}\n" ..
    "for task in asched.as_completed(tasks) do\n" ..
    "  results[#results + 1] = task:result()\n" ..
    "  report(#results, #sources, #results * 100 / #sources)\n" ..
    "end\n" ..
    "return results",
  },
  check = function(M, t)
    t.expect(type(M.fetch_with_progress) == "function", "M.fetch_with_progress should be a function",
             "a function", type(M.fetch_with_progress))

    -- delays: in seconds, one per source; ids are 1, 2, ...
    local function run(delays)
      local n = #delays
      local sources, tokens, fetched = {}, {}, {}
      for i, d in ipairs(delays) do
        sources[i] = {id = i, delay = d}
        tokens[i] = t.token(string.format("<what M.fetch_data returned for source %d>", i))
      end
      local tracker = t.tracker()
      M.fetch_data = tracker.wrap(function(source_id, delay)
        fetched[#fetched + 1] = {source_id, delay}
        asched.sleep(delay)
        return tokens[source_id] or t.token("<a result for a source not in the list>")
      end)
      local start = t.now()
      local reports = {}
      local function report(done, total, percent)
        reports[#reports + 1] = {done = done, total = total, percent = percent, at = t.now() - start}
      end

      local what = string.format("fetch_with_progress with %d sources", n)
      local elapsed, results = t.timed("fetch_with_progress", M.fetch_with_progress, sources, report)

      -- The sources in the order they complete, and when.
      local order = {}
      for i = 1, n do order[i] = i end
      table.sort(order, function(a, b) return delays[a] < delays[b] end)

      table.sort(fetched, function(a, b) return (tonumber(a[1]) or 0) < (tonumber(b[1]) or 0) end)
      local wanted_calls = {}
      for i, d in ipairs(delays) do wanted_calls[i] = {i, d} end
      t.equal(fetched, wanted_calls, what .. " should call M.fetch_data(source.id, source.delay) once per source")
      t.near(elapsed, delays[order[n]], what .. " should take as long as the slowest source, not the sum")
      t.expect(tracker.most == n, what .. " should fetch all of them at the same time",
               string.format("%d at once", n), string.format("at most %d at once", tracker.most))

      t.expect(#reports == n, what .. " should call report once each time a fetch completes",
               string.format("%d calls", n), string.format("%d calls", #reports))
      for k = 1, n do
        local r = reports[k]
        local when = delays[order[k]]
        t.near(r.at, when, string.format("report %d should come the moment fetch number %d completes " ..
                                         "(at %g s), not later", k, k, when))
        t.expect(r.done == k and r.total == n,
                 string.format("report %d should be report(%d, %d, percent): %d of %d fetches done", k, k, n, k, n),
                 string.format("done = %d, total = %d", k, n),
                 string.format("done = %s, total = %s", show(r.done), show(r.total)))
        t.expect(type(r.percent) == "number" and math.abs(r.percent - k * 100 / n) < 1e-9,
                 string.format("report %d's percent should be done * 100 / total", k),
                 show(k * 100 / n), show(r.percent))
      end

      t.expect(type(results) == "table", what .. " should return the list of results", "a table", show(results))
      for k = 1, n do
        t.expect(results[k] == tokens[order[k]],
                 string.format("result %d should be the result of the fetch that completed %s " ..
                               "(results in completion order)", k, k == 1 and "first" or "number " .. k),
                 show(tokens[order[k]]), show(results[k]))
      end
      t.expect(results[n + 1] == nil, what .. " should return one result per source",
               string.format("%d results", n), "more")
    end

    run({3, 1, 5, 2, 4})
    run({2, 0.5})
  end,
}
