-- Exercise 10: a rate limiter
--
-- An API allows at most `per_second` new requests per second. Each request
-- is slow (it takes a few seconds), so requests should overlap -- only their
-- starts are limited, not how many run at once.
--
-- Write rate_limited(calls, per_second):
--   * `calls` is a list of functions; each takes no argument, suspends for a
--     while, and returns a result;
--   * call every one of them, each in its own task, so that they overlap;
--   * in any window of one second, at most `per_second` of them start
--     (for example with per_second = 3: three at 0 s, three more at 1 s,
--     and so on -- not one at a time, and not all at once);
--   * do not wait for a call to finish before starting the next one: only
--     the rate of starts is limited, so the whole run should take about as
--     long as the fastest schedule that respects the limit;
--   * return a list of the results in the order of `calls`:
--     {calls[1](), calls[2](), ...} -- not the order they finished in.
--
-- Check it with:  ./build/asched check 10

local M = {}

function M.rate_limited(calls, per_second)
  -- TODO: start the calls in tasks (asched.spawn), at most per_second of
  --       them in any one second (asched.sleep between groups, or a
  --       semaphore whose permits come back one second after they were taken).
  -- TODO: wait for every task and return their results, in order.
end

return M
