-- driver.lua -- runs generated programs inside asched and checks them
-- (tests/fuzz). Run by tests/fuzz/run, or by hand:
--   asched --virtual-time [--seed N] tests/fuzz/driver.lua FIRST COUNT
--     the programs of seeds FIRST .. FIRST+COUNT-1, one after another;
--   asched --virtual-time [--seed N] tests/fuzz/driver.lua --file PROGRAM.lua
--     one program as rendered (a minimised one, say).
-- Prints one line per program: "ok SEED" or "broken SEED: <invariant>" (a
-- line per broken invariant). The checks are in check.lua.
local here = debug.getinfo(1, "S").source:match("^@(.-)[^/]*$")
local gen = dofile(here .. "gen.lua")
local check = dofile(here .. "check.lua")

local function report(name, broken)
  if #broken == 0 then
    print("ok " .. name)
  else
    for _, b in ipairs(broken) do print("broken " .. name .. ": " .. b) end
  end
  io.stdout:flush()
end

if arg[1] == "--file" then
  local f = assert(io.open(arg[2]))
  local source = f:read("a")
  f:close()
  report(arg[2], check.run(asched, source, arg[2]))
else
  local first, count = assert(math.tointeger(tonumber(arg[1]))), assert(math.tointeger(tonumber(arg[2])))
  for seed = first, first + count - 1 do
    report(tostring(seed), check.run(asched, gen.render(gen.generate(gen.seeded(seed))), "program-" .. seed))
  end
end
