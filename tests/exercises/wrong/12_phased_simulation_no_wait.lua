-- Wrong: spawns the workers but returns at once, without waiting for them:
-- the results are still empty when simulate returns.
local M = {}
function M.simulate(workers, phases)
  local b = asched.barrier(workers)
  local results = {}
  for p = 1, phases do results[p] = {} end
  for w = 1, workers do
    asched.spawn(function()
      for p = 1, phases do results[p][w] = M.step(w, p); b:wait() end
    end)
  end
  return results
end
return M
