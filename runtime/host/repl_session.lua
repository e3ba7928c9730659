-- repl_session.lua -- the REPL's session scope (run by repl.c, handed to
-- repl.lua): top-level locals that last the session, as in Python's and
-- Node's REPLs. Compiled into the program. Called with the globals table;
-- returns the session: env (every input's environment), load(code) (an
-- input's chunk), lookup(name) (a name's value as an input sees it, running
-- no code) and names() (the session's own names).
--
-- Each input is a chunk of its own, so a plain `local q = ...` would be gone
-- by the next input. Before loading, the chunk's top-level local statements
-- are rewritten into assignments to session variables, which every input's
-- environment (`session_env`) sees before the globals:
--   local a, b <const> = f()   ->  __asched_local.a, __asched_const.b = f()
--   local function g() end     ->  __asched_local.g = function() end
-- An assignment adjusts its values as the local statement would, and runs
-- after its expressions (so `local x = x + 1` reads the old x). The rewrite
-- keeps the line count, so errors name the lines typed. Left local: locals
-- inside functions and blocks, top-level `<close>` locals, which must close
-- at the end of their input, and all of a chunk that names `_ENV`. A later
-- top-level `local x` rebinds the session's x, also for functions that used
-- the earlier one.

local globals = ...
local session_values, session_kinds = {}, {}   -- name -> value, "local" | "const"

local function declarer(kind)
  return setmetatable({}, {__newindex = function(_, name, value)
    session_kinds[name], session_values[name] = kind, value
  end})
end
local declare = {local_ = declarer("local"), const = declarer("const")}

local session_env = setmetatable({}, {
  __index = function(_, name)
    if session_kinds[name] then return session_values[name] end
    if name == "__asched_local" then return declare.local_ end
    if name == "__asched_const" then return declare.const end
    return globals[name]
  end,
  __newindex = function(_, name, value)
    local kind = session_kinds[name]
    if kind == "const" then error("attempt to assign to const variable '" .. tostring(name) .. "'", 2) end
    if kind then session_values[name] = value else globals[name] = value end
  end,
})

-- The tokens of Lua source that matter for finding statements: names (and
-- keywords) and punctuation, each {text, first, last}; strings, long
-- strings, comments and numbers are skipped whole.
local function tokens(code)
  local list, i, n = {}, 1, #code
  local function long_bracket_end(at)     -- `at` is on the opening "["
    local level = code:match("^%[(=*)%[", at)
    if not level then return nil end
    local _, close = code:find("]" .. level .. "]", at, true)
    return close or n
  end
  while i <= n do
    local c = code:sub(i, i)
    if c:match("%s") then
      i = code:find("%S", i) or n + 1
    elseif code:sub(i, i + 1) == "--" then
      i = (code:sub(i + 2, i + 2) == "[" and long_bracket_end(i + 2)
           or code:find("\n", i, true) or n) + 1
    elseif c == "[" and long_bracket_end(i) then
      i = long_bracket_end(i) + 1
    elseif c == "'" or c == '"' then
      local j = i + 1
      while j <= n do
        local d = code:sub(j, j)
        if d == "\\" then j = j + 1
        elseif d == c or d == "\n" then break end
        j = j + 1
      end
      i = j + 1
    elseif c:match("[%a_]") then
      local last = select(2, code:find("^[%w_]*", i + 1))
      list[#list + 1] = {code:sub(i, last), i, last}
      i = last + 1
    elseif c:match("%d") or (c == "." and code:sub(i + 1, i + 1):match("%d")) then
      local j = i
      repeat
        j = select(2, code:find("^[%w_.]*", j + 1))
        local sign = code:sub(j, j):match("[eEpP]") and code:sub(j + 1, j + 1):match("[+-]")
        if sign then j = j + 1 end
      until not sign
      i = j + 1
    else
      list[#list + 1] = {c, i, i}
      i = i + 1
    end
  end
  return list
end

local opens = {["function"] = true, ["do"] = true, ["if"] = true, ["repeat"] = true}
local closes = {["end"] = true, ["until"] = true}

-- The text of code[first..last] reduced to its line breaks.
local function newlines(code, first, last)
  return (code:sub(first, last):gsub("[^\n]", ""))
end

-- One top-level local statement starting at token k: its replacement
-- {first, last, text}, or nil to leave it be (`<close>`, or not a
-- well-formed statement: then Lua reports the error).
local function rewrite_local(code, list, k)
  local start = list[k][2]
  local t = list[k + 1]
  if t and t[1] == "function" then
    local name = list[k + 2]
    if not name or not name[1]:match("^[%a_][%w_]*$") then return nil end
    return {start, name[3], "__asched_local." .. name[1] .. " = function" .. newlines(code, start, name[3])}
  end
  local targets, j, last = {}, k + 1, nil
  while true do
    local name = list[j]
    if not name or not name[1]:match("^[%a_][%w_]*$") then return nil end
    local kind = "local"
    last = name[3]
    j = j + 1
    if list[j] and list[j][1] == "<" then
      local attrib, close = list[j + 1], list[j + 2]
      if not attrib or attrib[1] ~= "const" or not close or close[1] ~= ">" then return nil end
      kind, last, j = "const", close[3], j + 3
    end
    targets[#targets + 1] = "__asched_" .. kind .. "." .. name[1]
    if not list[j] or list[j][1] ~= "," then break end
    j = j + 1
  end
  local text = table.concat(targets, ", ")
  if not list[j] or list[j][1] ~= "=" then text = text .. " = nil" end
  return {start, last, text .. newlines(code, start, last)}
end

-- `code` with its top-level local statements made session variables (above).
local function persist_locals(code)
  local list, depth, edits = tokens(code), 0, {}
  for k, t in ipairs(list) do
    local word = t[1]
    if word == "_ENV" then
      return code   -- code that handles its environment itself is left alone
    elseif opens[word] then
      depth = depth + 1
    elseif closes[word] then
      depth = depth - 1
    elseif word == "local" and depth == 0 then
      edits[#edits + 1] = rewrite_local(code, list, k)
    end
  end
  for e = #edits, 1, -1 do
    local first, last, text = table.unpack(edits[e])
    code = code:sub(1, first - 1) .. text .. code:sub(last + 1)
  end
  return code
end

-- Loads a complete chunk in the session's environment. Should the rewritten
-- chunk not load (a case the scanner misjudged), the chunk as typed runs, its
-- locals then lasting one input only.
local function load_input(code)
  local rewritten = persist_locals(code)
  if rewritten ~= code then
    local chunk = load(rewritten, "=stdin", "t", session_env)
    if chunk then return chunk end
  end
  return load(code, "=stdin", "t", session_env)
end

return {
  env = session_env,
  load = load_input,
  lookup = function(name)
    if session_kinds[name] then return session_values[name] end
    return rawget(globals, name)
  end,
  names = function()
    local list = {}
    for name in pairs(session_kinds) do list[#list + 1] = name end
    return list
  end,
}
