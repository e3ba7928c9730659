-- Wrong: waits base * 2^n (1, 2, 4 with base 0.5): the first wait is already doubled.
local M = {}
function M.fetch_with_backoff(fetch, attempts, base)
  attempts = attempts or 4
  base = base or 0.5
  for n = 1, attempts do
    local r = table.pack(pcall(fetch))
    if r[1] then return table.unpack(r, 2, r.n) end
    if n == attempts then error(r[2], 0) end
    asched.sleep(base * 2 ^ n)
  end
end
return M
