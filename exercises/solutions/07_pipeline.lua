-- Exercise 07: a producer/consumer pipeline -- a reference solution.

local M = {}

function M.pipeline(produce, consume, queue_size)
  local queue = asched.queue(queue_size)
  local DONE = {}   -- a value no producer can return: the end marker

  local producer = asched.spawn(function()
    while true do
      local item = produce()
      if item == nil then break end
      queue:put(item)        -- waits while the queue is full
    end
    queue:put(DONE)
  end)

  -- The consumer is this task.
  local results, count = {}, 0
  while true do
    local item = queue:get()  -- waits while the queue is empty
    if item == DONE then break end
    count = count + 1
    results[count] = consume(item)
  end
  producer:await()            -- the producer is done; this re-raises its error, if any
  return results
end

return M
