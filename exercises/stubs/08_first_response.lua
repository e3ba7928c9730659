-- Exercise 08: the first response wins, the others are cancelled
--
-- The same file is on several mirrors. Ask all of them at once, take the
-- answer that comes back first, and stop the others: their work is wasted
-- now, and a task left running keeps a connection (and the loop) busy.
--
-- Write first_response(mirrors):
--   * `mirrors` is a list of functions; each takes no argument, suspends for
--     a while (its own delay), then returns a result;
--   * start every one of them at the same time (each in its own task);
--   * as soon as the first one finishes, return its result;
--   * cancel every other mirror's task, so that none of them runs on after
--     first_response has returned (they see a CancelledError).
--   Every mirror succeeds (none raises an error).
--
-- Check it with:  ./build/asched check 8

local M = {}

function M.first_response(mirrors)
  -- TODO: spawn a task for every mirror (asched.spawn).
  -- TODO: wait until the first of them is done (asched.wait with
  --       return_when = "first_completed", or asched.as_completed).
  -- TODO: cancel the others, and return the winner's result.
end

return M
