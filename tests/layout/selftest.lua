--[[
tests/layout/selftest.lua -- prove that check.lua catches planted violations.

Builds small fixture trees (the six layer folders with READMEs and a few tiny
.c/.h files) in a temporary directory, plants one kind of violation per case,
and checks what layout.check() reports. Also runs check.lua once as a
subprocess and checks its exit status. Prints one line per case and exits 1
if any case fails.

Usage: lua5.4 tests/layout/selftest.lua
]]

local here = (debug.getinfo(1, "S").source:match("^@(.*)/[^/]*$")) or "."
local checker = here .. "/check.lua"
local layout = assert(loadfile(checker))("--as-library")

local function shell_quote(s) return "'" .. s:gsub("'", "'\\''") .. "'" end

------------------------------------------------------------------------------
-- Fixtures
------------------------------------------------------------------------------

-- A clean tree: every layer uses only what it may, the Lua surface is in
-- bindings and host, an unknown header is ignored.
local BASE = {
  ["runtime/core/README.md"] = "# core\n",
  ["runtime/sync/README.md"] = "# sync\n",
  ["runtime/io/README.md"] = "# io\n",
  ["runtime/observe/README.md"] = "# observe\n",
  ["bindings/README.md"] = "# bindings\n",
  ["runtime/host/README.md"] = "# host\n",

  ["runtime/core/loop.h"] = "/* loop */\n#pragma once\n",
  ["runtime/core/loop.c"] = '/* loop */\n#include "loop.h"\n#include <uv.h>\n',
  ["runtime/core/task.h"] = '/* task */\n#pragma once\n#include "loop.h"\n',
  ["runtime/core/task.c"] = '/* task */\n#include "task.h"\n',
  ["runtime/sync/waitq.h"] = '/* waitq */\n#pragma once\n#include "task.h"\n',
  ["runtime/sync/waitq.c"] = '/* waitq */\n#include "waitq.h"\n',
  ["runtime/io/tcp.h"] = "/* tcp */\n#pragma once\n",
  ["runtime/io/tcp.c"] = '/* tcp */\n#include "tcp.h"\n#include "loop.h"\n',
  ["runtime/io/fs.h"] = "/* fs */\n#pragma once\n",
  ["runtime/io/fs.c"] = '\n\n  /* fs, after blank lines */\n#include "fs.h"\n',
  ["runtime/observe/trace.h"] = "/* trace */\n#pragma once\n",
  ["runtime/observe/trace.c"] = '/* trace */\n#include "trace.h"\n#include "task.h"\n',
  ["bindings/bindings.h"] = "/* bindings */\n#pragma once\n#include <lauxlib.h>\n",
  ["bindings/module.c"] = table.concat({
    "/* module */",
    '#include "bindings.h"',
    '#include "waitq.h"',
    '#include "tcp.h"',
    '#include "trace.h"',
    "static int f(lua_State *L) { return (int)luaL_checkinteger(L, 1); }",
    'static const luaL_Reg funcs[] = {{"f", f}, {NULL, NULL}};',
  }, "\n") .. "\n",
  ["runtime/host/main.c"] = table.concat({
    "/* main */",
    '#include "bindings.h"',
    '#include "loop.h"',
    '#include "version_generated.h"',
    "void g(lua_State *L) { luaL_checkstack(L, 2, NULL); }",
  }, "\n") .. "\n",
}

local tmp = os.tmpname()
os.remove(tmp)
assert(os.execute("mkdir -p " .. shell_quote(tmp)))
local fixture_count = 0

local function write(path, text)
  local f = assert(io.open(path, "wb"))
  f:write(text)
  f:close()
end

-- Create a fixture: BASE with `changes` applied (path -> text, or false to
-- delete). Returns its root directory.
local function fixture(changes)
  fixture_count = fixture_count + 1
  local root = string.format("%s/case%02d", tmp, fixture_count)
  local files = {}
  for path, text in pairs(BASE) do files[path] = text end
  for path, text in pairs(changes or {}) do files[path] = text or nil end
  local dirs = {}
  for path in pairs(files) do dirs[#dirs + 1] = shell_quote(root .. "/" .. path:match("^(.*)/")) end
  assert(os.execute("mkdir -p " .. table.concat(dirs, " ")))
  for path, text in pairs(files) do write(root .. "/" .. path, text) end
  return root
end

------------------------------------------------------------------------------
-- Assertions
------------------------------------------------------------------------------

local failures = 0

local function messages(violations)
  local out = {}
  for _, v in ipairs(violations) do out[#out + 1] = "      " .. v.message end
  return table.concat(out, "\n")
end

-- Run check() on a fixture; `expect` is the exact list of expected messages.
local function expect_messages(title, changes, expect, extra)
  local violations, stats = layout.check(fixture(changes))
  local ok = #violations == #expect
  for i, message in ipairs(expect) do
    ok = ok and violations[i] ~= nil and violations[i].message == message
  end
  local why
  if ok and extra then
    why = extra(violations, stats)
    ok = why == nil
  end
  if ok then
    print("ok   " .. title)
  else
    failures = failures + 1
    print("FAIL " .. title .. (why and (": " .. why) or ""))
    print("    expected:")
    for _, m in ipairs(expect) do print("      " .. m) end
    print("    got:")
    if #violations > 0 then print(messages(violations)) end
  end
end

local function expect_true(title, cond, detail)
  if cond then
    print("ok   " .. title)
  else
    failures = failures + 1
    print("FAIL " .. title .. (detail and (": " .. detail) or ""))
  end
end

------------------------------------------------------------------------------
-- Cases
------------------------------------------------------------------------------

local function run_cases()
  -- 1. clean tree
  expect_messages("1  clean fixture: no violations", nil, {}, function(_, stats)
    if stats.files ~= 15 then return "expected 15 files, got " .. stats.files end
    if stats.modules ~= 9 then return "expected 9 modules, got " .. stats.modules end
    if stats.edges ~= 16 then return "expected 16 include edges, got " .. stats.edges end
    if not (stats.deps["runtime/host/main"] or {})["bindings/bindings"] then
      return "host/main -> bindings/bindings edge missing"
    end
  end)

  -- 2. core includes an io header (upward)
  expect_messages("2  core/task.c includes io's tcp.h: forbidden", {
    ["runtime/core/task.c"] = '/* task */\n#include "task.h"\n#include "tcp.h"\n',
  }, {
    'layout: forbidden include: runtime/core/task.c includes "tcp.h" (runtime/io/tcp.h): core may include only core',
  }, function(v)
    if v[1].line ~= 3 or v[1].target ~= "runtime/io/tcp.h" then return "wrong line or target" end
  end)

  expect_messages("2b core/task.c includes \"../io/tcp.h\": forbidden", {
    ["runtime/core/task.c"] = '/* task */\n#  include   "../io/tcp.h"\n',
  }, {
    'layout: forbidden include: runtime/core/task.c includes "../io/tcp.h" (runtime/io/tcp.h): core may include only core',
  })

  expect_messages("2c includes in comments and <...> includes are ignored", {
    ["runtime/core/task.c"] = table.concat({
      "/* task",
      '#include "tcp.h"',
      "*/",
      '// #include "tcp.h"',
      '#include <tcp.h>',
      '#include "task.h" /* not "tcp.h" */',
    }, "\n") .. "\n",
  }, {})

  -- 3. sync includes an io header (sideways)
  expect_messages("3  sync/waitq.c includes io's fs.h: forbidden (sideways)", {
    ["runtime/sync/waitq.c"] = '/* waitq */\n#include "waitq.h"\n#include "fs.h"\n',
  }, {
    'layout: forbidden include: runtime/sync/waitq.c includes "fs.h" (runtime/io/fs.h): sync may include only sync, core',
  })

  expect_messages("3b io/tcp.c includes observe's trace.h: forbidden (sideways)", {
    ["runtime/io/tcp.c"] = '/* tcp */\n#include "tcp.h"\n#include "trace.h"\n',
  }, {
    'layout: forbidden include: runtime/io/tcp.c includes "trace.h" (runtime/observe/trace.h): io may include only io, core',
  })

  expect_messages("3c bindings includes host's header: forbidden", {
    ["runtime/host/host.h"] = "/* host */\n#pragma once\n",
    ["bindings/module.c"] = '/* module */\n#include "host.h"\n',
  }, {
    'layout: forbidden include: bindings/module.c includes "host.h" (runtime/host/host.h): bindings may include only bindings, sync, io, observe, core',
  })

  -- 4. two-module cycle
  expect_messages("4  cycle core/loop <-> core/task", {
    ["runtime/core/loop.c"] = '/* loop */\n#include "loop.h"\n#include "task.h"\n',
  }, {
    'layout: include cycle: runtime/core/loop -> runtime/core/task -> runtime/core/loop'
      .. ' (loop.c includes "task.h", task.h includes "loop.h")',
  }, function(v)
    local chain = table.concat(v[1].chain, " ")
    if chain ~= "runtime/core/loop runtime/core/task runtime/core/loop" then return "chain " .. chain end
  end)

  -- 5. three-module cycle
  expect_messages("5  cycle core/a -> core/b -> core/c -> core/a", {
    ["runtime/core/a.h"] = "/* a */\n",
    ["runtime/core/b.h"] = "/* b */\n",
    ["runtime/core/c.h"] = "/* c */\n",
    ["runtime/core/a.c"] = '/* a */\n#include "a.h"\n#include "b.h"\n',
    ["runtime/core/b.c"] = '/* b */\n#include "c.h"\n',
    ["runtime/core/c.c"] = '/* c */\n#include "a.h"\n',
  }, {
    'layout: include cycle: runtime/core/a -> runtime/core/b -> runtime/core/c -> runtime/core/a'
      .. ' (a.c includes "b.h", b.c includes "c.h", c.c includes "a.h")',
  })

  expect_messages("5b two cycles in one component are both reported", {
    ["runtime/core/loop.c"] = '/* loop */\n#include "task.h"\n#include "timer.h"\n',
    ["runtime/core/timer.h"] = "/* timer */\n",
    ["runtime/core/timer.c"] = '/* timer */\n#include "loop.h"\n',
  }, {
    'layout: include cycle: runtime/core/loop -> runtime/core/task -> runtime/core/loop'
      .. ' (loop.c includes "task.h", task.h includes "loop.h")',
    'layout: include cycle: runtime/core/loop -> runtime/core/timer -> runtime/core/loop'
      .. ' (loop.c includes "timer.h", timer.c includes "loop.h")',
  })

  -- 6. Lua surface outside bindings/host
  expect_messages("6  luaL_checkinteger in runtime/sync/x.c: reported with its line", {
    ["runtime/sync/x.c"] = '/* x */\n#include "waitq.h"\nint x(lua_State *L) { return (int)luaL_checkinteger(L, 1); }\n',
  }, {
    "layout: Lua surface outside bindings: runtime/sync/x.c:3 uses luaL_checkinteger",
  }, function(v)
    if v[1].line ~= 3 then return "line " .. tostring(v[1].line) end
  end)

  expect_messages("6b luaL_* only in comments and literals: no violation", {
    ["runtime/sync/x.c"] = table.concat({
      "/* x: calls luaL_checkinteger(L, 1) */",
      "// luaL_checkinteger(L, 1)",
      "/* spans",
      "   lines: luaL_optstring, luaL_Reg */",
      'static const char *s = "luaL_checkinteger(L, 1)";',
      "static const char q = '\"'; /* a quote char */",
      'static const char *t = "escaped \\" luaL_argerror // not a comment";',
      "int my_luaL_checkinteger; /* not a whole identifier */",
      "void open(lua_State *L) { luaL_openlibs(L); } /* not luaL_opt* */",
    }, "\n") .. "\n",
  }, {})

  expect_messages("6c luaL_checkinteger in bindings/x.c: no violation", {
    ["bindings/x.c"] = '/* x */\nint x(lua_State *L) { return (int)luaL_checkinteger(L, 1); }\n',
  }, {})

  expect_messages("6d luaL_Reg / luaL_argcheck / luaL_optstring elsewhere: reported", {
    ["runtime/observe/trace.c"] = table.concat({
      "/* trace */",
      'static const luaL_Reg m[] = {{NULL, NULL}}; /* luaL_Reg */',
      "void a(lua_State *L) { luaL_argcheck(L, 1, 1, \"luaL_checkint\"); luaL_optstring(L, 2, NULL); }",
    }, "\n") .. "\n",
  }, {
    "layout: Lua surface outside bindings: runtime/observe/trace.c:2 uses luaL_Reg",
    "layout: Lua surface outside bindings: runtime/observe/trace.c:3 uses luaL_argcheck",
    "layout: Lua surface outside bindings: runtime/observe/trace.c:3 uses luaL_optstring",
  })

  -- 7. README and header comment
  expect_messages("7  missing README and file without header comment", {
    ["runtime/observe/README.md"] = false,
    ["runtime/io/fs.c"] = '#include "fs.h"\n/* too late */\n',
  }, {
    "layout: missing README.md in runtime/observe",
    "layout: no header comment: runtime/io/fs.c",
  })

  expect_messages("7b header comment must be /* (not //), empty file has none", {
    ["runtime/io/fs.c"] = '// fs\n#include "fs.h"\n',
    ["runtime/io/empty.h"] = "",
  }, {
    "layout: no header comment: runtime/io/empty.h",
    "layout: no header comment: runtime/io/fs.c",
  })

  -- 8. files outside the layers
  expect_messages("8  files directly in runtime/ or in an unknown folder", {
    ["runtime/stray.c"] = "/* stray */\n",
    ["runtime/misc/helper.h"] = "/* helper */\n",
  }, {
    "layout: file outside the layers: runtime/misc/helper.h",
    "layout: file outside the layers: runtime/stray.c",
  })

  -- 9. same basename in bindings and io: resolves to io, no cycle
  expect_messages("9  bindings/fs.c includes \"fs.h\" (only runtime/io/fs.h): allowed", {
    ["bindings/fs.c"] = '/* fs binding */\n#include "fs.h"\n#include "bindings.h"\n',
  }, {}, function(_, stats)
    if not (stats.deps["bindings/fs"] or {})["runtime/io/fs"] then
      return "edge bindings/fs -> runtime/io/fs missing"
    end
    if (stats.deps["runtime/io/fs"] or {})["bindings/fs"] then
      return "unexpected edge runtime/io/fs -> bindings/fs"
    end
  end)

  expect_messages("9b own folder wins: core header shadows io header of the same name", {
    ["runtime/core/tcp.h"] = "/* core tcp */\n",
    ["runtime/core/task.c"] = '/* task */\n#include "task.h"\n#include "tcp.h"\n',
  }, {}, function(_, stats)
    if not (stats.deps["runtime/core/task"] or {})["runtime/core/tcp"] then
      return "edge runtime/core/task -> runtime/core/tcp missing"
    end
  end)

  -- 10. the command line
  local lua = arg and arg[-1] or "lua5.4"
  local function run_cli(root)
    local cmd = shell_quote(lua) .. " " .. shell_quote(checker) .. " " .. shell_quote(root)
    local pipe = assert(io.popen(cmd .. " 2>&1"))
    local output = pipe:read("a")
    pipe:close()
    local ok, how, code = os.execute(cmd .. " >/dev/null 2>&1")
    return ok, how, code, output
  end

  local bad = fixture { ["runtime/core/task.c"] = '/* task */\n#include "tcp.h"\n' }
  local ok, how, code, output = run_cli(bad)
  expect_true("10 CLI on a violating fixture exits 1",
    ok == nil and how == "exit" and code == 1
      and output:find('forbidden include: runtime/core/task.c includes "tcp.h"', 1, true)
      and output:find("layout: 1 violation(s)\n", 1, true),
    string.format("status %s %s %s, output:\n%s", tostring(ok), tostring(how), tostring(code), output))

  ok, how, code, output = run_cli(fixture())
  expect_true("10b CLI on a clean fixture exits 0",
    ok == true and how == "exit" and code == 0
      and output == "layout: ok (15 files, 9 modules, 16 include edges)\n",
    string.format("status %s %s %s, output:\n%s", tostring(ok), tostring(how), tostring(code), output))
end

local ok, err = pcall(run_cases)
os.execute("rm -rf " .. shell_quote(tmp))
if not ok then
  print("FAIL selftest crashed: " .. tostring(err))
  os.exit(1)
end
if failures > 0 then
  print(string.format("selftest: %d case(s) failed", failures))
  os.exit(1)
end
print("selftest: all cases passed")
