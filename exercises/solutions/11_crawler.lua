-- Exercise 11: a crawler that stops on the first failure -- a reference solution.
--
-- One task group holds every fetch. A page's task spawns the fetches of the
-- links it found into the same group, so the group waits for the whole crawl;
-- when one fetch fails, the group cancels every other one and raises a
-- TaskGroupError, which goes up to crawl's caller as it is.

local M = {}

function M.crawl(start)
  local pages = {}
  local seen = {[start] = true}   -- marked when a url is found, not when it arrives

  asched.task_group(function(tg)
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
  return pages
end

return M
