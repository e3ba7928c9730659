-- Wrong: fires every attempt at once instead of waiting between them.
local M = {}
function M.fetch_with_backoff(fetch, attempts, base)
  attempts = attempts or 4
  local value, last_err
  local fns = {}
  for n = 1, attempts do
    fns[n] = function()
      local ok, v = pcall(fetch)
      if ok then value = value or v else last_err = v end
    end
  end
  asched.gather(fns)
  if value ~= nil then return value end
  error(last_err, 0)
end
return M
