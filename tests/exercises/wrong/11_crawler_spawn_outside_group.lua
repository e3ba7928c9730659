-- Wrong: the links are fetched with asched.spawn instead of tg:spawn, so the
-- group knows nothing of them: crawl returns before they are fetched, and a
-- failure among them is never seen.
local M = {}
function M.crawl(start)
  local pages, seen = {}, {[start] = true}
  asched.task_group(function(tg)
    local function visit(url)
      local page = M.fetch(url)
      pages[url] = page
      for _, link in ipairs(page.links) do
        if not seen[link] then
          seen[link] = true
          asched.spawn(visit, link)
        end
      end
    end
    visit(start)
  end)
  return pages
end
return M
