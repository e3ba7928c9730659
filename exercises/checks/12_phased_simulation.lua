-- Check for exercise 12: workers in lockstep, meeting at a barrier after
-- every phase -- one task per worker, no worker ahead of the others, no time
-- lost between phases, and the results by phase and worker.

local function fmt(x) return x and string.format("%.2f s", x) or "never" end

-- An instrumented step: durations[worker][phase] seconds; records when each
-- step started and finished, and in which task it ran; returns a token.
local function make_steps(t, durations)
  local s = {tokens = {}, count = {}, started = {}, finished = {}, task = {}, stray = {}}
  for w, row in ipairs(durations) do
    s.tokens[w], s.count[w], s.started[w], s.finished[w], s.task[w] = {}, {}, {}, {}, {}
    for k in ipairs(row) do
      s.tokens[w][k] = t.token(string.format("step(%d, %d)", w, k))
      s.count[w][k] = 0
    end
  end
  function s.step(worker, phase)
    local d = durations[worker] and durations[worker][phase]
    if d == nil then
      s.stray[#s.stray + 1] = string.format("step(%s, %s)", tostring(worker), tostring(phase))
      asched.sleep(1)
      return t.token("a step that should not be")
    end
    s.count[worker][phase] = s.count[worker][phase] + 1
    s.started[worker][phase] = s.started[worker][phase] or t.now()
    s.task[worker][phase] = s.task[worker][phase] or asched.current_task()
    asched.sleep(d)
    s.finished[worker][phase] = s.finished[worker][phase] or t.now()
    return s.tokens[worker][phase]
  end
  return s
end

-- The first lines of an error, indented to sit under the check's message.
local function show_error(err)
  local text = tostring(err)
  local lines = {}
  for line in text:gmatch("[^\n]+") do
    if #lines == 8 then lines[#lines + 1] = "  ..." break end
    lines[#lines + 1] = line
  end
  return table.concat(lines, "\n          ")
end

local function is_deadlock(err)
  if type(err) ~= "table" then return false end
  if err.name == "DeadlockError" then return true end
  for _, e in ipairs(type(err.errors) == "table" and err.errors or {}) do
    if type(e) == "table" and e.name == "DeadlockError" then return true end
  end
  return false
end

-- The run with a barrier: each phase's slowest step, summed; and one step at a time.
local function wanted_time(durations)
  local wanted, sequential = 0, 0
  for k = 1, #durations[1] do
    local slowest = 0
    for w = 1, #durations do
      slowest = math.max(slowest, durations[w][k])
      sequential = sequential + durations[w][k]
    end
    wanted = wanted + slowest
  end
  return wanted, sequential
end

local function check_run(M, t, durations)
  local workers, phases = #durations, #durations[1]
  local label = string.format("%d workers, %d phases", workers, phases)
  local s = make_steps(t, durations)
  M.step = s.step

  local began = t.now()
  local ok, results = pcall(M.simulate, workers, phases)
  local elapsed = t.now() - began
  if not ok and is_deadlock(results) then
    -- The workers wait for ever: stop them, then say why.
    for _, task in ipairs(asched.all_tasks()) do
      if task ~= asched.current_task() then task:cancel() end
    end
    asched.sleep(0)
    t.expect(false, string.format("%s: simulate finishes -- but the workers got stuck waiting at a barrier for a round that never fills up, and asched found that nothing could ever wake them. Does the barrier have exactly one party per worker? Make ONE barrier, asched.barrier(workers), before starting the workers, share it between all of them, and have each worker wait at it once per phase", label),
             "every worker through every phase", show_error(results))
  end
  t.expect(ok, label .. ": simulate does not raise", "no error", show_error(results))

  local function calls()
    local n = #s.stray
    for w = 1, workers do for k = 1, phases do n = n + s.count[w][k] end end
    return n
  end
  if calls() == 0 then
    asched.sleep(0)   -- workers spawned but not waited for start now
    t.expect(calls() == 0,
             string.format("%s: simulate returns once every worker has done every phase -- it returned before the workers had even started: wait for them (asched.task_group, or asched.gather)", label),
             string.format("simulate done at %s", fmt(wanted_time(durations))), string.format("it returned at %s", fmt(elapsed)))
    t.expect(false, string.format("%s: the workers do their steps with M.step(worker, phase)", label),
             "M.step called", "never called")
  end
  t.expect(#s.stray == 0,
           string.format("%s: M.step(worker, phase) is called for workers 1 .. %d and phases 1 .. %d only (count from 1, up to and including the last)",
                         label, workers, phases),
           "no other call", "a call " .. tostring(s.stray[1]))
  for k = 1, phases do
    for w = 1, workers do
      t.expect(s.count[w][k] == 1,
               string.format("%s: every worker does every phase, once: M.step(worker, phase) is called once for each", label),
               string.format("step(%d, %d) called once", w, k),
               s.count[w][k] == 0 and "not called by the time simulate returned" or string.format("called %d times", s.count[w][k]))
    end
  end

  -- Phase by phase: nobody starts phase k before everyone finished phase
  -- k-1, and everybody starts it right then.
  local phase_end, end_worker = began, nil
  for k = 1, phases do
    for w = 1, workers do
      if k > 1 then
        t.expect(s.started[w][k] >= phase_end - 1e-6,
                 string.format("%s: no worker starts phase %d before every worker has finished phase %d (they meet at a barrier)",
                               label, k, k - 1),
                 string.format("worker %d starts phase %d at %s or later, when worker %d finished phase %d",
                               w, k, fmt(phase_end - began), end_worker, k - 1),
                 string.format("it started at %s", fmt(s.started[w][k] - began)))
      end
    end
    for w = 1, workers do
      t.expect(math.abs(s.started[w][k] - phase_end) < 1e-6,
               k == 1 and string.format("%s: every worker starts phase 1 at once, at the same time (one task per worker)", label)
                      or string.format("%s: as soon as the last worker has finished phase %d, every worker starts phase %d -- no time lost in between",
                                       label, k - 1, k),
               string.format("worker %d starts phase %d at %s", w, k, fmt(phase_end - began)),
               string.format("it started at %s", fmt(s.started[w][k] - began)))
    end
    local last, last_worker
    for w = 1, workers do
      if last == nil or s.finished[w][k] > last then last, last_worker = s.finished[w][k], w end
    end
    phase_end, end_worker = last, last_worker
  end

  local wanted, sequential = wanted_time(durations)
  t.expect(math.abs(elapsed - wanted) < 1e-6,
           string.format("%s: simulate returns as soon as the last worker has finished the last phase: the slowest step of each phase, summed, takes %s (one step at a time: %s)",
                         label, fmt(wanted), fmt(sequential)),
           fmt(wanted), fmt(elapsed))

  -- One task per worker, the same for all of its phases.
  for w = 1, workers do
    for k = 2, phases do
      t.expect(s.task[w][k] == s.task[w][1],
               string.format("%s: each worker is one task that does all its phases (it keeps its state between phases): spawn a task per worker, not per phase", label),
               string.format("step(%d, %d) in the same task as step(%d, 1)", w, k, w), "a different task")
    end
    for v = 1, w - 1 do
      t.expect(s.task[w][1] ~= s.task[v][1],
               string.format("%s: each worker runs in a task of its own", label),
               string.format("workers %d and %d in two tasks", v, w), "the same task")
    end
  end

  local function which(value)
    for w = 1, workers do
      for k = 1, phases do
        if value == s.tokens[w][k] then return string.format("the result of step(%d, %d)", w, k) end
      end
    end
    return tostring(value)
  end
  t.expect(type(results) == "table", label .. ": simulate returns a table of phases: results[phase][worker]", "a table", type(results))
  for k = 1, phases do
    t.expect(type(results[k]) == "table",
             string.format("%s: results[phase] is a table of that phase's results, by worker", label),
             string.format("results[%d] a table", k), type(results[k]))
    for w = 1, workers do
      t.expect(results[k][w] == s.tokens[w][k],
               string.format("%s: results[phase][worker] is what M.step(worker, phase) returned", label),
               string.format("results[%d][%d] = the result of step(%d, %d)", k, w, w, k), which(results[k][w]))
    end
  end
  for key in pairs(results) do
    t.expect(math.type(key) == "integer" and key >= 1 and key <= phases,
             string.format("%s: results holds phases 1 .. %d only", label, phases),
             "no other key", "a key " .. tostring(key))
  end
end

return {
  title = "Workers in phases that wait for each other at a barrier",
  hints = {
    "Start one task per worker, and let each run a loop over the phases: `for phase = 1, phases do ... M.step(worker, phase) ... end`. Alone, that lets a fast worker race ahead into the next phase; what stops it is a meeting point after each step: an asched.barrier.",
    "Make the barrier once, before the workers start: `local barrier = asched.barrier(workers)` -- one party per worker, shared by all of them. After each step, a worker calls `barrier:wait()`: it returns once every worker has called it, and the same barrier is ready again for the next phase. Wait for all the workers with asched.task_group (tg:spawn) or asched.gather.",
    "`local results = {}; for phase = 1, phases do results[phase] = {} end`, then each worker's loop body is `results[phase][worker] = M.step(worker, phase); barrier:wait()`. Spawn the workers inside `asched.task_group(function(tg) for worker = 1, workers do tg:spawn(function() ... end) end end)`, and `return results` after it.",
  },
  check = function(M, t)
    t.expect(type(M.simulate) == "function", "M.simulate is a function", "a function", type(M.simulate))
    check_run(M, t, {
      {1.15, 2,    0.5},
      {2.5,  0.75, 1.2},
      {0.6,  1.35, 3},
    })
    check_run(M, t, {
      {0.5,  3},
      {1.75, 0.25},
      {1,    1},
      {0.3,  2.2},
    })
    check_run(M, t, {{1, 0.5, 2}})
    check_run(M, t, {{0.7}, {1.4}, {0.35}, {2.1}, {1.05}})
  end,
}
