-- Wrong: calls handle(job) directly, so the cancellation interrupts the job in progress.
local M = {}
function M.run_service(queue, handle, log)
  local ok, err = pcall(function()
    while true do
      handle(queue:get())
    end
  end)
  log("shutdown")
  error(err, 0)
end
return M
