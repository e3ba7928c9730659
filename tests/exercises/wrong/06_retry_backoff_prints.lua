-- Wrong: prints the retries it would make, and calls fetch only once.
local M = {}
function M.fetch_with_backoff(fetch, attempts, base)
  attempts = attempts or 4
  base = base or 0.5
  for n = 1, attempts - 1 do
    print(string.format("attempt %d failed, waiting %.1f s", n, base * 2 ^ (n - 1)))
  end
  return fetch()
end
return M
