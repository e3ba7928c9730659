-- W5 as_completed on Lua 5.4 + cqueues: N tasks sleeping spread over 0.2 s,
-- consumed in completion order; prints how many came.
-- Usage: lua5.4 w5_as_completed.lua [N]
local cqueues = require "cqueues"
local dir = (arg and arg[0] or ""):match("^(.*)/") or "."
local sync = dofile(dir .. "/sync.lua")
local N = tonumber(arg[1]) or 100000

local cq = cqueues.new()
cq:wrap(function()
  local tasks = sync.group(cq)
  for i = 1, N do tasks:spawn(cqueues.sleep, (i % 1000) / 1000 * 0.2) end
  local count = 0
  for _ in tasks:as_completed() do count = count + 1 end
  print("result=" .. count)
end)
assert(cq:loop())
