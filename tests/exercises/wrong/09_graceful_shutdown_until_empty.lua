-- Wrong: stops as soon as the queue is empty instead of waiting for more jobs.
local M = {}
function M.run_service(queue, handle, log)
  local ok, err = pcall(function()
    while not queue:empty() do
      local work = asched.spawn(handle, queue:get())
      local ok, err = pcall(asched.shield, work)
      if not ok then
        while not work:done() do pcall(asched.shield, work) end
        error(err, 0)
      end
    end
  end)
  log("shutdown")
  if not ok then error(err, 0) end
end
return M
