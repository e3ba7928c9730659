-- Wrong: counts the finished steps and checks the count every 0.1 s: the
-- workers do wait for each other, but each one notices only at its next
-- poll, so time is lost between phases.
local M = {}
function M.simulate(workers, phases)
  local results, finished = {}, 0
  for phase = 1, phases do results[phase] = {} end
  asched.task_group(function(tg)
    for worker = 1, workers do
      tg:spawn(function()
        for phase = 1, phases do
          results[phase][worker] = M.step(worker, phase)
          finished = finished + 1
          while finished < phase * workers do asched.sleep(0.1) end
        end
      end)
    end
  end)
  return results
end
return M
