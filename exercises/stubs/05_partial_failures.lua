-- Exercise 5: keep going when some sources fail
--
-- Real sources fail: a server is down, a request times out. One failure
-- should not throw away the data of every source that worked. Write
-- M.fetch_all_safely(sources):
--
--   * `sources` is a list of sources; each is a table {id = N, delay = S},
--     fetched with M.fetch_data(source.id, source.delay), which may raise an
--     error instead of returning;
--   * all the sources are fetched at the same time, so the whole thing takes
--     as long as the slowest source;
--   * it never raises: it returns two lists,
--         successes -- the result of every fetch that worked,
--         failures  -- a table {source = N, error = err} for every fetch that
--                      failed, where err is the error value exactly as it was
--                      raised (a string, or a table such as asched's
--                      TimeoutError -- keep it as it is, don't turn it into text),
--     both in the order of `sources` (an empty list when there are none):
--         local successes, failures = M.fetch_all_safely(sources)
--
-- The fetch_data given below fails for sources 3, 6, 9, ... so you can try
-- your function; the check uses its own sources and failures.
-- Call the helper as M.fetch_data(...): the check replaces it with a version
-- that watches what your code does.
--
-- Check your work with:  ./build/asched check 5

local asched = require("asched")

local M = {}

-- Given: fetches one source; a source whose id is a multiple of 3 is down.
function M.fetch_data(source_id, delay)
  print(string.format("Starting fetch from source %d", source_id))
  asched.sleep(delay)
  if source_id % 3 == 0 then
    error(string.format("source %d is not responding", source_id), 0)
  end
  print(string.format("Completed fetch from source %d", source_id))
  return {source = source_id, data = "Data from " .. source_id}
end

-- Fetches every source concurrently; returns successes, failures.
function M.fetch_all_safely(sources)
  -- TODO
end

return M
