-- Exercise 12: workers that meet at the end of every phase
--
-- A simulation runs in phases. In each phase every worker computes its own
-- part (its own cells of the grid), and phase k+1 needs what every worker
-- computed in phase k. So the workers run at the same time, but no worker
-- may start phase k+1 before all of them have finished phase k: they meet
-- at the end of every phase, and the slowest one sets the pace. A worker
-- keeps its own state from one phase to the next, so each worker is one
-- task that does all of its phases, in order.
--
-- Write simulate(workers, phases):
--   * `workers` and `phases` are whole numbers, 1 or more;
--   * M.step(worker, phase) does one worker's part of one phase: it
--     suspends for a while (every worker's steps take different times) and
--     returns a result;
--   * start one task per worker, worker = 1 .. workers; each calls
--     M.step(worker, 1), M.step(worker, 2), ..., M.step(worker, phases),
--     in that order;
--   * no worker starts phase k+1 before every worker has finished phase k,
--     and once the last one has, they all start phase k+1 at once -- so the
--     whole run takes the sum, over the phases, of each phase's slowest step;
--   * when every worker has done every phase, return the results as a table
--     of phases: results[phase][worker] = what M.step(worker, phase) returned.
--
-- asched.barrier(n) is a meeting point for n tasks: barrier:wait() suspends
-- until n tasks are waiting at it, then lets all of them go on, and is ready
-- for the next round at once. (docs/reference.md describes it.)
--
-- The step given below prints what it does, so you can try your function;
-- the check uses its own times. Call the helper as M.step(...): the check
-- replaces it with a version that watches what your code does.
--
-- Check it with:  ./build/asched check 12

local M = {}

-- Given: one worker's step of one phase; takes 0.5 to 2.5 seconds.
function M.step(worker, phase)
  local seconds = ((worker * 7 + phase * 3) % 5 + 1) / 2
  print(string.format("%5.2f s  worker %d starts phase %d (%.1f s)", asched.now(), worker, phase, seconds))
  asched.sleep(seconds)
  return string.format("worker %d, phase %d", worker, phase)
end

function M.simulate(workers, phases)
  -- TODO: one barrier for all the workers: asched.barrier(workers).
  -- TODO: a table of results, one table per phase.
  -- TODO: start a task per worker (asched.task_group and tg:spawn, or
  --       asched.gather with a function per worker); each does, for every
  --       phase in order: its step, keeping the result, then barrier:wait().
  -- TODO: once every worker is done, return the results.
end

return M
