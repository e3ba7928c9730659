-- Wrong: spawns a consumer task per item, so consume calls overlap.
local M = {}
function M.pipeline(produce, consume, queue_size)
  local queue = asched.queue(queue_size)
  local DONE = {}
  asched.spawn(function()
    while true do
      local item = produce()
      if item == nil then break end
      queue:put(item)
    end
    queue:put(DONE)
  end)
  local tasks = {}
  while true do
    local item = queue:get()
    if item == DONE then break end
    tasks[#tasks + 1] = asched.spawn(consume, item)
  end
  local r = asched.gather(tasks)
  r.n = nil
  return r
end
return M
