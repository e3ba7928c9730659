-- Exercise 12: workers that meet at the end of every phase -- a reference solution.
--
-- One barrier of `workers` parties, shared by every worker: a worker that
-- has finished a phase waits there until the last one arrives. The barrier
-- refills at once, so the same barrier serves every phase. The workers run
-- in a task group: should a step fail, the other workers (who would wait at
-- the barrier for ever) are cancelled and the error goes up.

local M = {}

function M.simulate(workers, phases)
  local barrier = asched.barrier(workers)
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
