-- Wrong: raises the first error instead of the last one.
local M = {}
function M.fetch_with_backoff(fetch, attempts, base)
  attempts = attempts or 4
  base = base or 0.5
  local first
  for n = 1, attempts do
    local r = table.pack(pcall(fetch))
    if r[1] then return table.unpack(r, 2, r.n) end
    first = first or r[2]
    if n == attempts then error(first, 0) end
    asched.sleep(base * 2 ^ (n - 1))
  end
end
return M
