-- Wrong: waits for every mirror (gather), then returns the one that answered first.
local M = {}
function M.first_response(mirrors)
  local first
  local fns = {}
  for i, mirror in ipairs(mirrors) do
    fns[i] = function()
      local result = mirror()
      if first == nil then first = result end
      return result
    end
  end
  asched.gather(fns)
  return first
end
return M
