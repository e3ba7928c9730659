-- sync_helpers.lua -- what the sync_* specs share on top of spec.helpers: counting
-- the permits a newcomer can take, spawning numbered tasks, taking turns on a
-- semaphore or lock, and closing a guard by hand the way a `<close>` variable does.
local asched = asched

local sync = {}

-- How many permits a task arriving now could take from `sem` (a semaphore, a
-- bounded semaphore or a lock) without waiting, counted by taking them, each under
-- a 1 s timeout, and giving them back. Costs 1 s of loop time; stops at `cap`.
function sync.free_permits(sem, cap)
  cap = cap or 1000
  local taken = 0
  while taken < cap do
    local ok, err = pcall(asched.timeout, 1, sem.acquire, sem)
    if not ok then
      if type(err) == "table" and err.name == "TimeoutError" then break end
      error(err, 0)
    end
    taken = taken + 1
  end
  for _ = 1, taken do sem:release() end
  return taken
end

-- Spawns fn(1), ..., fn(n) as tasks in that order; returns the list of tasks.
function sync.spawn_each(n, fn)
  local tasks = {}
  for i = 1, n do tasks[i] = asched.spawn(fn, i) end
  return tasks
end

-- Three tasks that each acquire `sem` (a semaphore or a lock), hold it 1 s and
-- release it, twice; returns the task numbers in the order they got it.
function sync.turns(sem)
  local order = {}
  local tasks = sync.spawn_each(3, function(i)
    for _ = 1, 2 do
      sem:acquire()
      order[#order + 1] = i
      asched.sleep(1)
      sem:release()
    end
  end)
  for _, t in ipairs(tasks) do t:await() end
  return order
end

-- Closes `guard` as the end of a `<close>` variable's scope does.
function sync.close(guard)
  getmetatable(guard).__close(guard, nil)
end

return sync
