-- Exercise 09: graceful shutdown
--
-- A service takes jobs from a queue and handles them, forever. To stop it
-- you cancel its task. A careless service drops the job it was working on
-- half-way; a graceful one finishes that job first, writes a last log line,
-- and only then stops.
--
-- Write run_service(queue, handle, log):
--   * forever: take the next job from `queue` (queue:get() waits while the
--     queue is empty) and call handle(job), which suspends for a while;
--     handle one job at a time, in the order they were put;
--   * when the service's task is cancelled (task:cancel() by its owner):
--       - the job in progress, if any, is not interrupted: it runs to its end
--         before run_service ends (asched.shield lets work go on while its
--         caller is being cancelled);
--       - no other job is started;
--       - call log("shutdown"), exactly once;
--       - end cancelled: raise the CancelledError again, so that whoever
--         cancelled the task sees task:cancelled() == true.
--   The service can also be cancelled while it waits for a job: then it just
--   logs and ends cancelled.
--
-- Check it with:  ./build/asched check 9

local M = {}

function M.run_service(queue, handle, log)
  -- TODO: loop forever: local job = queue:get(); handle(job) -- but so that
  --       a cancellation does not interrupt handle (spawn it, and shield it).
  -- TODO: catch the CancelledError (pcall), let the job in progress finish,
  --       log("shutdown"), then re-raise the error with error(err, 0).
end

return M
