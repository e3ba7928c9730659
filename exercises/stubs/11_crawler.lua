-- Exercise 11: a crawler that stops everything on the first failure
--
-- A crawler fetches a start page, then every page it links to, then the
-- pages those link to, and so on. The fetches run concurrently, and a page's
-- links are fetched as soon as that page has arrived -- without waiting for
-- the other pages in flight. But this crawl is all or nothing: once one
-- fetch has failed, the crawl has failed, and every other fetch still
-- running is wasted work that should stop at once.
--
-- Write crawl(start):
--   * M.fetch(url) fetches one page: it suspends for a while, then returns
--     the page -- a table whose field `links` is a list of urls -- or raises
--     an error (a missing page, a server that is down);
--   * fetch `start`, then every url in the `links` of every page fetched,
--     each fetch in its own task; fetch each url once only (pages link back
--     to each other, and to themselves);
--   * start fetching a url as soon as a page that links to it has arrived;
--   * when every page is fetched, return a table of them keyed by url:
--     pages[url] = the page M.fetch(url) returned, one entry per url;
--   * when a fetch fails, stop at once: every other fetch in flight is
--     cancelled (it sees a CancelledError), no new fetch starts, and crawl
--     raises, right then, the TaskGroupError that asched.task_group raises --
--     its field `errors` lists the failed fetch's error, unchanged. Let that
--     error go up as it is: do not catch it, do not unwrap it.
--
-- asched.task_group(fn) runs fn(tg) and waits, before it returns, for every
-- task spawned with tg:spawn(f, ...) -- including tasks spawned later, by
-- other tasks of the group. When one of them fails, it cancels all the
-- others and raises a TaskGroupError. (docs/reference.md describes it.)
--
-- The fetch given below serves a small site with one broken link, so you can
-- try your function; the check uses its own pages and failures. Call the
-- helper as M.fetch(url): the check replaces it with a version that watches
-- what your code does.
--
-- Check it with:  ./build/asched check 11

local M = {}

-- A small site: each page's delay (seconds) and links. "/news/1999" is missing.
local SITE = {
  ["/"]             = {delay = 0.5, links = {"/news", "/about", "/shop"}},
  ["/news"]         = {delay = 1,   links = {"/", "/news/today", "/news/archive"}},
  ["/news/today"]   = {delay = 0.5, links = {"/news", "/news/today"}},
  ["/news/archive"] = {delay = 2,   links = {"/news", "/news/1999"}},
  ["/about"]        = {delay = 0.3, links = {"/"}},
  ["/shop"]         = {delay = 1.5, links = {"/shop/cart", "/about"}},
  ["/shop/cart"]    = {delay = 3,   links = {"/shop"}},
}

-- Given: fetches one page of SITE; a page that is not there fails after 1 s.
function M.fetch(url)
  print("fetching " .. url)
  local page = SITE[url]
  asched.sleep(page and page.delay or 1)
  if not page then error("404 not found: " .. url, 0) end
  return {url = url, links = page.links}
end

function M.crawl(start)
  -- TODO: asched.task_group(function(tg) ... end), and inside it:
  -- TODO: a function visit(url) that fetches the page (M.fetch(url)), keeps
  --       it (pages[url] = page), and for every link not seen before marks
  --       it seen and starts it with tg:spawn(visit, link).
  -- TODO: visit the start page, and return the pages once the group is done.
end

return M
