-- Wrong: produces an item, consumes it, then produces the next: no overlap.
local M = {}
function M.pipeline(produce, consume, queue_size)
  local results = {}
  while true do
    local item = produce()
    if item == nil then break end
    results[#results + 1] = consume(item)
  end
  return results
end
return M
