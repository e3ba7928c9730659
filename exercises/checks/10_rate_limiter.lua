-- Check for exercise 10: a rate limiter.

local SLACK = 0.5   -- how far above the best schedule a solution may end

-- Instrumented calls: call i sleeps durations[i] and returns a token, and
-- records when it started.
local function make_calls(t, durations)
  local c = {fns = {}, tokens = {}, starts = {}, count = {}}
  c.tracker = t.tracker()
  for i, d in ipairs(durations) do
    c.tokens[i] = t.token("call-" .. i)
    c.count[i] = 0
    c.fns[i] = c.tracker.wrap(function()
      c.count[i] = c.count[i] + 1
      c.starts[#c.starts + 1] = t.now()
      asched.sleep(d)
      return c.tokens[i]
    end)
  end
  return c
end

local function check_limit(M, t, durations, per_second)
  local n = #durations
  local label = string.format("%d calls of %s s, %d per second", n, table.concat(durations, "/"), per_second)
  local c = make_calls(t, durations)
  local start = t.now()
  local elapsed, results = t.timed("rate_limited (" .. label .. ")", M.rate_limited, c.fns, per_second)

  for i = 1, n do
    t.expect(c.count[i] == 1, string.format("%s: every call is called exactly once", label),
             string.format("call %d called once", i), string.format("%d times", c.count[i]))
  end

  -- No window of one second holds more than per_second starts.
  local starts = {}
  for i, s in ipairs(c.starts) do starts[i] = s - start end
  table.sort(starts)
  for i = 1, #starts do
    local inside = 0
    for j = i, #starts do
      if starts[j] < starts[i] + 1 - 1e-6 then inside = inside + 1 end
    end
    t.expect(inside <= per_second,
             string.format("%s: at most %d calls start in any one second", label, per_second),
             string.format("at most %d starts from %.2f s to %.2f s", per_second, starts[i], starts[i] + 1),
             string.format("%d starts", inside))
  end

  -- The best schedule: call i starts at floor((i-1) / per_second) seconds.
  local best, sequential = 0, 0
  for i, d in ipairs(durations) do
    best = math.max(best, (i - 1) // per_second + d)
    sequential = sequential + d
  end
  t.expect(elapsed >= best - 1e-6 and elapsed <= best + SLACK,
           string.format("%s: calls overlap and start as soon as the limit allows: the best schedule takes %.2f s (one at a time: %.2f s)",
                         label, best, sequential),
           string.format("%.2f s to %.2f s", best, best + SLACK), string.format("%.2f s", elapsed))

  t.expect(type(results) == "table", label .. ": rate_limited returns a table (the list of results)", "a table", type(results))
  for i = 1, n do
    local got = results[i]
    for k = 1, n do if got == c.tokens[k] then got = "the result of call " .. k end end
    t.expect(results[i] == c.tokens[i], string.format("%s: results are in the order of `calls`, not the order they finished in", label),
             string.format("result %d = the result of call %d", i, i), tostring(got))
  end
  t.expect(#results == n, string.format("%s: the list has one result per call", label), tostring(n), tostring(#results))
end

return {
  title = "Start at most N calls per second, and let them overlap",
  hints = {
    "Starting a call means spawning a task for it: `tasks[i] = asched.spawn(calls[i])`. Do not wait for it there. Collect the results at the end with asched.gather(tasks), which keeps the order of the list.",
    "Start them in groups: spawn per_second calls, then `asched.sleep(1)`, then the next per_second, and so on -- `if i % per_second == 0 then asched.sleep(1) end` after each spawn. A semaphore of per_second held while each call RUNS limits how many run at once, which is not the same thing: here slow calls must not hold up new starts.",
    "`local r = asched.gather(tasks)` returns r[1] .. r[r.n] in the order of `tasks`; copy them into a plain list: `for i = 1, r.n do list[i] = r[i] end`, and return it. Do not sleep after the last group: nothing is left to start.",
  },
  check = function(M, t)
    t.expect(type(M.rate_limited) == "function", "M.rate_limited is a function", "a function", type(M.rate_limited))
    check_limit(M, t, {2, 2, 2, 2, 2, 2, 2}, 3)
    check_limit(M, t, {1.5, 3, 0.5, 2, 1}, 2)
    check_limit(M, t, {1, 1, 1}, 5)
  end,
}
