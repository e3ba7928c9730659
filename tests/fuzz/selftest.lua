-- selftest.lua -- proof that the fuzzer's checks can fail (tests/fuzz).
-- Each planted program breaks one invariant behind the harness's back, with
-- the raw API; the driver must report it. Run by ctest:
--   lua5.4 tests/fuzz/selftest.lua ASCHED
local asched_bin = assert(arg[1], "usage: selftest.lua ASCHED")
local here = arg[0]:match("^(.-)[^/]*$")

local PRELUDE = [[
local H, asched = ...
local S, L, Q = {H.semaphore(2)}, {H.lock()}, {H.queue("queue", 0)}
]]

-- name -> {program body, text the driver must print}
local PLANTED = {
  {"a permit kept", "local g = S[1]:acquire()", "semaphore 1: 1 of 2 permits free"},
  {"a lock kept", "local g = L[1]:acquire()", "lock 1 still held"},
  {"an item from nowhere", "Q[1].q:put(999) H.get(Q[1])", "an item never put"},
  {"an item lost", "H.put(Q[1], 1) Q[1].q:get()", "queue 1 (queue): 1 put, 0 got, 0 left"},
  {"an item twice", "H.put(Q[1], 1) Q[1].q:put(1) H.get(Q[1]) H.get(Q[1])", "gave item 1 twice"},
  {"a <close> that never ran", "local c = H.closer({act = 'nothing'})", "1 <close> handlers made, 0 ran"},
  {"an unexpected error", "H.try(function() asched.sleep('soon') end)", "unexpected error"},
  {"a task that ignores cancellation", [[
H.spawn(function() while true do pcall(asched.event().wait, asched.event()) end end)
asched.event():wait()]], "did not end after being cancelled"},
  {"a task_group that returned early", [[
local kids = {}
local real = asched.task_group
asched.task_group = function(fn) return real(function(tg) fn({spawn = function(_, f) return asched.spawn(f) end}) end) end
H.task_group({function() H.sleep(1) end}, function() end, false)
asched.task_group = real]], "task_group returned while its child"},
}

local failures = 0
for _, case in ipairs(PLANTED) do
  local name, body, expected = case[1], case[2], case[3]
  local path = os.tmpname()
  local f = assert(io.open(path, "w"))
  f:write(PRELUDE, body, "\n")
  f:close()
  local p = io.popen(string.format("%q --virtual-time %q --file %q 2>/dev/null", asched_bin, here .. "driver.lua", path))
  local out = p:read("a")
  p:close()
  os.remove(path)
  if out:find(expected, 1, true) then
    print("ok: " .. name .. " is reported")
  else
    failures = failures + 1
    print("FAILED: " .. name .. ": expected a report with " .. string.format("%q", expected) .. ", got:\n" .. out)
  end
end
os.exit(failures == 0 and 0 or 1)
