-- Check for exercise 08: first response wins, the losers are cancelled.

-- Instrumented mirrors: mirror i sleeps delays[i] and returns a token. Each
-- records when it started and how it ended: "finished", or the name of the
-- error that stopped it (a CancelledError when it is cancelled).
local function make_mirrors(t, delays)
  local m = {fns = {}, tokens = {}, started = {}, ended = {}, how = {}}
  for i, delay in ipairs(delays) do
    m.tokens[i] = t.token("mirror-" .. i)
    m.fns[i] = function()
      m.started[i] = t.now()
      local ok, err = pcall(asched.sleep, delay)
      m.ended[i] = t.now()
      if not ok then
        m.how[i] = type(err) == "table" and err.name or tostring(err)
        error(err, 0)
      end
      m.how[i] = "finished"
      return m.tokens[i]
    end
  end
  return m
end

local function which(m, value)
  for i, token in ipairs(m.tokens) do
    if value == token then return "the result of mirror " .. i end
  end
  return tostring(value)
end

local function check_race(M, t, delays)
  local winner, fastest = 1, delays[1]
  for i, d in ipairs(delays) do if d < fastest then winner, fastest = i, d end end
  local label = string.format("%d mirrors taking %s s", #delays, table.concat(delays, ", "))
  local m = make_mirrors(t, delays)
  local start = t.now()
  local elapsed, result = t.timed("first_response (" .. label .. ")", M.first_response, m.fns)

  t.expect(result == m.tokens[winner],
           string.format("%s: first_response returns the result of the first mirror to answer", label),
           string.format("the result of mirror %d (%g s)", winner, fastest), which(m, result))
  for i in ipairs(delays) do
    t.expect(m.started[i] == start, string.format("%s: every mirror starts at once", label),
             string.format("mirror %d started at 0.00 s", i),
             m.started[i] and string.format("it started at %.2f s", m.started[i] - start) or "it never started")
  end
  t.near(elapsed, fastest, string.format("%s: first_response returns as soon as the fastest mirror answers", label))

  -- The losers must be cancelled: give them a turn (no time passes) to see it.
  for _ = 1, 3 do asched.sleep(0) end
  for i, d in ipairs(delays) do
    if i ~= winner then
      t.expect(m.how[i] ~= nil, string.format("%s: the losing mirrors are cancelled when the winner answers", label),
               string.format("mirror %d (%g s) cancelled", i, d), "still running at that moment")
      t.expect(m.how[i] == "CancelledError",
               string.format("%s: the losing mirrors are cancelled when the winner answers", label),
               string.format("mirror %d (%g s) ended by a CancelledError", i, d), string.format("it ended with %s", m.how[i]))
      t.near(m.ended[i] - start, fastest,
             string.format("%s: mirror %d is cancelled at once, when the winner answers", label, i))
    end
  end
  t.equal(m.how[winner], "finished", string.format("%s: the winner (mirror %d) is left to finish", label, winner))
end

return {
  title = "Ask every mirror at once, keep the first answer, cancel the rest",
  hints = {
    "Spawn a task per mirror: `tasks[i] = asched.spawn(mirrors[i])`. Then wait for the first one to finish: `local done = asched.wait(tasks, {return_when = \"first_completed\"})` (or take the first task out of `asched.as_completed(tasks)`).",
    "`done[1]` is a finished task; `done[1]:result()` gives its result. The other tasks are still running: nothing stops them unless you call `task:cancel()` on each.",
    "After the wait: `for _, task in ipairs(tasks) do task:cancel() end` (cancelling a task that is already done does nothing), then `return done[1]:result()`.",
  },
  check = function(M, t)
    t.expect(type(M.first_response) == "function", "M.first_response is a function", "a function", type(M.first_response))
    check_race(M, t, {3, 2, 0.5, 4, 1.5})
    check_race(M, t, {2, 1})
    check_race(M, t, {0.75})
  end,
}
