-- Wrong: only a cancellation during a job is handled; cancelled while
-- waiting in queue:get(), the service ends without logging "shutdown".
local M = {}
function M.run_service(queue, handle, log)
  while true do
    local job = queue:get()
    local work = asched.spawn(handle, job)
    local ok, err = pcall(asched.shield, work)
    if not ok then
      while not work:done() do pcall(asched.shield, work) end
      log("shutdown")
      error(err, 0)
    end
  end
end
return M
