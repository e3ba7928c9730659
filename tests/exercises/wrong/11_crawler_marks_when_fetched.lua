-- Wrong: a link counts as seen only once its page has arrived, so two pages
-- that link to a url still being fetched both start a fetch of it.
local M = {}
function M.crawl(start)
  local pages = {}
  asched.task_group(function(tg)
    local function visit(url)
      local page = M.fetch(url)
      pages[url] = page
      for _, link in ipairs(page.links) do
        if pages[link] == nil then
          tg:spawn(visit, link)
        end
      end
    end
    visit(start)
  end)
  return pages
end
return M
