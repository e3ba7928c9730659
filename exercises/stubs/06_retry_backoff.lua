-- Exercise 06: retry with exponential backoff
--
-- A flaky source fails now and then. Retrying at once hammers it while it is
-- down; a polite client waits a little longer after every failure:
-- base, then 2 x base, then 4 x base, ...
--
-- Write fetch_with_backoff(fetch, attempts, base):
--   * call fetch() (it may suspend, and it may raise an error);
--   * when it succeeds, return what it returned (all of its values);
--   * when call number n fails and calls are left, wait base * 2^(n-1)
--     seconds with asched.sleep, then call it again
--     (with base = 0.5: 0.5 s, 1 s, 2 s, ...);
--   * make at most `attempts` calls in all; after the last one fails, do not
--     wait any more: raise that last error again, unchanged (the same value,
--     with no position or text added).
--   `attempts` defaults to 4 and `base` to 0.5.
--
-- Check it with:  ./build/asched check 6

local M = {}

function M.fetch_with_backoff(fetch, attempts, base)
  attempts = attempts or 4
  base = base or 0.5
  -- TODO: call fetch() inside pcall; on success return its values.
  -- TODO: on failure, sleep base * 2^(n-1) seconds and try again,
  --       unless that was the last attempt: then raise the error as it is.
end

return M
