-- support.lua -- what the load specs share (not a spec itself): the sizes of the
-- default and the long mode, counting outcomes, and the churn driver that keeps
-- a bounded crowd of tasks running on one primitive while it cancels them at
-- random, then checks that each task ended the way its cancellation says.
local assert = require("luassert")

local load = {}

-- ASCHED_LONG=1 (any value but "" or "0") selects the full sizes of issue 19.
local long = os.getenv("ASCHED_LONG")
load.LONG = long ~= nil and long ~= "" and long ~= "0"

-- The seed of a spec's math.random: `default`, or ASCHED_LOAD_SEED=N to explore
-- other runs (the same N gives the same run again).
function load.seed(default)
  return tonumber(os.getenv("ASCHED_LOAD_SEED")) or default
end

-- `default` in the default run, `full` under ASCHED_LONG=1.
function load.size(default, full)
  return load.LONG and full or default
end

-- A table of counts: missing keys read as 0.
function load.tally()
  return setmetatable({}, {__index = function() return 0 end})
end

-- The sum of a tally's counts.
function load.sum(t)
  local n = 0
  for _, v in pairs(t) do n = n + v end
  return n
end

-- Violations of a rule, counted, with the first few kept word for word so a
-- failure says what went wrong without printing a hundred thousand lines.
function load.violations()
  local v = {count = 0, first = {}}
  function v.add(fmt, ...)
    v.count = v.count + 1
    if #v.first < 10 then v.first[#v.first + 1] = string.format(fmt, ...) end
  end
  function v.assert_none(what)
    assert(v.count == 0, string.format("%s: %d violations, first:\n  %s", what or "rules broken",
                                       v.count, table.concat(v.first, "\n  ")))
  end
  return v
end

-- The name of an asched error object, or the value itself as a string.
function load.error_name(err)
  if type(err) == "table" and err.name then return err.name end
  return tostring(err)
end

-- How a finished task ended: "done", "cancelled" or "failed:<error name>", and
-- the error (retrieved, so the end of the run does not report it).
function load.outcome(t)
  if t:cancelled() then return "cancelled" end
  local ok, err = pcall(t.result, t)
  if ok then return "done" end
  return "failed:" .. load.error_name(err), err
end

-- Removes the finished tasks from the list `tasks` (order not kept), calling
-- on_done(task) for each.
function load.prune(tasks, on_done)
  local i = 1
  while i <= #tasks do
    local t = tasks[i]
    if t:done() then
      on_done(t)
      tasks[i] = tasks[#tasks]
      tasks[#tasks] = nil
    else
      i = i + 1
    end
  end
end

-- A <close>-able value that calls fn(err) when its scope ends, however it ends.
function load.on_exit(fn)
  return setmetatable({}, {__close = function(_, err) fn(err) end})
end

-- Runs `opts.n` tasks (or as many as `opts.more()` asks for, checked before each
-- spawn), each `opts.body(i)` spawned in order, under a driver task
-- (the caller) that works in steps of `opts.tick` loop seconds times 0, 1 or 2:
--
--   * it spawns up to `opts.batch` new tasks a step, keeping at most `opts.width`
--     unfinished at once;
--   * it calls `opts.step(live, r)` (the primitive's own moves: set an event, reset
--     a barrier...), with `live` the list of unfinished tasks and `r` the result
--     below (`r.cancel(task)` cancels one the way the driver does);
--   * it cancels up to `opts.cancels` tasks picked at random among the unfinished
--     ones (new ones that never ran included), and counts each request under the
--     phase the task reported in `phase[task]` (a table the body writes:
--     "starting" when it has not run yet), and calls `opts.on_cancel(task, phase)`
--     for each request that cancel() accepted; and for each {phase, rate} of
--     `opts.targets`, with probability `rate`, cancels one task in that phase
--     (phases that random picks would seldom hit);
--   * it classifies every task that finished with load.outcome, and calls
--     `opts.finished(task, outcome, err)`.
--
-- Once every task is spawned it stops cancelling and gives the rest `opts.drain`
-- seconds to finish; then `opts.settle(live, r)` may unblock those that rightly wait
-- forever (and check that they do rightly), and they get `opts.drain` seconds more.
--
-- The rule checked for every task: it ended cancelled if and only if the driver's
-- cancel() returned true for it (the bodies never swallow a cancellation), and
-- `opts.expect(outcome)` holds for its outcome (default: only "done").
--
-- Returns r = {outcomes = tally, cancelled_in = tally by phase, requested = n,
-- spawned = n, stuck = tasks left after the drain, violations =
-- load.violations(), requested_in = {task -> phase} for the unfinished tasks it
-- cancelled, cancel = the function above}.
function load.churn(opts)
  local n, width, batch = opts.n, opts.width or 1000, opts.batch or 50
  local tick, phase = opts.tick or 0.01, opts.phase
  local expect = opts.expect or function(outcome) return outcome == "done" end
  local r = {outcomes = load.tally(), cancelled_in = load.tally(), requested = 0, stuck = 0, spawned = 0,
             violations = load.violations(), requested_in = {}}
  local live, requested, spawned = {}, r.requested_in, 0

  local function finished(t)
    local outcome, err = load.outcome(t)
    r.outcomes[outcome] = r.outcomes[outcome] + 1
    if (requested[t] ~= nil) ~= (outcome == "cancelled") then
      r.violations.add("%s ended %s; the driver's cancel() %s for it", tostring(t.name), outcome,
                       requested[t] and ("returned true, in phase " .. requested[t]) or "never returned true")
    elseif outcome ~= "cancelled" and not expect(outcome) then
      r.violations.add("%s ended %s: %s", tostring(t.name), outcome, tostring(err))
    end
    if opts.finished then opts.finished(t, outcome, err) end
    requested[t], phase[t] = nil, nil
  end
  local function prune() load.prune(live, finished) end

  local function cancel(t, why)
    local at = why or phase[t] or "starting"
    if t:cancel("load") and not requested[t] then   -- counted once per task
      requested[t] = at
      r.requested = r.requested + 1
      r.cancelled_in[at] = r.cancelled_in[at] + 1
      if opts.on_cancel then opts.on_cancel(t, at) end
    end
  end
  r.cancel = cancel

  local function more()
    if opts.more then return opts.more() end
    return spawned < n
  end
  while more() do
    prune()
    for _ = 1, math.min(batch, width - #live, n - spawned) do
      if not more() then break end
      spawned = spawned + 1
      r.spawned = spawned
      local t = asched.spawn(opts.body, spawned)
      phase[t] = "starting"
      live[#live + 1] = t
    end
    if opts.step then opts.step(live, r) end
    for _ = 1, math.random(0, opts.cancels or 4) do
      if #live > 0 then cancel(live[math.random(#live)]) end
    end
    for _, target in ipairs(opts.targets or {}) do
      if math.random() < target[2] then
        local in_phase = {}
        for _, t in ipairs(live) do
          if phase[t] == target[1] and not requested[t] then in_phase[#in_phase + 1] = t end
        end
        if #in_phase > 0 then cancel(in_phase[math.random(#in_phase)]) end
      end
    end
    asched.sleep(tick * math.random(0, 2))
  end

  local drain = opts.drain or 1000
  local function wait_live()
    if #live > 0 then asched.wait(live, {timeout = drain}) end
    prune()
  end
  wait_live()
  if #live > 0 and opts.settle then
    opts.settle(live, r)
    wait_live()
  end
  r.stuck = #live
  for _, t in ipairs(live) do
    r.violations.add("%s still waits after the drain, in phase %s", tostring(t.name), tostring(phase[t]))
    cancel(t, "stuck")
  end
  wait_live()
  return r
end

-- For runs made of several churns (a fresh queue or barrier each): a total to
-- add each churn's result to, with load.add_churn, then check with
-- load.assert_churn as one.
function load.churn_total()
  return {outcomes = load.tally(), cancelled_in = load.tally(), requested = 0, stuck = 0, spawned = 0,
          violations = load.violations()}
end

function load.add_churn(total, r)
  for k, n in pairs(r.outcomes) do total.outcomes[k] = total.outcomes[k] + n end
  for k, n in pairs(r.cancelled_in) do total.cancelled_in[k] = total.cancelled_in[k] + n end
  total.requested = total.requested + r.requested
  total.stuck = total.stuck + r.stuck
  total.spawned = total.spawned + r.spawned
  total.violations.count = total.violations.count + r.violations.count
  for _, line in ipairs(r.violations.first) do
    if #total.violations.first < 10 then total.violations.first[#total.violations.first + 1] = line end
  end
end

-- Asserts the common conclusions of a churn: `n` tasks, each counted once;
-- some cancellations in each of `phases` (so the run did exercise them).
function load.assert_churn(r, n, phases)
  r.violations.assert_none("per-task outcomes")
  assert.equals(0, r.stuck, "tasks stuck after the drain")
  assert.equals(n, load.sum(r.outcomes), "outcomes counted")
  assert.equals(r.requested, r.outcomes.cancelled, "cancelled tasks = cancellations requested")
  for _, p in ipairs(phases or {}) do
    assert(r.cancelled_in[p] > 0, "no task was cancelled while " .. p)
  end
end

-- The Lua heap in KB after two full collections.
function load.heap_kb()
  collectgarbage()
  collectgarbage()
  return collectgarbage("count")
end

-- Asserts that the Lua heap is back within `slack_kb` (default 1 MB) of
-- `before_kb` (a load.heap_kb() reading): a task, a waiter or a registry
-- reference kept per task would leave megabytes after a run of this size, which
-- valgrind and LeakSanitizer cannot see (lua_close frees them at the end).
function load.assert_heap_back(before_kb, slack_kb)
  local after = load.heap_kb()
  assert(after - before_kb < (slack_kb or 1024),
         string.format("the Lua heap grew from %.0f KB to %.0f KB over the run", before_kb, after))
  return after - before_kb
end

-- One line on stdout saying what a run did: its outcomes, where its
-- cancellations landed, and `extra` counts (a table of name = number).
function load.report(what, r, extra)
  local function line(t)
    local keys, parts = {}, {}
    for k in pairs(t) do keys[#keys + 1] = k end
    table.sort(keys)
    for _, k in ipairs(keys) do parts[#parts + 1] = k .. " " .. tostring(t[k]) end
    return table.concat(parts, ", ")
  end
  io.stdout:write(string.format("\n%s: %d tasks: %s; cancelled while: %s%s\n", what, load.sum(r.outcomes),
                                line(r.outcomes), line(r.cancelled_in), extra and "; " .. line(extra) or ""))
end

return load
