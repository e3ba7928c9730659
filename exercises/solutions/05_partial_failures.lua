-- Exercise 5, a reference solution: each source runs in its own task under
-- pcall, so an error becomes a value instead of stopping anything; gather
-- waits for all of them and keeps the order of `sources`.

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

function M.fetch_all_safely(sources)
  local work = {}
  for i, source in ipairs(sources) do
    work[i] = function()
      local ok, value = pcall(M.fetch_data, source.id, source.delay)
      return {ok = ok, value = value}
    end
  end
  local outcomes = asched.gather(work)
  local successes, failures = {}, {}
  for i = 1, outcomes.n do
    local outcome = outcomes[i]
    if outcome.ok then
      successes[#successes + 1] = outcome.value
    else
      failures[#failures + 1] = {source = sources[i].id, error = outcome.value}
    end
  end
  return successes, failures
end

return M
