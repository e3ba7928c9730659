-- `asched --help` lists every option and command, a bad option gives a one-line
-- error and the usage on stderr, and the man page (asched.1 at the root of the
-- checkout) documents the same options, renders cleanly and carries the
-- CMake project's version.
local here = debug.getinfo(1, "S").source:match("^@(.-)[^/]*$")
local support = dofile(here .. "support.lua")
local MAN = here .. "../../asched.1"
local CMAKE = here .. "../../CMakeLists.txt"

local OPTIONS = {"-e stat", "-i", "-l name", "-v", "-E", "-W", "--", "-",
                 "--virtual-time", "--debug", "--timeline", "--timeline=F.svg",
                 "--trace FILE", "--seed N", "--step", "--help", "-h"}
local COMMANDS = {"exercises", "exercises --init DIR", "watch", "next", "check [NAME...]", "hint NAME",
                  "reset NAME", "solution NAME"}
local ENVIRONMENT = {"ASCHED_VIRTUAL_TIME=1", "ASCHED_AUTOJUMP=S", "ASCHED_SEED=N", "LUA_INIT", "LUA_PATH"}

-- The options the usage lists: the first word(s) of each indented line
-- starting with '-' ("  -h, --help  ..." gives -h and --help).
local function usage_options(text)
  local found = {}
  for line in text:gmatch("[^\n]+") do
    local first, second = line:match("^  (%-%S*)%s*(%S*)")
    if first and first:sub(-1) == "," then
      found[#found + 1] = first:sub(1, -2)
      found[#found + 1] = second
    elseif first then
      found[#found + 1] = first
    end
  end
  return found
end

-- The options of the man page's OPTIONS section: each `.It Fl ...` line,
-- rendered ("Fl \-timeline Ns = Ns Ar F.svg" is --timeline=F.svg), split
-- at " , " and cut to its first word.
local function man_options(text)
  local found, section = {}, nil
  for line in text:gmatch("[^\n]+") do
    local sh = line:match("^%.Sh%s+(.*)$")
    if sh then section = sh end
    if section == "OPTIONS" and line:match("^%.It%s+Fl") then
      local pieces, current, pending, glue = {}, "", nil, false
      for token in line:gsub("^%.It%s+", ""):gsub("\\%-", "-"):gmatch("%S+") do
        if token == "Fl" then
          if pending then current = current .. (glue and "" or " ") .. pending end
          pending, glue = "-", glue
        elseif token == "Ns" then glue = true
        elseif token == "Ar" then -- an argument follows
        elseif token == "," then
          if pending then current = current .. pending; pending = nil end
          pieces[#pieces + 1] = current; current, glue = "", false
        else
          local word = (pending or "") .. token
          current = current == "" and word or current .. (glue and "" or " ") .. word
          pending, glue = nil, false
        end
      end
      if pending then current = current .. (current == "" and "" or " ") .. pending end
      pieces[#pieces + 1] = current
      for _, piece in ipairs(pieces) do found[#found + 1] = piece:match("^%s*(%S+)") end
    end
  end
  return found
end

local function set_of(list)
  local set = {}
  for _, v in ipairs(list) do set[v] = true end
  return set
end

describe("asched --help", function()
  for _, flag in ipairs({"--help", "-h"}) do
    it(flag .. " prints the usage to stdout and exits 0", function()
      local r = support.run({options = {flag}, no_script = true})
      assert.equal(0, r.status, support.describe(r))
      assert.equal("", r.stderr)
      assert.matches("^usage: ", r.stdout)
      assert.matches("\nOptions:\n", r.stdout, 1, true)
      assert.matches("\nCommands:\n", r.stdout, 1, true)
    end)
  end

  it("mentions every option, every command and the environment variables", function()
    local r = support.run({options = {"--help"}, no_script = true})
    assert.equal(0, r.status, support.describe(r))
    local listed = set_of(usage_options(r.stdout))
    for _, option in ipairs(OPTIONS) do
      local at = option == "--help" and "\n  %-h, " or "\n  "
      assert.matches(at .. option:gsub("%p", "%%%0") .. "[%s,]", r.stdout)
      assert.is_true(listed[option:match("^%S+")] or false, option .. " is not listed as an option")
    end
    for _, command in ipairs(COMMANDS) do
      assert.matches("\n  " .. command:gsub("%p", "%%%0") .. "%s", r.stdout)
    end
    for _, name in ipairs(ENVIRONMENT) do assert.matches(name, r.stdout, 1, true) end
  end)

  it("does not run -e chunks given with it", function()
    local r = support.run({options = {"-e", "print('ran')", "-h"}, no_script = true})
    assert.equal(0, r.status, support.describe(r))
    assert.not_matches("ran", r.stdout, 1, true)
    assert.matches("^usage: ", r.stdout)
  end)
end)

describe("an unknown option", function()
  it("gives a one-line error then the usage on stderr, and exits 1", function()
    local r = support.run({options = {"--bogus"}, no_script = true})
    assert.equal(1, r.status, support.describe(r))
    assert.equal("", r.stdout)
    local lines = support.lines(r.stderr)
    assert.equal("asched: unrecognized option '--bogus'", lines[1])
    assert.matches("^usage: ", lines[2])
    local help = support.run({options = {"--help"}, no_script = true})
    assert.equal(help.stdout, (r.stderr:gsub("^[^\n]*\n", "")))
  end)
end)

describe("the man page asched.1", function()
  local man = support.read(MAN)

  it("exists", function()
    assert.is_string(man, "cannot read " .. MAN)
  end)

  it("documents every option --help lists", function()
    local r = support.run({options = {"--help"}, no_script = true})
    local documented = set_of(man_options(man))
    local listed = usage_options(r.stdout)
    assert.is_true(#listed >= #OPTIONS)
    for _, option in ipairs(listed) do
      assert.is_true(documented[option] or false, option .. " is in --help but not in asched.1's OPTIONS")
    end
  end)

  it("documents the commands", function()
    for _, command in ipairs({"check", "hint", "exercises"}) do
      assert.matches("\n%.It Cm " .. command .. "[%s\n]", man)
    end
  end)

  it("renders without warnings", function()
    local dir = support.tmpdir()
    local cmd
    if os.execute("command -v groff >/dev/null 2>&1") then
      cmd = "groff -ww -z -mandoc " .. support.quote(MAN)
    elseif os.execute("command -v mandoc >/dev/null 2>&1") then
      cmd = "mandoc -T lint -W warning " .. support.quote(MAN)
    else
      error("neither groff nor mandoc is installed (apt-get install groff-base)")
    end
    local _, _, status = os.execute(cmd .. " >" .. dir .. "/out 2>" .. dir .. "/err")
    local err = support.read(dir .. "/err")
    support.remove(dir)
    assert.equal("", err)
    assert.equal(0, status)
  end)

  it("carries the version of CMakeLists.txt's project()", function()
    local cmake = assert(support.read(CMAKE))
    local version = cmake:match("project%s*%(%s*asched%s+VERSION%s+(%d+%.%d+%.%d+)")
    assert.is_string(version, "no project(asched VERSION x.y.z) in CMakeLists.txt")
    local header = man:match("\n%.Os[ \t]+([^\n]*)") or man:match("^%.Os[ \t]+([^\n]*)")
                   or man:match("%.TH[ \t]+([^\n]*)")
    assert.is_string(header, "no .Os or .TH line in asched.1")
    local found = header:match("(%d+%.%d+%.%d+)")
    assert.equal(version, found)
  end)
end)
