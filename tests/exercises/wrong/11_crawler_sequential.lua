-- Wrong: a to-do list of urls, fetched one at a time.
local M = {}
function M.crawl(start)
  local pages, seen, todo = {}, {[start] = true}, {start}
  while #todo > 0 do
    local url = table.remove(todo, 1)
    local page = M.fetch(url)
    pages[url] = page
    for _, link in ipairs(page.links) do
      if not seen[link] then
        seen[link] = true
        todo[#todo + 1] = link
      end
    end
  end
  return pages
end
return M
