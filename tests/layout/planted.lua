-- planted.lua -- the layout check fails on the real tree once a violation is
-- planted in it: a copy of runtime/ and bindings/ gets, one at a time, an
-- upward include (core including an io header), a sideways one (sync
-- including observe), an include cycle in the core, and a luaL_check call in
-- sync; each copy must fail with the chain named. The untouched copy passes.
--   lua5.4 tests/layout/planted.lua [ROOT]
local here = arg[0]:match("^(.*)/[^/]*$") or "."
local root = arg[1] or (here .. "/../..")
local layout = loadfile(here .. "/check.lua")("--as-library")

local function sh(cmd)
  local ok = os.execute(cmd)
  assert(ok, "failed: " .. cmd)
end

local function copy_tree()
  local dir = os.tmpname()
  os.remove(dir)
  sh(string.format("mkdir -p %s && cp -r %s/runtime %s/bindings %s/", dir, root, root, dir))
  return dir
end

-- Appends `line` after the first #include of `file` in the copy.
local function plant(dir, file, line)
  local path = dir .. "/" .. file
  local f = assert(io.open(path))
  local text = f:read("a")
  f:close()
  local planted, n = text:gsub('(#include "[^"]+"\n)', "%1" .. line .. "\n", 1)
  assert(n == 1, "no #include in " .. file)
  f = assert(io.open(path, "w"))
  f:write(planted)
  f:close()
end

local cases = {
  {"an upward include (core -> io)", "runtime/core/task.c", '#include "tcp.h"',
   'forbidden include: runtime/core/task.c includes "tcp.h" (runtime/io/tcp.h)'},
  {"a sideways include (sync -> observe)", "runtime/sync/waitq.c", '#include "timeline.h"',
   'forbidden include: runtime/sync/waitq.c includes "timeline.h" (runtime/observe/timeline.h)'},
  {"an include cycle (loop -> task -> loop)", "runtime/core/loop.c", '#include "task.h"',
   "include cycle: runtime/core/loop -> runtime/core/task -> runtime/core/loop"},
  {"the Lua surface in sync", "runtime/sync/event.c", "static int f(lua_State *L) { return (int)luaL_checkinteger(L, 1); }",
   "Lua surface outside bindings: runtime/sync/event.c"},
}

local failures = 0
local function report(ok, what)
  print((ok and "ok   " or "FAIL ") .. what)
  if not ok then failures = failures + 1 end
end

local clean = copy_tree()
report(#layout.check(clean) == 0, "the untouched tree passes")
sh("rm -rf " .. clean)

for _, case in ipairs(cases) do
  local what, file, line, expected = table.unpack(case)
  local dir = copy_tree()
  plant(dir, file, line)
  local found = false
  for _, v in ipairs(layout.check(dir)) do
    if v.message:find(expected, 1, true) then found = true end
  end
  report(found, what .. " is caught: " .. expected)
  sh("rm -rf " .. dir)
end

os.exit(failures == 0 and 0 or 1)
