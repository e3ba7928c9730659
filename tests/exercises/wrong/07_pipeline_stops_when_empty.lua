-- Wrong: the consumer stops as soon as the queue is empty, instead of
-- waiting for the producer's end marker; with a slow producer, items are lost.
local M = {}
function M.pipeline(produce, consume, queue_size)
  local queue = asched.queue(queue_size)
  asched.spawn(function()
    while true do
      local item = produce()
      if item == nil then break end
      queue:put(item)
    end
  end)
  local results = {}
  repeat
    local item = queue:get()
    results[#results + 1] = consume(item)
  until queue:empty()
  return results
end
return M
