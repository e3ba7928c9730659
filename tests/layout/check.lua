--[[
tests/layout/check.lua -- enforce the layering rules of the asched C sources.

Layers (folder, layer name, what a file of the layer may include):

  runtime/core      core      core
  runtime/sync      sync      sync, core
  runtime/io        io        io, core
  runtime/observe   observe   observe, core
  bindings          bindings  bindings, sync, io, observe, core
  runtime/host      host      host, bindings, sync, io, observe, core

sync, io and observe never include each other. A file belongs to the layer
whose folder contains it (subfolders included). Any other .c/.h file under
runtime/ is reported as "file outside the layers".

Rule A  Every quoted #include (outside comments) is resolved the way the
        compiler would with per-layer include paths: the including file's own
        directory first, then the folders of the layers it may depend on, in
        the order above. Relative names ("../io/tcp.h") are resolved against
        each of those directories too. The first existing file wins; if it
        lies in a layer the includer may not depend on, or if the name is only
        found in some other layer's folder, that is a "forbidden include".
        Names found nowhere in the tree (generated or system headers) and
        <...> includes are ignored.
Rule B  No include cycles between modules. A module is folder + basename
        without extension (runtime/core/task.c and .h are runtime/core/task).
        For every strongly connected component of the module graph, the
        shortest cycle through each of its modules is reported (duplicates
        removed), with the file-level evidence of each edge.
Rule C  The Lua surface lives in bindings/ and runtime/host/ only: elsewhere
        no .c/.h file may use luaL_Reg or an identifier starting with
        luaL_check, luaL_opt or luaL_arg in code (comments and string/char
        literals are ignored).
Rule D  Each of the six layer folders has a README.md, and every .c/.h file
        starts (first non-blank line) with a /* comment.

Usage:
  lua5.4 tests/layout/check.lua [ROOT]     ROOT defaults to the project root
      exit 0: prints "layout: ok (N files, M modules, K include edges)"
      exit 1: prints every violation, then "layout: N violation(s)"
      exit 2: ROOT is not a directory
  As a library (used by selftest.lua):
      local layout = loadfile("tests/layout/check.lua")("--as-library")
      local violations, stats = layout.check(root)
  Each violation is a table with at least `kind` and `message` (the printed
  line); stats has `files`, `modules`, `edges` and `deps` (module graph:
  deps[a][b] = evidence string).

Standard library only; files are listed with `find` through io.popen.
]]

local M = {}

M.LAYERS = {
  { name = "core",     dir = "runtime/core",    may = { "core" } },
  { name = "sync",     dir = "runtime/sync",    may = { "sync", "core" } },
  { name = "io",       dir = "runtime/io",      may = { "io", "core" } },
  { name = "observe",  dir = "runtime/observe", may = { "observe", "core" } },
  { name = "bindings", dir = "bindings",        may = { "bindings", "sync", "io", "observe", "core" } },
  { name = "host",     dir = "runtime/host",    may = { "host", "bindings", "sync", "io", "observe", "core" } },
}

local LAYER_BY_NAME = {}
for _, layer in ipairs(M.LAYERS) do
  LAYER_BY_NAME[layer.name] = layer
  layer.allowed = {}
  for _, name in ipairs(layer.may) do layer.allowed[name] = true end
end

-- Layers whose files may use the Lua auxiliary-library surface (Rule C).
local LUA_SURFACE_LAYERS = { bindings = true, host = true }

------------------------------------------------------------------------------
-- Small helpers
------------------------------------------------------------------------------

local function shell_quote(s)
  return "'" .. s:gsub("'", "'\\''") .. "'"
end

local function dirname(path) return path:match("^(.*)/[^/]*$") or "." end
local function basename(path) return path:match("([^/]*)$") end
local function module_of(path) return (path:gsub("%.[^./]*$", "")) end

local function sorted_keys(t)
  local keys = {}
  for k in pairs(t) do keys[#keys + 1] = k end
  table.sort(keys)
  return keys
end

-- Collapse "." and ".." segments; nil when the path climbs above the root.
local function normalize(path)
  local parts = {}
  for seg in path:gmatch("[^/]+") do
    if seg == ".." then
      if #parts == 0 then return nil end
      parts[#parts] = nil
    elseif seg ~= "." then
      parts[#parts + 1] = seg
    end
  end
  return table.concat(parts, "/")
end

local function layer_of(path)
  for _, layer in ipairs(M.LAYERS) do
    if path:sub(1, #layer.dir + 1) == layer.dir .. "/" then return layer end
  end
  return nil
end

local function read_file(path)
  local f = assert(io.open(path, "rb"))
  local text = f:read("a")
  f:close()
  return text
end

local function file_exists(path)
  local f = io.open(path, "rb")
  if f then f:close() end
  return f ~= nil
end

local function lines_of(text)
  local lines = {}
  for line in (text .. "\n"):gmatch("([^\n]*)\n") do lines[#lines + 1] = line end
  return lines
end

-- All .c/.h files under runtime/ and bindings/, relative to root, sorted.
local function list_sources(root)
  local cmd = "cd " .. shell_quote(root) ..
      " && find runtime bindings -type f \\( -name '*.c' -o -name '*.h' \\) 2>/dev/null"
  local pipe = assert(io.popen(cmd))
  local files = {}
  for line in pipe:lines() do files[#files + 1] = line end
  pipe:close()
  table.sort(files)
  return files
end

------------------------------------------------------------------------------
-- C lexing: strip comments (and optionally literals), keeping line numbers
------------------------------------------------------------------------------

local function blank(s) return (s:gsub("[^\n]", " ")) end

-- End index of the // comment starting at i (a backslash-newline continues it).
local function line_comment_end(src, i)
  local pos = i
  while true do
    local nl = src:find("\n", pos, true)
    if not nl then return #src end
    if src:sub(nl - 1, nl - 1) ~= "\\" then return nl - 1 end
    pos = nl + 1
  end
end

-- End index of the string/char literal opened by the quote at i. An
-- unterminated literal stops before the end of its line.
local function literal_end(src, i)
  local quote, j = src:sub(i, i), i + 1
  while j <= #src do
    local c = src:sub(j, j)
    if c == "\\" then
      j = j + 2
    elseif c == quote then
      return j
    elseif c == "\n" then
      return j - 1
    else
      j = j + 1
    end
  end
  return #src
end

-- Replace comments by spaces (newlines kept, so line numbers stay valid).
-- With blank_literals, the contents of string and char literals are blanked
-- too.
function M.strip_c(src, blank_literals)
  local out, i = {}, 1
  while i <= #src do
    local j = src:find("[/\"']", i)
    if not j then
      out[#out + 1] = src:sub(i)
      break
    end
    out[#out + 1] = src:sub(i, j - 1)
    local c, nextc = src:sub(j, j), src:sub(j + 1, j + 1)
    local e
    if c == "/" and nextc == "*" then
      local close = src:find("*/", j + 2, true)
      e = close and close + 1 or #src
      out[#out + 1] = blank(src:sub(j, e))
    elseif c == "/" and nextc == "/" then
      e = line_comment_end(src, j)
      out[#out + 1] = blank(src:sub(j, e))
    elseif c == "/" then
      e = j
      out[#out + 1] = c
    else
      e = literal_end(src, j)
      local literal = src:sub(j, e)
      out[#out + 1] = blank_literals and (c .. blank(literal:sub(2))) or literal
    end
    i = e + 1
  end
  return table.concat(out)
end

-- Quoted includes of a source text: list of { name = "x.h", line = n }.
function M.parse_includes(src)
  local includes = {}
  for lineno, line in ipairs(lines_of(M.strip_c(src, false))) do
    local name = line:match('^%s*#%s*include%s*"([^"]+)"')
    if name then includes[#includes + 1] = { name = name, line = lineno } end
  end
  return includes
end

local function is_lua_surface(ident)
  return ident == "luaL_Reg"
      or ident:sub(1, 10) == "luaL_check"
      or ident:sub(1, 8) == "luaL_opt"
      or ident:sub(1, 8) == "luaL_arg"
end

-- Lua-surface identifiers used in code: list of { ident = ..., line = n }.
function M.find_lua_surface(src)
  local hits = {}
  for lineno, line in ipairs(lines_of(M.strip_c(src, true))) do
    local seen = {}
    for ident in line:gmatch("%f[%w_](luaL_[%w_]*)") do
      if is_lua_surface(ident) and not seen[ident] then
        seen[ident] = true
        hits[#hits + 1] = { ident = ident, line = lineno }
      end
    end
  end
  return hits
end

function M.has_header_comment(src)
  src = src:gsub("^\239\187\191", "") -- UTF-8 byte order mark
  for _, line in ipairs(lines_of(src)) do
    if line:match("%S") then return line:match("^%s*/%*") ~= nil end
  end
  return false
end

------------------------------------------------------------------------------
-- Rule A: include resolution
------------------------------------------------------------------------------

-- Resolve a quoted include of `file` (in `layer`). Returns the path of the
-- file the compiler would pick (or that exists only in a forbidden folder),
-- or nil if the name matches no source file of the tree.
local function resolve_include(exists, file, layer, name)
  local dirs = { dirname(file) }
  for _, lname in ipairs(layer.may) do dirs[#dirs + 1] = LAYER_BY_NAME[lname].dir end
  for _, other in ipairs(M.LAYERS) do
    if not layer.allowed[other.name] then dirs[#dirs + 1] = other.dir end
  end
  for _, dir in ipairs(dirs) do
    local path = normalize(dir .. "/" .. name)
    if path and exists[path] then return path end
  end
  return nil
end

local function may_include(layer, target)
  local target_layer = layer_of(target)
  return target_layer ~= nil and layer.allowed[target_layer.name] == true
end

------------------------------------------------------------------------------
-- Rule B: cycles in the module graph
------------------------------------------------------------------------------

-- Tarjan's algorithm; returns comp[module] = component id and the components
-- (each a sorted list of modules).
local function strongly_connected(modules, deps)
  local index, low, on_stack, stack, comp = {}, {}, {}, {}, {}
  local components, counter = {}, 0

  local function visit(v)
    counter = counter + 1
    index[v], low[v] = counter, counter
    stack[#stack + 1], on_stack[v] = v, true
    for _, w in ipairs(sorted_keys(deps[v] or {})) do
      if not index[w] then
        visit(w)
        low[v] = math.min(low[v], low[w])
      elseif on_stack[w] then
        low[v] = math.min(low[v], index[w])
      end
    end
    if low[v] == index[v] then
      local members = {}
      repeat
        local w = table.remove(stack)
        on_stack[w] = nil
        comp[w] = #components + 1
        members[#members + 1] = w
      until w == v
      table.sort(members)
      components[#components + 1] = members
    end
  end

  for _, v in ipairs(modules) do
    if not index[v] then visit(v) end
  end
  return comp, components
end

-- Shortest cycle s -> ... -> s staying inside s's component (BFS).
local function shortest_cycle(deps, comp, s)
  local parent, queue, head = { [s] = false }, { s }, 1
  while head <= #queue do
    local u = queue[head]
    head = head + 1
    for _, v in ipairs(sorted_keys(deps[u] or {})) do
      if v == s then
        local chain, x = {}, u
        while x do
          table.insert(chain, 1, x)
          x = parent[x]
        end
        return chain -- without the closing s
      end
      if comp[v] == comp[s] and parent[v] == nil then
        parent[v] = u
        queue[#queue + 1] = v
      end
    end
  end
  return nil
end

-- Rotate a cycle so that its smallest module comes first.
local function canonical(chain)
  local best = 1
  for i = 2, #chain do
    if chain[i] < chain[best] then best = i end
  end
  local out = {}
  for i = 0, #chain - 1 do out[#out + 1] = chain[(best - 1 + i) % #chain + 1] end
  return out
end

local function find_cycles(modules, deps)
  local comp, components = strongly_connected(modules, deps)
  local cycles, seen = {}, {}
  for _, members in ipairs(components) do
    if #members > 1 then
      for _, s in ipairs(members) do
        local chain = canonical(shortest_cycle(deps, comp, s))
        local key = table.concat(chain, " ")
        if not seen[key] then
          seen[key] = true
          cycles[#cycles + 1] = chain
        end
      end
    end
  end
  table.sort(cycles, function(a, b) return table.concat(a, " ") < table.concat(b, " ") end)
  return cycles
end

------------------------------------------------------------------------------
-- The checker
------------------------------------------------------------------------------

function M.check(root)
  local violations = {}
  local function report(v) violations[#violations + 1] = v end

  local files = list_sources(root)
  local exists, sources = {}, {}
  for _, file in ipairs(files) do
    exists[file] = true
    sources[file] = read_file(root .. "/" .. file)
  end

  -- Rule D: READMEs
  for _, layer in ipairs(M.LAYERS) do
    if not file_exists(root .. "/" .. layer.dir .. "/README.md") then
      report { kind = "missing README", file = layer.dir,
               message = "layout: missing README.md in " .. layer.dir }
    end
  end

  -- Files outside the layers
  for _, file in ipairs(files) do
    if not layer_of(file) then
      report { kind = "file outside the layers", file = file,
               message = "layout: file outside the layers: " .. file }
    end
  end

  -- Rule D: header comments
  for _, file in ipairs(files) do
    if not M.has_header_comment(sources[file]) then
      report { kind = "no header comment", file = file,
               message = "layout: no header comment: " .. file }
    end
  end

  -- Rule A: include resolution; builds the file and module graphs
  local deps, modules, module_set, edge_set, edge_count = {}, {}, {}, {}, 0
  for _, file in ipairs(files) do
    local layer = layer_of(file)
    if layer then
      local mod = module_of(file)
      if not module_set[mod] then
        module_set[mod] = true
        modules[#modules + 1] = mod
      end
      for _, inc in ipairs(M.parse_includes(sources[file])) do
        local target = resolve_include(exists, file, layer, inc.name)
        if target and not may_include(layer, target) then
          report { kind = "forbidden include", file = file, line = inc.line, target = target,
                   message = string.format('layout: forbidden include: %s includes "%s" (%s): %s may include only %s',
                     file, inc.name, target, layer.name, table.concat(layer.may, ", ")) }
        elseif target then
          if not edge_set[file .. "\0" .. target] then
            edge_set[file .. "\0" .. target] = true
            edge_count = edge_count + 1
          end
          local to = module_of(target)
          if to ~= mod then
            deps[mod] = deps[mod] or {}
            deps[mod][to] = deps[mod][to] or string.format('%s includes "%s"', basename(file), inc.name)
          end
        end
      end
    end
  end

  -- Rule C: Lua surface
  for _, file in ipairs(files) do
    local layer = layer_of(file)
    if not (layer and LUA_SURFACE_LAYERS[layer.name]) then
      for _, hit in ipairs(M.find_lua_surface(sources[file])) do
        report { kind = "Lua surface outside bindings", file = file, line = hit.line, ident = hit.ident,
                 message = string.format("layout: Lua surface outside bindings: %s:%d uses %s",
                   file, hit.line, hit.ident) }
      end
    end
  end

  -- Rule B: include cycles
  for _, chain in ipairs(find_cycles(modules, deps)) do
    local evidence = {}
    for i, from in ipairs(chain) do
      evidence[#evidence + 1] = deps[from][chain[i % #chain + 1]]
    end
    local closed = { table.unpack(chain) }
    closed[#closed + 1] = chain[1]
    report { kind = "include cycle", chain = closed,
             message = string.format("layout: include cycle: %s (%s)",
               table.concat(closed, " -> "), table.concat(evidence, ", ")) }
  end

  local stats = { files = #files, modules = #modules, edges = edge_count, deps = deps }
  return violations, stats
end

------------------------------------------------------------------------------
-- Command line
------------------------------------------------------------------------------

local function default_root()
  local source = debug.getinfo(1, "S").source
  local script = source:sub(1, 1) == "@" and source:sub(2) or "tests/layout/check.lua"
  local dir = script:match("^(.*)/[^/]*$") or "."
  return dir .. "/../.."
end

local function main(args)
  local root = args[1] or default_root()
  if not os.execute("test -d " .. shell_quote(root)) then
    io.stderr:write("layout: not a directory: " .. root .. "\n")
    return 2
  end
  local violations, stats = M.check(root)
  for _, v in ipairs(violations) do print(v.message) end
  if #violations == 0 then
    print(string.format("layout: ok (%d files, %d modules, %d include edges)",
      stats.files, stats.modules, stats.edges))
    return 0
  end
  print(string.format("layout: %d violation(s)", #violations))
  return 1
end

local args = { ... }
if args[1] == "--as-library" then return M end
os.exit(main(args))
