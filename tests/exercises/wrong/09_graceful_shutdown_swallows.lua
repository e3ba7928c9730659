-- Wrong: finishes the job and logs, but swallows the cancellation and returns normally.
local M = {}
function M.run_service(queue, handle, log)
  pcall(function()
    while true do
      local job = queue:get()
      local work = asched.spawn(handle, job)
      local ok, err = pcall(asched.shield, work)
      if not ok then
        while not work:done() do pcall(asched.shield, work) end
        error(err, 0)
      end
    end
  end)
  log("shutdown")
end
return M
