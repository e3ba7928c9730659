-- Wrong: shields the job, but ends at once instead of waiting for it to finish.
local M = {}
function M.run_service(queue, handle, log)
  local ok, err = pcall(function()
    while true do
      local job = queue:get()
      asched.shield(asched.spawn(handle, job))
    end
  end)
  log("shutdown")
  error(err, 0)
end
return M
