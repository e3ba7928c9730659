-- Wrong: a new task for every step, phase by phase. The timing is right,
-- but a worker is no longer one task that keeps its state between phases.
local M = {}
function M.simulate(workers, phases)
  local results = {}
  for phase = 1, phases do
    local steps = {}
    for worker = 1, workers do
      steps[worker] = function() return M.step(worker, phase) end
    end
    local r = asched.gather(steps)
    results[phase] = {}
    for worker = 1, workers do results[phase][worker] = r[worker] end
  end
  return results
end
return M
