-- Wrong: produces every item into a list first, then consumes them.
local M = {}
function M.pipeline(produce, consume, queue_size)
  local items = {}
  while true do
    local item = produce()
    if item == nil then break end
    items[#items + 1] = item
  end
  local results = {}
  for i, item in ipairs(items) do results[i] = consume(item) end
  return results
end
return M
