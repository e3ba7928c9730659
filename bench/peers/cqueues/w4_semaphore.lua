-- W4 semaphore pool on Lua 5.4 + cqueues: N tasks each acquire a
-- semaphore(100), sleep(0) and release; all gathered; prints how many ran.
-- Usage: lua5.4 w4_semaphore.lua [N]
local cqueues = require "cqueues"
local dir = (arg and arg[0] or ""):match("^(.*)/") or "."
local sync = dofile(dir .. "/sync.lua")
local N = tonumber(arg[1]) or 1000000
local pool = sync.semaphore(100)
local done = 0

local function worker()
  local permit <close> = pool:acquire()
  cqueues.sleep(0)
  done = done + 1
end

local cq = cqueues.new()
cq:wrap(function()
  local tasks = sync.group(cq)
  for _ = 1, N do tasks:spawn(worker) end
  tasks:wait()
  print("result=" .. done)
end)
assert(cq:loop())
