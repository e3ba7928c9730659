-- Wrong: crawls level by level, a task group per level: the links found on
-- a fast page wait until the slowest page of its level has arrived.
local M = {}
function M.crawl(start)
  local pages, seen, level = {}, {[start] = true}, {start}
  while #level > 0 do
    local found = {}
    asched.task_group(function(tg)
      for _, url in ipairs(level) do
        tg:spawn(function()
          local page = M.fetch(url)
          pages[url] = page
          for _, link in ipairs(page.links) do
            if not seen[link] then
              seen[link] = true
              found[#found + 1] = link
            end
          end
        end)
      end
    end)
    level = found
  end
  return pages
end
return M
