-- Wrong: a failed fetch stops the crawl (tg:cancel()), but crawl then
-- returns the pages it has instead of raising: the caller never learns that
-- the crawl failed.
local M = {}
function M.crawl(start)
  local pages, seen = {}, {[start] = true}
  asched.task_group(function(tg)
    local function visit(url)
      local ok, page = pcall(M.fetch, url)
      if not ok then
        print("fetch failed: " .. tostring(page))
        tg:cancel()
        return
      end
      pages[url] = page
      for _, link in ipairs(page.links) do
        if not seen[link] then
          seen[link] = true
          tg:spawn(visit, link)
        end
      end
    end
    visit(start)
  end)
  return pages
end
return M
