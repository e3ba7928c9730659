-- W6 wait_for on Lua 5.4 + cqueues: N tasks, even ones sleep 0.1 s and odd
-- ones 0.3 s, each under a 0.2 s wait_for; prints how many timed out (N / 2).
-- The sleep polls with the deadline as its timeout (see sync.lua).
-- Usage: lua5.4 w6_wait_for.lua [N]
local cqueues = require "cqueues"
local dir = (arg and arg[0] or ""):match("^(.*)/") or "."
local sync = dofile(dir .. "/sync.lua")
local N = tonumber(arg[1]) or 100000

local function bounded(i)
  local seconds = i % 2 == 0 and 0.1 or 0.3
  local ok = pcall(sync.wait_for, function() sync.sleep(seconds) end, 0.2)
  return ok and 0 or 1
end

local cq = cqueues.new()
cq:wrap(function()
  local tasks = sync.group(cq)
  for i = 1, N do tasks:spawn(bounded, i) end
  local results = tasks:wait()
  local timeouts = 0
  for i = 1, results.n do timeouts = timeouts + results[i] end
  print("result=" .. timeouts)
end)
assert(cq:loop())
