-- Wrong: turns every error into text instead of keeping the value.
local asched = require("asched")

local M = {}

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
      if ok then return {ok = true, value = value} end
      return {ok = false, value = tostring(value)}
    end
  end
  local outcomes = asched.gather(work)
  local successes, failures = {}, {}
  for i = 1, outcomes.n do
    if outcomes[i].ok then
      successes[#successes + 1] = outcomes[i].value
    else
      failures[#failures + 1] = {source = sources[i].id, error = outcomes[i].value}
    end
  end
  return successes, failures
end

return M
