-- Wrong: the barrier counts one party too many (the caller is not a
-- worker): it never fills, and every worker waits at it for ever.
local M = {}
function M.simulate(workers, phases)
  local barrier = asched.barrier(workers + 1)
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
