-- Wrong: a barrier of workers - 1 parties lets a round go as soon as all
-- but one worker arrive: the last one is left behind.
local M = {}
function M.simulate(workers, phases)
  local barrier = asched.barrier(math.max(workers - 1, 1))
  local results = {}
  for phase = 1, phases do results[phase] = {} end
  asched.task_group(function(tg)
    for worker = 1, workers do
      tg:spawn(function()
        for phase = 1, phases do
          results[phase][worker] = M.step(worker, phase)
          barrier:wait()
        end
      end)
    end
  end)
  return results
end
return M
