-- Wrong: calls the mirrors one after the other and keeps the first answer.
local M = {}
function M.first_response(mirrors)
  for _, mirror in ipairs(mirrors) do
    local ok, result = pcall(mirror)
    if ok then return result end
  end
end
return M
