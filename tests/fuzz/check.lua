-- check.lua -- runs one generated program and checks it (tests/fuzz): the
-- part of the driver that the libFuzzer target shares. check.run(asched,
-- source, name) must run as the main task of a loop (the driver's script,
-- or asched.run); it returns the list of invariants the run broke.
--
-- The main task waits for the program's tasks: a program that waits forever
-- ends in a DeadlockError here, which must name every task still waiting;
-- then the main task cancels them and waits for them to end.
local here = debug.getinfo(1, "S").source:match("^@(.-)[^/]*$")
local harness = dofile(here .. "harness.lua")

local check = {}
local asched

local function error_text(e)
  if type(e) == "table" then return tostring(e.name) .. ": " .. tostring(e.message) end
  return tostring(e)
end

-- Waits for `list` to end; a DeadlockError must name each one still pending.
-- Returns nil, or the deadlock report when the wait ended in a deadlock.
-- A true deadlock stays one: after it, a long sleep here lets any timer that
-- the detector overlooked fire, and no step of the program may run.
local function wait_all(list, broken, H)
  local ok, e = pcall(asched.wait, list)
  if ok then return nil end
  if type(e) ~= "table" or e.name ~= "DeadlockError" then
    broken[#broken + 1] = "waiting for the program's tasks raised " .. error_text(e)
    return error_text(e)
  end
  local progress = H.progress
  asched.sleep(1000)   -- no program's timer is more than a few seconds away
  if H.progress ~= progress then
    broken[#broken + 1] = "DeadlockError while the program could still run:\n" .. e.message
  end
  for _, t in ipairs(list) do
    if not t:done() and not e.message:find(t.name, 1, true) then
      broken[#broken + 1] = "the deadlock report does not name " .. t.name .. ":\n" .. e.message
    end
  end
  return e.message
end

local function others()
  local me, list = asched.current_task(), {}
  for _, t in ipairs(asched.all_tasks()) do if t ~= me then list[#list + 1] = t end end
  return list
end

-- Runs one program (its source) and returns the list of broken invariants.
function check.run(asched_module, source, name)
  asched = asched_module
  local chunk, err = load(source, "=" .. name)
  if not chunk then return {"does not compile: " .. err} end
  local H = harness.new(asched)
  local main = H.register(asched.spawn(chunk, H, asched))
  main.name = "program-main"
  local broken = {}
  local function note(e)   -- the program's main may fail only as any step may
    local ename = type(e) == "table" and e.name or e
    if not (ename == "boom" or ename == "CancelledError" or ename == "TimeoutError" or ename == "TaskGroupError"
            or ename == "QueueShutDown" or ename == "QueueEmpty" or ename == "QueueFull" or ename == "BrokenBarrierError") then
      broken[#broken + 1] = "the program's main raised " .. error_text(e)
    end
  end
  -- The program's main, then every other task it left, until none is left.
  -- After a deadlock whatever still waits is cancelled; a cancelled task may
  -- need more rounds (a condition's wait takes its lock back before it
  -- raises), but each round must end some task.
  local cancelled_before = false
  while #others() > 0 do
    local before = #others()
    local deadlock = wait_all(others(), broken, H)
    if deadlock then
      if cancelled_before and #others() == before then
        broken[#broken + 1] = "tasks did not end after being cancelled:\n" .. deadlock
        break
      end
      for _, t in ipairs(others()) do t:cancel() end
      cancelled_before = true
    end
  end
  if main:done() and not main:cancelled() then
    local ok, e = pcall(main.result, main)
    if not ok then note(e) end
  end
  for _, b in ipairs(H.finish()) do broken[#broken + 1] = b end
  return broken
end

return check
