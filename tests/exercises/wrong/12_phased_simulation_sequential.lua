-- Wrong: every step, one after the other, in the caller's task: the phases
-- are in order, but nothing runs at the same time.
local M = {}
function M.simulate(workers, phases)
  local results = {}
  for phase = 1, phases do
    results[phase] = {}
    for worker = 1, workers do
      results[phase][worker] = M.step(worker, phase)
    end
  end
  return results
end
return M
