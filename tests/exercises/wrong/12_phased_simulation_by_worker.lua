-- Wrong: keeps the results by worker, then phase -- results[worker][phase]
-- -- instead of results[phase][worker].
local M = {}
function M.simulate(workers, phases)
  local barrier = asched.barrier(workers)
  local results = {}
  asched.task_group(function(tg)
    for worker = 1, workers do
      results[worker] = {}
      tg:spawn(function()
        for phase = 1, phases do
          results[worker][phase] = M.step(worker, phase)
          barrier:wait()
        end
      end)
    end
  end)
  return results
end
return M
