-- Wrong: after each step, a worker sleeps a second "to let the others catch
-- up" instead of waiting for them: a slow worker is left behind, and a fast
-- one wastes time.
local M = {}
function M.simulate(workers, phases)
  local results = {}
  for phase = 1, phases do results[phase] = {} end
  asched.task_group(function(tg)
    for worker = 1, workers do
      tg:spawn(function()
        for phase = 1, phases do
          results[phase][worker] = M.step(worker, phase)
          asched.sleep(1)
        end
      end)
    end
  end)
  return results
end
return M
