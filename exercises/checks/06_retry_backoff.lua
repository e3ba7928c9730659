-- Check for exercise 06: retry with exponential backoff.

local FETCH_TIME = 0.1   -- each instrumented fetch takes this long

-- A scripted fetch: outcomes[n] is what call n does: "ok" returns the two
-- tokens in `values`, anything else is raised as the error of that call.
local function scripted(t, outcomes, values)
  local calls = {starts = {}, ends = {}}
  function calls.fetch(...)
    local n = #calls.starts + 1
    calls.starts[n] = t.now()
    asched.sleep(FETCH_TIME)
    calls.ends[n] = t.now()
    local outcome = outcomes[n]
    if outcome == nil then outcome = outcomes[#outcomes] end
    if outcome == "ok" then return values[1], values[2] end
    error(outcome, 0)
  end
  return calls
end

-- A unique value that prints as `text` in a failure message.
local function named(t, text)
  return setmetatable(t.token("value"), {__tostring = function() return text end})
end

-- The pause before each call after the first must be base * 2^(n-1).
local function check_waits(t, calls, base, label)
  for k = 2, #calls.starts do
    local wanted = base * 2 ^ (k - 2)
    t.near(calls.starts[k] - calls.ends[k - 1], wanted,
           string.format("%s: after failure %d, wait %g x 2^%d = %g s before calling fetch again",
                         label, k - 1, base, k - 2, wanted))
  end
end

return {
  title = "Retry a flaky fetch, waiting twice as long after each failure",
  hints = {
    "Loop over the attempts, n = 1 .. attempts. Call fetch() through pcall so that an error does not escape: `local ok, result = pcall(fetch)`.",
    "After failure n, if n < attempts, `asched.sleep(base * 2 ^ (n - 1))` and go round again. If it was the last attempt, do not sleep: re-raise.",
    "To re-raise an error value unchanged use `error(err, 0)`: level 0 adds no \"file:line:\" prefix, and a table error stays the very same table. To return every value of a success: `local r = table.pack(pcall(fetch)); if r[1] then return table.unpack(r, 2, r.n) end`.",
  },
  check = function(M, t)
    t.expect(type(M.fetch_with_backoff) == "function", "M.fetch_with_backoff is a function",
             "a function", type(M.fetch_with_backoff))

    -- 1. The first call succeeds: no retry, no wait, both values returned.
    local a, b = named(t, "fetch's first value"), named(t, "fetch's second value")
    local calls = scripted(t, {"ok"}, {a, b})
    local elapsed, got_a, got_b = t.timed("fetch_with_backoff (fetch succeeds at once)",
                                          M.fetch_with_backoff, calls.fetch, 4, 0.5)
    t.equal(#calls.starts, 1, "when the first call succeeds, fetch is called once")
    t.expect(got_a == a, "fetch_with_backoff returns what fetch returned",
             tostring(a), tostring(got_a))
    t.expect(got_b == b, "fetch_with_backoff returns every value fetch returned (fetch returned two)",
             tostring(b), tostring(got_b))
    t.near(elapsed, FETCH_TIME, "a first-time success takes just the fetch's own time (no waiting)")

    -- 2. Two failures, then a success: waits 0.5 s, then 1 s.
    local result = named(t, "the result of fetch call 3")
    calls = scripted(t, {named(t, "the error of fetch call 1"), named(t, "the error of fetch call 2"), "ok"}, {result})
    local got
    elapsed, got = t.timed("fetch_with_backoff (fails twice, then succeeds)",
                           M.fetch_with_backoff, calls.fetch, 4, 0.5)
    t.equal(#calls.starts, 3, "fetch fails twice then succeeds: fetch is called 3 times")
    check_waits(t, calls, 0.5, "base 0.5")
    t.expect(got == result, "after two failures, fetch_with_backoff returns the third call's result",
             tostring(result), tostring(got))
    t.near(elapsed, 3 * FETCH_TIME + 0.5 + 1, "fails twice then succeeds: 3 fetches of 0.1 s + waits 0.5 + 1")

    -- 3. Every call fails, 3 attempts, base 1: waits 1 s and 2 s, then raises
    --    the last error, the very same table.
    local errors = {}
    for n = 1, 3 do errors[n] = named(t, "the error of fetch call " .. n) end
    calls = scripted(t, errors, {})
    local err
    err, elapsed = t.raises("fetch_with_backoff raises when every attempt fails",
                            M.fetch_with_backoff, calls.fetch, 3, 1)
    t.equal(#calls.starts, 3, "with attempts = 3, fetch is called exactly 3 times")
    check_waits(t, calls, 1, "base 1")
    for n = 1, 2 do
      t.expect(err ~= errors[n], "the error raised is the LAST call's error, not an earlier one",
               "the error of call 3", "the error of call " .. n)
    end
    t.expect(err == errors[3], "the last error is raised unchanged (the same table fetch raised)",
             "the very table fetch raised: " .. tostring(errors[3]), tostring(err))
    t.near(elapsed, 3 * FETCH_TIME + 1 + 2,
           "3 failed calls with base 1: 3 fetches of 0.1 s + waits 1 + 2 (no wait after the last failure)")

    -- 4. Defaults: 4 attempts, base 0.5; string errors come back unchanged.
    local tag = t.token("failure").token
    local messages = {}
    for n = 1, 5 do messages[n] = string.format("fetch failed on call %d (%s)", n, tag) end
    calls = scripted(t, messages, {})
    err, elapsed = t.raises("fetch_with_backoff(fetch) raises when every attempt fails",
                            M.fetch_with_backoff, calls.fetch)
    t.equal(#calls.starts, 4, "without `attempts`, fetch is called 4 times (the default)")
    check_waits(t, calls, 0.5, "default base 0.5")
    t.equal(err, messages[4], "the last error message is raised unchanged (use error(err, 0): no \"file:line:\" added)")
    t.near(elapsed, 4 * FETCH_TIME + 0.5 + 1 + 2, "defaults: 4 fetches of 0.1 s + waits 0.5 + 1 + 2")
  end,
}
