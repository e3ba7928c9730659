-- A strict JSON decoder for the specs (not a spec itself): enough to check
-- that what asched writes is JSON a browser would accept, and to read it back.
local json = {}

local function fail(text, pos, what)
  error(string.format("invalid JSON at byte %d: %s", pos, what), 0)
end

local decode_value

local function skip(text, pos)
  return text:find("[^ \t\r\n]", pos) or #text + 1
end

local ESCAPES = {['"'] = '"', ["\\"] = "\\", ["/"] = "/", b = "\b", f = "\f", n = "\n", r = "\r", t = "\t"}

local function decode_string(text, pos)
  local out, i = {}, pos + 1
  while true do
    local c = text:sub(i, i)
    if c == "" then fail(text, i, "unterminated string") end
    if c == '"' then return table.concat(out), i + 1 end
    if c:byte() < 32 then fail(text, i, "control character in string") end
    if c == "\\" then
      local e = text:sub(i + 1, i + 1)
      if e == "u" then
        local hex = text:sub(i + 2, i + 5)
        if not hex:match("^%x%x%x%x$") then fail(text, i, "bad \\u escape") end
        out[#out + 1] = utf8.char(tonumber(hex, 16))
        i = i + 6
      elseif ESCAPES[e] then
        out[#out + 1] = ESCAPES[e]
        i = i + 2
      else
        fail(text, i, "bad escape")
      end
    else
      out[#out + 1] = c
      i = i + 1
    end
  end
end

local function decode_number(text, pos)
  local s = text:match("^-?%d+%.?%d*[eE]?[-+]?%d*", pos)
  if not s or not s:match("^-?%d") or s:match("^-?0%d") then fail(text, pos, "bad number") end
  return tonumber(s), pos + #s
end

local function decode_list(text, pos, close, item)
  local result, n = {}, 0
  pos = skip(text, pos + 1)
  if text:sub(pos, pos) == close then return result, pos + 1 end
  while true do
    n = n + 1
    pos = item(result, n, pos)
    pos = skip(text, pos)
    local c = text:sub(pos, pos)
    if c == close then return result, pos + 1 end
    if c ~= "," then fail(text, pos, "expected ',' or '" .. close .. "'") end
    pos = skip(text, pos + 1)
  end
end

function decode_value(text, pos)
  pos = skip(text, pos)
  local c = text:sub(pos, pos)
  if c == "{" then
    return decode_list(text, pos, "}", function(obj, _, p)
      if text:sub(p, p) ~= '"' then fail(text, p, "expected a key") end
      local key
      key, p = decode_string(text, p)
      p = skip(text, p)
      if text:sub(p, p) ~= ":" then fail(text, p, "expected ':'") end
      obj[key], p = decode_value(text, p + 1)
      return p
    end)
  elseif c == "[" then
    return decode_list(text, pos, "]", function(list, n, p)
      list[n], p = decode_value(text, p)
      return p
    end)
  elseif c == '"' then
    return decode_string(text, pos)
  elseif text:find("^true", pos) then return true, pos + 4
  elseif text:find("^false", pos) then return false, pos + 5
  elseif text:find("^null", pos) then return json.null, pos + 4
  end
  return decode_number(text, pos)
end

json.null = setmetatable({}, {__tostring = function() return "null" end})

function json.decode(text)
  local value, pos = decode_value(text, 1)
  pos = skip(text, pos)
  if pos <= #text then fail(text, pos, "trailing characters") end
  return value
end

return json
