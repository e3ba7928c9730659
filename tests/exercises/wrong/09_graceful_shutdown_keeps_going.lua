-- Wrong: catches the cancellation around each job, logs it, and goes on with the next job.
local M = {}
function M.run_service(queue, handle, log)
  while true do
    local job = queue:get()
    local work = asched.spawn(handle, job)
    local ok = pcall(asched.shield, work)
    if not ok then
      while not work:done() do pcall(asched.shield, work) end
      log("shutdown")
    end
  end
end
return M
