-- W1 sleepers on Lua 5.4 + cqueues: N tasks, task i sleeps ((i % 1000) / 1000) * 0.5 s
-- and returns i; all gathered; prints the sum. Usage: lua5.4 w1_sleepers.lua [N]
local cqueues = require "cqueues"
local dir = (arg and arg[0] or ""):match("^(.*)/") or "."
local sync = dofile(dir .. "/sync.lua")
local N = tonumber(arg[1]) or 1000000

local function sleeper(i)
  cqueues.sleep(((i % 1000) / 1000) * 0.5)
  return i
end

local cq = cqueues.new()
cq:wrap(function()
  local tasks = sync.group(cq)
  for i = 1, N do tasks:spawn(sleeper, i) end
  local results = tasks:wait()
  local sum = 0
  for i = 1, results.n do sum = sum + results[i] end
  print("result=" .. sum)
end)
assert(cq:loop())
