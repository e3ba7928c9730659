-- Wrong: counts the phases from 0, so it runs a phase 0 that does not
-- exist and never does the last one.
local M = {}
function M.simulate(workers, phases)
  local barrier = asched.barrier(workers)
  local results = {}
  for phase = 0, phases - 1 do results[phase] = {} end
  asched.task_group(function(tg)
    for worker = 1, workers do
      tg:spawn(function()
        for phase = 0, phases - 1 do
          results[phase][worker] = M.step(worker, phase)
          barrier:wait()
        end
      end)
    end
  end)
  return results
end
return M
