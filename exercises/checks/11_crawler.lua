-- Check for exercise 11: a crawler in a task group -- concurrent, each url
-- once, and on the first failure every other fetch cancelled at once and the
-- TaskGroupError raised to the caller.

local LIMIT = 100   -- seconds of loop time a crawl may take before the check gives up on it

local function fmt(x) return x and string.format("%.2f s", x) or "never" end

local ERROR_MT = {__tostring = function(e) return e.name .. ": " .. e.message end}

-- An instrumented site. `spec` maps url -> {delay = s, links = {...}, fails = bool}.
-- fetch(url) records when each url started and how it ended: "finished",
-- "failed", or the name of the error that stopped it (CancelledError).
local function make_site(t, spec)
  local s = {spec = spec, pages = {}, errors = {}, count = {}, started = {}, ended = {}, how = {},
             calls = 0, stray = {}}
  local size = 0
  for url, p in pairs(spec) do
    size = size + 1
    local links = {}
    for i, link in ipairs(p.links or {}) do links[i] = link end
    s.pages[url] = {url = url, links = links, body = t.token("body of " .. url)}
    if p.fails then
      s.errors[url] = setmetatable({name = "IOError", message = string.format("GET %s: connection reset (error %d)",
                                    url, math.random(1000, 9999))}, ERROR_MT)
    end
  end
  s.size = size

  function s.fetch(url)
    s.calls = s.calls + 1
    if s.calls > 4 * size + 20 then   -- a crawl that fetches forever: stop it
      error("the check stopped this crawl: M.fetch was called " .. s.calls .. " times for " .. size .. " pages", 0)
    end
    local p = spec[url]
    if p == nil then
      s.stray[#s.stray + 1] = url
      error(string.format("no page at %s (M.fetch takes a url, a string from a page's links)", tostring(url)), 0)
    end
    s.count[url] = (s.count[url] or 0) + 1
    s.started[url] = s.started[url] or t.now()
    local ok, err = pcall(asched.sleep, p.delay)
    s.ended[url] = s.ended[url] or t.now()
    if not ok then
      s.how[url] = s.how[url] or (type(err) == "table" and err.name or tostring(err))
      error(err, 0)
    end
    if p.fails then
      s.how[url] = s.how[url] or "failed"
      error(s.errors[url], 0)
    end
    s.how[url] = s.how[url] or "finished"
    return s.pages[url]
  end
  return s
end

-- When each url should start when every fetch runs as soon as a page that
-- links to it has arrived, and the page that links to it first. Pages past a
-- failure are not followed.
local function schedule(spec, start)
  local starts, via, done = {[start] = 0}, {}, {}
  while true do
    local url
    for u, at in pairs(starts) do
      if not done[u] and (url == nil or at < starts[url] or (at == starts[url] and u < url)) then url = u end
    end
    if url == nil then break end
    done[url] = true
    local p = spec[url]
    if not p.fails then
      local arrives = starts[url] + p.delay
      for _, link in ipairs(p.links or {}) do
        if starts[link] == nil or arrives < starts[link] then starts[link], via[link] = arrives, url end
      end
    end
  end
  return starts, via
end

-- Runs crawl(start) with the site's fetch; returns the time it took and
-- true and its result, or false and its error.
local function run_crawl(M, t, s, start, label)
  M.fetch = s.fetch
  local began = t.now()
  local ok, finished, result = pcall(asched.move_on_after, LIMIT, M.crawl, start)
  local elapsed = t.now() - began
  if ok and not finished then
    t.expect(false, string.format("%s: crawl finishes (it was still running after %d s of loop time)", label, LIMIT),
             "crawl done", "still running")
  end
  if ok then return began, elapsed, true, result end
  return began, elapsed, false, finished
end

local function sorted_keys(tbl)
  local keys = {}
  for k in pairs(tbl) do keys[#keys + 1] = k end
  table.sort(keys, function(a, b) return tostring(a) < tostring(b) end)
  return keys
end

local function check_each_once(t, s, label)
  t.expect(#s.stray == 0, label .. ": M.fetch is called with urls from the pages' `links` (strings)",
           "a url such as \"/a\"", tostring(s.stray[1]))
  for _, url in ipairs(sorted_keys(s.count)) do
    t.expect(s.count[url] == 1,
             string.format("%s: each url is fetched once only, even when several pages link to it (mark a url as seen when you find it, before its fetch ends)", label),
             string.format("%s fetched once", url), string.format("%d times", s.count[url]))
  end
end

local function check_success(M, t, spec, start)
  local label = string.format("a site of %d pages", #sorted_keys(spec))
  local s = make_site(t, spec)
  local starts, via = schedule(spec, start)
  local began, elapsed, ok, pages = run_crawl(M, t, s, start, label)
  check_each_once(t, s, label)
  t.expect(ok, label .. ": crawl does not raise when every fetch works", "no error", tostring(pages))
  t.expect(s.calls > 0, string.format("%s: crawl fetches the pages with M.fetch(url), starting with M.fetch(%q)", label, start),
           "M.fetch called", "never called")

  local wanted_time, sequential = 0, 0
  for url, at in pairs(starts) do
    wanted_time = math.max(wanted_time, at + spec[url].delay)
    sequential = sequential + spec[url].delay
  end
  for _, url in ipairs(sorted_keys(starts)) do
    t.expect(s.count[url] ~= nil,
             string.format("%s: crawl returns once every page reachable from %s has been fetched (the group waits for the tasks started with tg:spawn, not for those of asched.spawn)", label, start),
             url .. " fetched", "not fetched when crawl returned")
  end
  for _, url in ipairs(sorted_keys(starts)) do
    local at = starts[url]
    local why = via[url] and string.format("%s links to it and arrived at %s", via[url], fmt(at)) or "it is the start page"
    t.expect(math.abs(s.started[url] - began - at) < 1e-6,
             string.format("%s: each page is fetched as soon as a page that links to it has arrived, without waiting for the other fetches (%s)",
                           label, why),
             string.format("%s started at %s", url, fmt(at)),
             string.format("it started at %s", fmt(s.started[url] - began)))
  end
  t.expect(math.abs(elapsed - wanted_time) < 1e-6,
           string.format("%s: crawl returns as soon as the last page arrives, at %s (one fetch at a time: %s)",
                         label, fmt(wanted_time), fmt(sequential)),
           fmt(wanted_time), fmt(elapsed))

  t.expect(type(pages) == "table", label .. ": crawl returns a table of the pages, keyed by url", "a table", type(pages))
  for _, url in ipairs(sorted_keys(starts)) do
    local got = pages[url]
    local what = got == nil and "nil" or tostring(got)
    for u, page in pairs(s.pages) do if got == page then what = "the page of " .. u end end
    t.expect(got == s.pages[url],
             string.format("%s: pages[url] is the page M.fetch(url) returned (the table itself)", label),
             string.format("pages[%q] = the page of %s", url, url), what)
  end
  for _, key in ipairs(sorted_keys(pages)) do
    t.expect(starts[key] ~= nil, string.format("%s: the table holds the pages only, keyed by url", label),
             "no other key", string.format("a key %s", type(key) == "string" and string.format("%q", key) or tostring(key)))
  end
end

-- `failing`: the url whose fetch fails. Checks that crawl raises the
-- TaskGroupError at once, the fetches in flight are cancelled, and nothing
-- starts later.
local function check_failure(M, t, spec, start, failing)
  local label = string.format("%s fails", failing)
  local s = make_site(t, spec)
  local starts = schedule(spec, start)
  local fails_at = starts[failing] + spec[failing].delay
  local began, elapsed, ok, err = run_crawl(M, t, s, start, label)
  check_each_once(t, s, label)
  t.expect(s.how[failing] == "failed", string.format("%s: %s is fetched (it is linked from the pages)", label, failing),
           failing .. " fetched", "never fetched")

  -- In flight when the failure happened, and what would have come after.
  local in_flight, later = {}, {}
  for _, url in ipairs(sorted_keys(starts)) do
    if url ~= failing then
      if starts[url] < fails_at and starts[url] + spec[url].delay > fails_at then in_flight[#in_flight + 1] = url end
      if starts[url] >= fails_at then later[#later + 1] = url end
    end
  end

  t.expect(not ok, string.format("%s: crawl raises when a fetch fails (let the task group's error go up)", label),
           "an error", "crawl returned normally")
  for _, url in ipairs(in_flight) do
    t.expect(s.how[url] ~= nil and s.how[url] ~= "finished",
             string.format("%s: the fetches in flight when %s failed (at %s) are cancelled: crawl is not done until they have stopped",
                           label, failing, fmt(fails_at)),
             string.format("%s cancelled at %s", url, fmt(fails_at)),
             s.how[url] == "finished" and string.format("it finished at %s", fmt(s.ended[url] - began))
               or string.format("still running when crawl raised, at %s", fmt(elapsed)))
    t.expect(s.how[url] == "CancelledError",
             string.format("%s: the fetches in flight when %s failed are cancelled", label, failing),
             string.format("%s ended by a CancelledError", url), string.format("it ended with %s", tostring(s.how[url])))
    t.near(s.ended[url] - began, fails_at,
           string.format("%s: %s is cancelled at once, when %s fails (time it ended)", label, url, failing))
  end
  t.near(elapsed, fails_at, string.format("%s: crawl raises as soon as %s fails", label, failing))
  t.expect(type(err) == "table" and err.name == "TaskGroupError",
           string.format("%s: crawl raises the TaskGroupError of asched.task_group, as it is (do not catch or unwrap it)", label),
           "a TaskGroupError", err == s.errors[failing] and string.format("the error of %s itself, not wrapped in a TaskGroupError", failing) or tostring(err))
  t.expect(type(err.errors) == "table" and err.errors[1] == s.errors[failing],
           string.format("%s: the TaskGroupError's errors[1] is the error %s raised, unchanged", label, failing),
           tostring(s.errors[failing]), type(err.errors) == "table" and tostring(err.errors[1]) or "no errors list")
  t.expect(#err.errors == 1,
           string.format("%s: the TaskGroupError lists one error: the other fetches were cancelled, not failed", label),
           "1 error", string.format("%d errors", #err.errors))

  -- Nothing may start later, even if we wait.
  asched.sleep(LIMIT)
  for _, url in ipairs(later) do
    t.expect(s.count[url] == nil,
             string.format("%s: no new fetch starts once %s has failed", label, failing),
             url .. " never fetched", string.format("it started at %s", fmt(s.started[url] and s.started[url] - began)))
  end
end

return {
  title = "Crawl concurrently in a task group; one failure stops it all",
  hints = {
    "Put every fetch in one task group: `asched.task_group(function(tg) ... end)` only returns once every task spawned with `tg:spawn` is done -- even tasks spawned later by other tasks of the group -- and when one of them raises, it cancels the others and raises a TaskGroupError. So crawl needs no error handling at all: let that error go up.",
    "Write a local function visit(url) inside the group's function: `local page = M.fetch(url); pages[url] = page`, then for each link of `page.links` that is new, `tg:spawn(visit, link)`. Call visit(start) to begin. Keep a table `seen` of the urls already found.",
    "Mark a url as seen when you find it, before spawning its fetch: `if not seen[link] then seen[link] = true; tg:spawn(visit, link) end` (and start with `seen = {[start] = true}`); checking `pages[link]` instead fetches a url twice when two pages link to it before it arrives. After the task_group call, `return pages`.",
  },
  check = function(M, t)
    t.expect(type(M.crawl) == "function", "M.crawl is a function", "a function", type(M.crawl))

    -- Every fetch works. Pages link back, to themselves, and to pages
    -- already being fetched.
    check_success(M, t, {
      ["/"]  = {delay = 0.5,  links = {"/a", "/b", "/c"}},
      ["/a"] = {delay = 1,    links = {"/", "/a", "/d"}},
      ["/b"] = {delay = 2,    links = {"/d", "/e"}},
      ["/c"] = {delay = 0.25, links = {"/b", "/f"}},
      ["/d"] = {delay = 1.5,  links = {"/a", "/e"}},
      ["/e"] = {delay = 0.75, links = {}},
      ["/f"] = {delay = 3,    links = {"/g"}},
      ["/g"] = {delay = 0.5,  links = {"/", "/f"}},
    }, "/")
    check_success(M, t, {["/only"] = {delay = 1.25, links = {"/only"}}}, "/only")

    -- /b fails at 2 s while /c and /d are in flight; /c would have led to /f,
    -- /d would have failed too, and to /g.
    check_failure(M, t, {
      ["/"]  = {delay = 0.5,  links = {"/a", "/b", "/c"}},
      ["/a"] = {delay = 1,    links = {"/d", "/e"}},
      ["/b"] = {delay = 1.5,  links = {"/f"}, fails = true},
      ["/c"] = {delay = 3,    links = {"/f"}},
      ["/d"] = {delay = 2,    links = {"/g"}, fails = true},
      ["/e"] = {delay = 0.25, links = {"/a", "/b"}},
      ["/f"] = {delay = 0.5,  links = {}},
      ["/g"] = {delay = 1,    links = {}},
    }, "/", "/b")
    -- The start page itself fails.
    check_failure(M, t, {
      ["/home"] = {delay = 1, links = {"/x"}, fails = true},
      ["/x"]    = {delay = 1, links = {}},
    }, "/home", "/home")
  end,
}
