-- Wrong: a task per worker, but nothing makes the workers wait for each
-- other: a fast worker races ahead into the next phase.
local M = {}
function M.simulate(workers, phases)
  local results = {}
  for phase = 1, phases do results[phase] = {} end
  local tasks = {}
  for worker = 1, workers do
    tasks[worker] = function()
      for phase = 1, phases do
        results[phase][worker] = M.step(worker, phase)
      end
    end
  end
  asched.gather(tasks)
  return results
end
return M
