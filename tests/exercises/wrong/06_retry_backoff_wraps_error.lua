-- Wrong: gives up with a new error message instead of the last error unchanged.
local M = {}
function M.fetch_with_backoff(fetch, attempts, base)
  attempts = attempts or 4
  base = base or 0.5
  for n = 1, attempts do
    local r = table.pack(pcall(fetch))
    if r[1] then return table.unpack(r, 2, r.n) end
    if n == attempts then error("gave up after " .. n .. " attempts: " .. tostring(r[2])) end
    asched.sleep(base * 2 ^ (n - 1))
  end
end
return M
