-- Wrong: waits `base` after every failure instead of doubling the wait.
local M = {}
function M.fetch_with_backoff(fetch, attempts, base)
  attempts = attempts or 4
  base = base or 0.5
  for n = 1, attempts do
    local r = table.pack(pcall(fetch))
    if r[1] then return table.unpack(r, 2, r.n) end
    if n == attempts then error(r[2], 0) end
    asched.sleep(base)
  end
end
return M
