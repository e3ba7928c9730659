-- Exercise 4: report progress as fetches complete
--
-- A long fetch is nicer to watch with a progress line: "2 of 5 done (40%)".
-- Write M.fetch_with_progress(sources, report):
--
--   * `sources` is a list of sources; each is a table {id = N, delay = S},
--     fetched with M.fetch_data(source.id, source.delay);
--   * all the sources are fetched at the same time;
--   * each time one fetch completes -- right then, not once everything is
--     over -- it calls report(done, total, percent): `done` fetches have
--     completed out of `total` (the number of sources), and percent is
--     done * 100 / total (so 20, 40, 60, 80, 100 for five sources);
--   * it returns the list of results in the order the fetches completed.
--
-- Call the helper as M.fetch_data(...): the check replaces it with a version
-- that watches what your code does, and passes its own `report` function.
--
-- Check your work with:  ./build/asched check 4

local asched = require("asched")

local M = {}

-- Given: fetches one source (as in the tutorial).
function M.fetch_data(source_id, delay)
  print(string.format("Starting fetch from source %d", source_id))
  asched.sleep(delay)
  print(string.format("Completed fetch from source %d", source_id))
  return {source = source_id, data = "Data from " .. source_id}
end

-- Fetches every source concurrently, calls report(done, total, percent) as
-- each one completes, returns the results in completion order.
function M.fetch_with_progress(sources, report)
  -- TODO
end

return M
