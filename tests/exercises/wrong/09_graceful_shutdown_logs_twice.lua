-- Wrong: logs "shutdown" both in the job's handler and in the outer one.
local M = {}
function M.run_service(queue, handle, log)
  local ok, err = pcall(function()
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
  end)
  log("shutdown")
  error(err, 0)
end
return M
