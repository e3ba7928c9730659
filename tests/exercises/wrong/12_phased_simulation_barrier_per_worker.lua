-- Wrong: each worker makes its own barrier, so no two workers ever meet at
-- the same one: every worker waits alone, for ever.
local M = {}
function M.simulate(workers, phases)
  local results = {}
  for phase = 1, phases do results[phase] = {} end
  local tasks = {}
  for worker = 1, workers do
    tasks[worker] = asched.spawn(function()
      local barrier = asched.barrier(workers)
      for phase = 1, phases do
        results[phase][worker] = M.step(worker, phase)
        barrier:wait()
      end
    end)
  end
  asched.gather(tasks)
  return results
end
return M
