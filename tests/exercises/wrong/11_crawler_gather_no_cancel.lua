-- Wrong: each page gathers the fetches of its new links. It crawls at the
-- right pace, but when a fetch fails, gather raises and the other fetches
-- keep running (nothing cancels them), and they go on crawling.
local M = {}
function M.crawl(start)
  local pages, seen = {}, {[start] = true}
  local function visit(url)
    local page = M.fetch(url)
    pages[url] = page
    local next_fetches = {}
    for _, link in ipairs(page.links) do
      if not seen[link] then
        seen[link] = true
        next_fetches[#next_fetches + 1] = function() visit(link) end
      end
    end
    asched.gather(next_fetches)
  end
  visit(start)
  return pages
end
return M
