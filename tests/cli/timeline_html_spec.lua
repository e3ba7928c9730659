-- --timeline=FILE.html: the replay page. Checked as a file (self-contained,
-- small, its data one lane per task) and, when Debian's chromium is
-- installed, in a real browser: headless, through --dump-dom and --screenshot.
local here = debug.getinfo(1, "S").source:match("^@(.-)[^/]*$")
local support = dofile(here .. "support.lua")
local json = dofile(here .. "json.lua")

local SCHEDULER = assert(support.read(here .. "../../scripts/async_scheduler.lua"))
local CHROMIUM_TIMEOUT = 60

-- The lane names the text --timeline draws for the same run.
local function text_lanes()
  local r = support.run({options = {"--virtual-time", "--timeline"}, script = SCHEDULER, args = {"42"},
                         env = {COLUMNS = "120"}})
  assert.equal(0, r.status, support.describe(r))
  local names = {}
  for _, line in ipairs(support.lines(r.stderr)) do
    names[#names + 1] = line:match("^(%S+) +|.*  %a+$")
  end
  return names
end

-- Writes the page of scripts/async_scheduler.lua (seed 42, virtual time) and
-- returns its text and the directory it is in (the caller removes it).
local function page()
  local r = support.run({options = {"--virtual-time", "--timeline=page.html"}, script = SCHEDULER,
                         args = {"42"}, keep = true})
  assert.equal(0, r.status, support.describe(r))
  return assert(support.read(r.dir .. "/page.html"), "no page written"), r.dir
end

-- The page's data: the JSON between "var D=" and the end of its statement.
local function data_of(html)
  return json.decode(assert(html:match("\nvar D=(.-);\n%(function%(%)"), "no data in the page"))
end

local function which(program)
  local p = io.popen("command -v " .. program .. " 2>/dev/null")
  local path = p:read("l")
  p:close()
  return path
end

local function chromium(dir, args)
  local cmd = string.format("cd %s && timeout -s KILL %d chromium --headless --no-sandbox --disable-gpu %s 2>chromium.err",
    support.quote(dir), CHROMIUM_TIMEOUT, args)
  local p = assert(io.popen(cmd))
  local out = p:read("a")
  p:close()
  return out
end

local function dump_dom(dir, fragment)
  return chromium(dir, "--dump-dom " .. support.quote("file://" .. dir .. "/page.html" .. fragment))
end

-- A lock taken by `holder` at once and queued on by `waiter` half a second later.
local LOCKED = [[
local lk = asched.lock()
local holder = asched.spawn(function() local g <close> = lk:acquire() asched.sleep(1) end)
holder.name = "holder"
asched.sleep(0.5)
local waiter = asched.spawn(function() local g <close> = lk:acquire() end)
waiter.name = "waiter"
asched.gather({holder, waiter})
]]

-- Writes the page of LOCKED; returns its data and its directory.
local function locked_page()
  local r = support.run({options = {"--virtual-time", "--timeline=page.html"}, script = LOCKED, keep = true})
  assert.equal(0, r.status, support.describe(r))
  return data_of(assert(support.read(r.dir .. "/page.html"))), r.dir
end

local function held_panel(dom)
  return assert(dom:match('<ul id="held">(.-)</ul>'), "no held panel in the page")
end

local function ready_queue(dom)
  return assert(dom:match('<ol id="ready">(.-)</ol>'), "no ready queue in the page")
end

local function file_size(path)
  local f = io.open(path, "rb")
  if not f then return 0 end
  local size = f:seek("end")
  f:close()
  return size
end

describe("--timeline=FILE.html", function()
  it("writes one self-contained page: no network, no external script, style or font", function()
    local html, dir = page()
    support.remove(dir)
    assert.matches("^<!DOCTYPE html>", html)
    assert.matches("</html>\n$", html)
    assert.is_nil(html:lower():match("<script[^>]-%ssrc%s*="), "a script is loaded from elsewhere")
    assert.is_nil(html:lower():match("<link[^>]*>"), "a stylesheet or font is linked")
    for _, attr in ipairs({"src", "href", "action"}) do
      assert.is_nil(html:lower():match(attr .. "%s*=%s*[\"']?https?:"), attr .. " reaches the network")
    end
    assert.is_nil(html:lower():match("url%(%s*[\"']?https?:"), "the style reaches the network")
    assert.is_nil(html:match("@import"), "the style imports something")
  end)

  it("keeps the page itself under 40 KB, the run's data apart", function()
    local html, dir = page()
    support.remove(dir)
    local data = assert(html:match("\nvar D=(.-);\n%(function%(%)"))
    assert.is_true(#html - #data < 40 * 1024, "page without data: " .. (#html - #data) .. " bytes")
  end)

  it("holds one task per lane of the text timeline, with each wait's line and deadline", function()
    local html, dir = page()
    support.remove(dir)
    local data = data_of(html)
    local names = {}
    for _, pair in ipairs(data.names) do names[#names + 1] = pair[2] end
    local lanes = text_lanes()
    assert.is_true(#lanes > 5)
    assert.same(lanes, names)
    assert.is_true(data.virtual)
    local slept, waited_on_semaphore = false, false
    for _, e in ipairs(data.events) do
      if e[3] == "sleeping" then
        slept = true
        assert.matches("^sleeping until ", e[5])
        assert.matches("script%.lua:%d+$", e[6])
        assert.is_number(e[7])
      end
      if e[3] == "semaphore" then waited_on_semaphore = true end
    end
    assert.is_true(slept and waited_on_semaphore)
    -- the semaphore section: its waiters see who holds the permits
    assert.is_true(#data.holders > 0)
  end)

  it("logs who holds each lock from step to step, waited on or not, and which one each waiter waits on", function()
    local data, dir = locked_page()
    support.remove(dir)
    local names = {}
    for _, pair in ipairs(data.names) do names[pair[1]] = pair[2] end
    local seen = {}
    for _, h in ipairs(data.holders) do
      assert.equal(1, h[2])
      assert.equal("lock", h[3])
      local who = {}
      for _, id in ipairs(h[4]) do who[#who + 1] = names[id] end
      seen[#seen + 1] = table.concat(who, ",")
    end
    -- taken before anyone waits, handed straight to the waiter, let go
    assert.same({"holder", "waiter", ""}, seen)
    local waited
    for _, e in ipairs(data.events) do
      if e[3] == "lock" then waited = e end
    end
    assert.equal("waiter", names[waited[2]])
    assert.equal(1, waited[8])
  end)

  it("logs a lock collected while held (its guard never closed) as let go", function()
    local r = support.run({options = {"--virtual-time", "--timeline=page.html"}, keep = true, script = [[
local lk = asched.lock()
asched.spawn(function() lk:acquire() end):await()     -- ends holding it
lk = nil
collectgarbage()
collectgarbage()
asched.sleep(1)
]]})
    local html = support.read(r.dir .. "/page.html")
    support.remove(r.dir)
    assert.equal(0, r.status, support.describe(r))
    local holders = data_of(html).holders
    assert.equal(2, #holders)
    assert.same({1, "lock", {2}, 0}, {holders[1][2], holders[1][3], holders[1][4], holders[1][5]})
    assert.same({1, "lock", {}, 0}, {holders[2][2], holders[2][3], holders[2][4], holders[2][5]})
  end)

  it("writes JSON no script element can end early", function()
    local r = support.run({options = {"--virtual-time", "--timeline=page.html"}, keep = true,
                           script = [[local t = asched.spawn(function() asched.sleep(1) end)
t.name = "</script><b>"
asched.sleep(2)]]})
    local html = support.read(r.dir .. "/page.html")
    support.remove(r.dir)
    assert.equal(0, r.status, support.describe(r))
    assert.is_nil(html:find("</script><b>", 1, true))
    assert.equal("</script><b>", data_of(html).names[2][2])
  end)

  it("writes the page the README links (scripts/async_scheduler.html)", function()
    -- run from the checkout, so the page names the script as the README's command does
    local dir = support.tmpdir()
    local cmd = string.format("cd %s && timeout -s KILL %d %s --virtual-time --timeline=%s "
      .. "scripts/async_scheduler.lua 42 >/dev/null 2>%s", support.quote(here .. "../.."), support.TIMEOUT,
      support.quote(support.asched), support.quote(dir .. "/page.html"), support.quote(dir .. "/stderr"))
    local ok = os.execute(cmd)
    local drawn, stderr = support.read(dir .. "/page.html"), support.read(dir .. "/stderr")
    support.remove(dir)
    assert.is_true(ok, stderr)
    assert.equal(support.read(here .. "../../scripts/async_scheduler.html"), drawn,
      "regenerate it: ./build/asched --virtual-time --timeline=scripts/async_scheduler.html "
      .. "scripts/async_scheduler.lua 42")
  end)

  describe("in headless Chromium", function()
    local have_chromium = which("chromium") ~= nil
    local function need_chromium()
      if not have_chromium then
        pending("chromium is not installed (apt-get install chromium): the browser checks are skipped")
      end
    end

    it("loads with no error and draws one lane per task", function()
      need_chromium()
      local _, dir = page()
      local dom = dump_dom(dir, "")
      support.remove(dir)
      assert.matches('<div id="ok"', dom, 1, true)
      assert.is_nil(dom:match('<div id="error"[^>]*>[^<]*'), dom:match('<div id="error"[^>]*>([^<]*)'))
      local lanes = text_lanes()
      local drawn = {}
      for name in dom:gmatch('<g class="lane[^"]*" data%-task="%d+">.-<text class="name"[^>]*>([^<]+)<') do
        drawn[#drawn + 1] = name
      end
      assert.equal(#lanes, #drawn)
      table.sort(lanes)
      table.sort(drawn)
      assert.same(lanes, drawn)
    end)

    it("shows the ready queue of the instant the scrubber is at", function()
      need_chromium()
      local _, dir = page()
      -- at t = 0 the main task is the one ready; after step 7 it has
      -- spawned the five fetches of gather, which wait in spawn order
      local at_start = dump_dom(dir, "#t=0")
      local at_step = dump_dom(dir, "#step=7")
      support.remove(dir)
      assert.matches('<div id="ok"', at_start, 1, true)
      assert.matches('<div id="ok"', at_step, 1, true)
      local first, later = ready_queue(at_start), ready_queue(at_step)
      assert.not_equal(first, later)
      assert.matches("^<li>task%-1 ", first)
      assert.matches("^<li>task%-2 [^<]*</li><li>task%-3 [^<]*</li><li>task%-4 ", later)
      assert.matches("step 7 of %d+", at_step)
    end)

    it("shows a lock's holder before anyone waits, then its waiter, whom it is handed to, then nothing", function()
      need_chromium()
      local data, dir = locked_page()
      local taken = data.holders[1][1]
      local queued
      for i, e in ipairs(data.events) do
        if e[3] == "lock" then queued = i end
      end
      local at_taken = held_panel(dump_dom(dir, "#step=" .. taken))
      local at_queued = held_panel(dump_dom(dir, "#step=" .. queued))
      local at_handed = held_panel(dump_dom(dir, "#step=" .. data.holders[2][1]))
      local at_end = held_panel(dump_dom(dir, "#step=" .. #data.events))
      support.remove(dir)
      assert.equal("<li>lock 1 held by holder</li>", at_taken)
      assert.equal("<li>lock 1 held by holder; waiting: waiter</li>", at_queued)
      assert.equal("<li>lock 1 held by waiter</li>", at_handed)
      assert.equal("<li>(no lock or semaphore is held or waited on)</li>", at_end)
    end)

    it("takes a screenshot that is not blank", function()
      need_chromium()
      local _, dir = page()
      support.write(dir .. "/blank.html", "<!DOCTYPE html><html><body></body></html>\n")
      chromium(dir, "--screenshot=" .. support.quote(dir .. "/page.png") .. " --window-size=1200,800 "
        .. support.quote("file://" .. dir .. "/page.html#t=8"))
      chromium(dir, "--screenshot=" .. support.quote(dir .. "/blank.png") .. " --window-size=1200,800 "
        .. support.quote("file://" .. dir .. "/blank.html"))
      local page_size, blank_size = file_size(dir .. "/page.png"), file_size(dir .. "/blank.png")
      local head = support.read(dir .. "/page.png") or ""
      support.remove(dir)
      assert.equal("\137PNG", head:sub(1, 4))
      assert.is_true(blank_size > 0, "no screenshot of the blank page")
      assert.is_true(page_size > 4 * blank_size,
        string.format("screenshot of %d bytes, a blank page's is %d", page_size, blank_size))
    end)
  end)
end)
