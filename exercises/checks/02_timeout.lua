-- Check for exercise 2: fetch_with_timeout returns in-time results at once,
-- gives up on slow fetches after exactly `seconds` (default 3) with a
-- TimeoutError, and cancels the slow fetch.
local asched = require("asched")

local function show(v)
  if type(v) == "table" and v.token then return (v.token:gsub("%-%d+%-%d+$", "")) end
  if type(v) == "table" and v.name then return tostring(v.name) .. ": " .. tostring(v.message) end
  if type(v) == "string" then return string.format("%q", v) end
  return tostring(v)
end

return {
  title = "Give up on a slow source after 3 seconds",
  hints = {
    "Calling M.fetch_data directly waits as long as the fetch takes. You need something " ..
    "that waits for the fetch *or* for the time limit, whichever comes first, and that " ..
    "cancels the fetch when the time limit wins.",
    "asched.wait_for(fn, seconds) runs fn under a deadline: it returns fn's results when " ..
    "fn finishes in time, and otherwise cancels it and raises a TimeoutError for you. " ..
    "Remember the default: seconds = seconds or 3.",
    "seconds = seconds or 3\n" ..
    "return asched.wait_for(function() return M.fetch_data(source_id, delay) end, seconds)",
  },
  check = function(M, t)
    t.expect(type(M.fetch_with_timeout) == "function", "M.fetch_with_timeout should be a function",
             "a function", type(M.fetch_with_timeout))

    -- A fetch that records when it started, finished or was cancelled, and
    -- returns a unique token.
    local log = {}
    M.fetch_data = function(source_id, delay)
      local entry = {source = source_id, delay = delay, token = t.token("<what M.fetch_data returned>")}
      log[#log + 1] = entry
      local ok, err = pcall(asched.sleep, delay)
      if not ok then
        if type(err) == "table" and err.name == "CancelledError" then entry.cancelled_at = t.now() end
        error(err, 0)
      end
      entry.finished_at = t.now()
      return entry.token
    end

    local function calls_fetch(source_id, delay)
      local entry = log[#log]
      t.expect(#log == 1 and entry.source == source_id and entry.delay == delay,
               string.format("fetch_with_timeout(%s, %s) should call M.fetch_data(%s, %s) once",
                             source_id, delay, source_id, delay),
               string.format("one call M.fetch_data(%s, %s)", source_id, delay),
               #log == 0 and "no call" or string.format("%d call(s), the last M.fetch_data(%s, %s)",
                                                        #log, show(entry.source), show(entry.delay)))
      return entry
    end

    -- The fetch is in time: its result, as soon as it arrives.
    local function in_time(source_id, delay, seconds, what)
      log = {}
      local elapsed, result = t.timed("fetch_with_timeout", M.fetch_with_timeout, source_id, delay, seconds)
      local entry = calls_fetch(source_id, delay)
      t.near(elapsed, delay, what .. ", fetch_with_timeout should return as soon as the " .. delay ..
                             " s fetch is done (not wait for the whole time limit)")
      t.expect(result == entry.token, "fetch_with_timeout should return what M.fetch_data returned",
               show(entry.token), show(result))
    end

    -- The fetch is too slow: TimeoutError after `limit`, fetch cancelled.
    local function too_slow(source_id, delay, seconds, limit, what)
      log = {}
      local start = t.now()
      local ok, err = pcall(M.fetch_with_timeout, source_id, delay, seconds)
      local elapsed = t.now() - start
      local entry = calls_fetch(source_id, delay)
      t.near(elapsed, limit, string.format("%s, fetch_with_timeout should give up on a %s s fetch after %s seconds",
                                           what, delay, limit))
      t.expect(not ok, string.format("%s, fetch_with_timeout should raise a TimeoutError when the fetch " ..
                                     "takes longer than %s seconds", what, limit),
               "a TimeoutError", "no error, it returned " .. show(err))
      t.expect(type(err) == "table" and err.name == "TimeoutError",
               'the error should be a TimeoutError (err.name == "TimeoutError")', "a TimeoutError", show(err))
      asched.sleep(1)   -- let a cancellation that was only requested arrive
      t.expect(entry.cancelled_at ~= nil and entry.finished_at == nil,
               "when it gives up, fetch_with_timeout should cancel the slow fetch (not leave it running)",
               "the fetch cancelled", entry.finished_at and "it finished" or "it is still running")
      t.near(entry.cancelled_at - start, limit, "the slow fetch should be cancelled as soon as the time is up")
    end

    in_time(1, 1, nil, "with the default limit (3 s)")
    too_slow(2, 10, nil, 3, "with the default limit (3 s)")
    too_slow(3, 5, 1.5, 1.5, "with seconds = 1.5")
    in_time(4, 3.5, 5, "with seconds = 5")
  end,
}
