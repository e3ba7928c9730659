-- Exercise 2: give up on a slow source
--
-- Some sources are slow, and a program should not wait for them forever.
-- Write M.fetch_with_timeout(source_id, delay, seconds):
--
--   * it fetches the source with M.fetch_data(source_id, delay);
--   * if the fetch finishes within `seconds` (3 when `seconds` is nil), it
--     returns the fetch's result, as soon as it arrives;
--   * if not, it gives up after exactly `seconds`: the fetch is cancelled
--     (it must not keep running in the background) and fetch_with_timeout
--     raises a TimeoutError -- an error `err` with err.name == "TimeoutError",
--     like the ones asched itself raises.
--
-- For example, fetch_with_timeout(1, 1) returns source 1's data after 1
-- second, and fetch_with_timeout(2, 10) raises TimeoutError after 3 seconds.
--
-- Call the helper as M.fetch_data(...): the check replaces it with a version
-- that watches what your code does.
--
-- Check your work with:  ./build/asched check 2

local asched = require("asched")

local M = {}

-- Given: fetches one source (as in the tutorial).
function M.fetch_data(source_id, delay)
  print(string.format("Starting fetch from source %d", source_id))
  asched.sleep(delay)
  print(string.format("Completed fetch from source %d", source_id))
  return {source = source_id, data = "Data from " .. source_id}
end

-- Returns M.fetch_data(source_id, delay)'s result, or raises TimeoutError
-- after `seconds` (default 3) with the fetch cancelled.
function M.fetch_with_timeout(source_id, delay, seconds)
  -- TODO
end

return M
