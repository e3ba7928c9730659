-- three fetches, one of them fails, under a semaphore of two
local limit = asched.semaphore(2)
local function fetch(n, delay)
  local permit <close> = limit:acquire()
  asched.sleep(delay)
  if n == 3 then error("source 3 is down") end
  return n
end
local tasks = {}
for n = 1, 3 do tasks[n] = asched.spawn(fetch, n, n) end
tasks[2].name = "fetch-2"
local results = asched.gather(tasks, {return_exceptions = true})
print(results.n)
