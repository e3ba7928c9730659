-- Wrong: the queue is unbounded, so the producer races ahead of the consumer.
local M = {}
function M.pipeline(produce, consume, queue_size)
  local queue = asched.queue()
  local DONE = {}
  asched.spawn(function()
    while true do
      local item = produce()
      if item == nil then break end
      queue:put(item)
    end
    queue:put(DONE)
  end)
  local results = {}
  while true do
    local item = queue:get()
    if item == DONE then break end
    results[#results + 1] = consume(item)
  end
  return results
end
return M
