-- Check for exercise 09: graceful shutdown of a service on cancellation.

local JOB_TIME = 1   -- each job takes one second

-- Instrumented jobs, handle and log.
local function make_service_world(t, count)
  local w = {jobs = {}, number = {}, started = {}, completed = {}, interrupted = {}, logs = {}, log_times = {}}
  for i = 1, count do
    w.jobs[i] = t.token("job")
    w.number[w.jobs[i]] = i
  end
  w.tracker = t.tracker()
  w.handle = w.tracker.wrap(function(job)
    local i = w.number[job] or "?"
    w.started[i] = t.now()
    local ok, err = pcall(asched.sleep, JOB_TIME)
    if not ok then
      w.interrupted[i] = t.now()
      error(err, 0)
    end
    w.completed[i] = t.now()
  end)
  function w.log(message)
    w.logs[#w.logs + 1] = message
    w.log_times[#w.log_times + 1] = t.now()
  end
  w.queue = asched.queue()
  return w
end

local function fmt(x) return x and string.format("%.2f s", x) or "never" end

-- Cancels the service and waits (at most 10 s) for it to end; checks how.
-- `job_in_progress`: the job running at the cancel (or nil); jobs after
-- `last_job` must never start.
local function cancel_and_check(M, t, w, service, label, start, job_in_progress, last_job)
  local cancelled_at = t.now()
  service:cancel()
  asched.wait({service}, {timeout = 10})
  t.expect(service:done(), label .. ": after task:cancel(), the service ends",
           "the task done", "still running 10 s later")
  local ended_at = t.now()
  local wanted_end = cancelled_at
  if job_in_progress then
    local i = job_in_progress
    t.expect(w.interrupted[i] == nil,
             string.format("%s: job %d, in progress when the service was cancelled, is not interrupted", label, i),
             "it runs to its end", "it was cancelled half-way, at " .. fmt(w.interrupted[i] and w.interrupted[i] - start))
    wanted_end = w.started[i] + JOB_TIME
    t.expect(w.completed[i] ~= nil,
             string.format("%s: the service ends only once job %d, in progress when it was cancelled, has completed", label, i),
             string.format("job %d completed by %s", i, fmt(wanted_end - start)),
             string.format("service ended at %s, job %d not completed yet", fmt(ended_at - start), i))
  end
  t.near(ended_at - start, wanted_end - start,
         string.format("%s: the service ends as soon as %s (time it ended)", label,
                       job_in_progress and "the job in progress is done" or "it is cancelled"))
  local ok, err = pcall(service.result, service)
  t.expect(service:cancelled(),
           label .. ": the service ends cancelled (task:cancelled() is true): re-raise the CancelledError with error(err, 0)",
           "cancelled", ok and "it returned normally" or ("it failed with " .. tostring(err)))
  t.equal(w.logs, {"shutdown"}, label .. ": log(\"shutdown\") is called exactly once (the messages logged)")
  if job_in_progress then
    t.expect(w.log_times[1] >= w.completed[job_in_progress],
             string.format("%s: \"shutdown\" is logged after job %d is done", label, job_in_progress),
             "at " .. fmt(w.completed[job_in_progress] - start), "at " .. fmt(w.log_times[1] - start))
  end
  -- Whatever was still queued must never start, even later.
  asched.sleep(5)
  for i = 1, #w.jobs do
    if i > last_job then
      t.expect(w.started[i] == nil,
               string.format("%s: no job starts after the service was cancelled", label),
               string.format("job %d never started", i), "job " .. i .. " started at " .. fmt(w.started[i] and w.started[i] - start))
    end
  end
end

return {
  title = "A service that finishes its current job when cancelled",
  hints = {
    "Wrap the whole `while true do local job = queue:get(); ... end` loop in pcall: when the task is cancelled, the CancelledError comes out of whatever it was waiting in (queue:get() or the job) and pcall catches it. After the pcall: log(\"shutdown\") and `error(err, 0)` to end cancelled.",
    "Calling handle(job) directly does not work: the CancelledError is raised inside handle's own sleep and interrupts the job. Run the job in a task of its own, `local work = asched.spawn(handle, job)`, and wait for it with `asched.shield(work)`: a cancellation then raises in your task, but `work` goes on.",
    "When `pcall(asched.shield, work)` fails, the job is still running: wait for it before you re-raise, e.g. `while not work:done() do pcall(asched.shield, work) end`, then `error(err, 0)` -- the outer pcall catches it, logs \"shutdown\" once, and re-raises.",
  },
  check = function(M, t)
    t.expect(type(M.run_service) == "function", "M.run_service is a function", "a function", type(M.run_service))

    -- 1. Cancelled in the middle of a job.
    local label = "cancelled during a job"
    local w = make_service_world(t, 4)
    local start = t.now()
    local service = asched.spawn(M.run_service, w.queue, w.handle, w.log)
    w.queue:put_nowait(w.jobs[1])
    asched.sleep(1.5)   -- job 1 runs 0 .. 1; then the queue is empty: the service waits
    t.expect(w.completed[1] == start + JOB_TIME,
             label .. ": the service takes the first job from the queue at once and handles it",
             "job 1 done at 1.00 s", "job 1 " .. (w.started[1] and "done at " .. fmt(w.completed[1] and w.completed[1] - start) or "never started"))
    t.expect(not service:done(), label .. ": the service keeps running when the queue is empty (it waits for more jobs)",
             "still running at 1.50 s", "it ended")
    for i = 2, 4 do w.queue:put_nowait(w.jobs[i]) end
    asched.sleep(0.5)   -- job 2 runs 1.5 .. 2.5
    t.expect(w.started[2] == start + 1.5 and w.started[3] == nil,
             label .. ": jobs are handled one at a time, as soon as they are queued",
             "job 2 started at 1.50 s, job 3 not yet", string.format("job 2 started %s, job 3 %s",
               fmt(w.started[2] and w.started[2] - start), w.started[3] and "started" or "not started"))
    cancel_and_check(M, t, w, service, label .. " (job 2 of 4, at 2.00 s)", start, 2, 2)
    t.expect(w.tracker.most == 1, label .. ": one job at a time", "1", tostring(w.tracker.most))

    -- 2. Cancelled while waiting for a job.
    label = "cancelled while waiting for a job"
    w = make_service_world(t, 1)
    start = t.now()
    service = asched.spawn(M.run_service, w.queue, w.handle, w.log)
    w.queue:put_nowait(w.jobs[1])
    asched.sleep(2)     -- job 1 runs 0 .. 1, then the service waits on an empty queue
    t.expect(w.completed[1] ~= nil, label .. ": the service handles the job it was given", "job 1 done", "not done")
    cancel_and_check(M, t, w, service, label .. " (at 2.00 s, after job 1)", start, nil, 1)
  end,
}
