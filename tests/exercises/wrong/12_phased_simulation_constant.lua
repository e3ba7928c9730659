-- Wrong: prints a plausible log and returns made-up results.
local M = {}
function M.simulate(workers, phases)
  local results = {}
  for phase = 1, phases do
    results[phase] = {}
    for worker = 1, workers do
      print(string.format("worker %d finished phase %d", worker, phase))
      results[phase][worker] = string.format("worker %d, phase %d", worker, phase)
    end
  end
  return results
end
return M
