-- Exercise 06: retry with exponential backoff -- a reference solution.

local M = {}

function M.fetch_with_backoff(fetch, attempts, base)
  attempts = attempts or 4
  base = base or 0.5
  for n = 1, attempts do
    local results = table.pack(pcall(fetch))
    if results[1] then
      return table.unpack(results, 2, results.n)
    end
    if n == attempts then
      error(results[2], 0)   -- level 0: re-raise the value as it is
    end
    asched.sleep(base * 2 ^ (n - 1))
  end
end

return M
