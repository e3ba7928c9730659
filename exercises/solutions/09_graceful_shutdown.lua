-- Exercise 09: graceful shutdown -- a reference solution.

local M = {}

-- Runs handle(job) in a task of its own and waits for it; a cancellation of
-- the caller does not reach that task (shield), and the job is waited for to
-- its end before the CancelledError goes on up.
local function handle_to_the_end(handle, job)
  local work = asched.spawn(handle, job)
  local ok, err = pcall(asched.shield, work)
  if not ok then
    while not work:done() do
      pcall(asched.shield, work)   -- cancelled again? keep waiting for the job
    end
    error(err, 0)
  end
end

function M.run_service(queue, handle, log)
  local ok, err = pcall(function()
    while true do
      local job = queue:get()        -- cancelled while idle: nothing to finish
      handle_to_the_end(handle, job)
    end
  end)
  log("shutdown")
  error(err, 0)                      -- the CancelledError, unchanged: the task ends cancelled
end

return M
