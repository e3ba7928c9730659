-- Wrong: also waits after the last failure before giving up.
local M = {}
function M.fetch_with_backoff(fetch, attempts, base)
  attempts = attempts or 4
  base = base or 0.5
  local last
  for n = 1, attempts do
    local r = table.pack(pcall(fetch))
    if r[1] then return table.unpack(r, 2, r.n) end
    last = r[2]
    asched.sleep(base * 2 ^ (n - 1))
  end
  error(last, 0)
end
return M
