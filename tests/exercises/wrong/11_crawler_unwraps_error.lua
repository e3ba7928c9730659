-- Wrong: catches the TaskGroupError and raises the fetch's own error
-- instead; the statement asks for the TaskGroupError, as it is.
local M = {}
function M.crawl(start)
  local pages, seen = {}, {[start] = true}
  local ok, err = pcall(asched.task_group, function(tg)
    local function visit(url)
      local page = M.fetch(url)
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
  if not ok then error(err.errors[1], 0) end
  return pages
end
return M
