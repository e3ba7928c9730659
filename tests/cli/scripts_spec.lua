-- The tutorial's scripts (scripts/, scripts/examples, scripts/advanced), each
-- run as a user runs it: `asched --virtual-time <script>` in a subprocess
-- under `timeout`. Each must exit 0 and print the lines that carry its lesson
-- -- checked by content and order, not as a byte-for-byte snapshot.
local here = debug.getinfo(1, "S").source:match("^@(.-)[^/]*$")
local support = dofile(here .. "support.lua")
local scripts = here .. "../../scripts/"

-- Runs scripts/<path> (read here, written to a fresh directory under its own
-- name) and returns the result of support.run. Runs under --virtual-time
-- unless `options` says otherwise.
local function run(path, args, options)
  local text = assert(support.read(scripts .. path), "cannot read scripts/" .. path)
  return support.run({
    script = text,
    script_name = path:match("[^/]*$"),
    options = options or {"--virtual-time"},
    args = args,
  })
end

-- One run per script per spec file: the checks below read the same output.
local runs = {}
local function output(path, args)
  local key = path .. " " .. table.concat(args or {}, " ")
  if not runs[key] then runs[key] = run(path, args) end
  return runs[key]
end

-- Asserts that `text` contains every needle (plain text), in this order.
local function assert_in_order(text, needles)
  local from = 1
  for _, needle in ipairs(needles) do
    local s, e = text:find(needle, from, true)
    assert(s, string.format("expected %q after position %d in:\n%s", needle, from, text))
    from = e + 1
  end
end

local function assert_ran_cleanly(r, stderr_expected)
  assert.equal(0, r.status, support.describe(r))
  if not stderr_expected then assert.equal("", r.stderr, support.describe(r)) end
end

local function listing(dir)
  local p = assert(io.popen("ls " .. support.quote(scripts .. dir)))
  local names = {}
  for name in p:lines() do
    if name:match("%.lua$") then names[#names + 1] = name end
  end
  p:close()
  table.sort(names)
  return names
end

describe("the scripts directories", function()
  -- A new script needs its own checks below; this list makes that visible.
  it("hold exactly the scripts this spec checks", function()
    assert.same({"async_scheduler.lua", "compare_sync_async.lua", "hello.lua", "real_fetch.lua"}, listing(""))
    assert.same({"as_completed.lua", "basic_coroutine.lua", "chat_server.lua", "error_handling.lua",
                 "gathering_tasks.lua", "supervisor.lua", "tls_client.lua", "web_service.lua"}, listing("examples"))
    assert.same({"cancellation.lua", "context_managers.lua", "debugging.lua", "task_groups.lua", "threading.lua",
                 "timeouts.lua"}, listing("advanced"))
  end)

  it("all run to completion with exit status 0 (real_fetch.lua in real time, below)", function()
    for _, dir in ipairs({"", "examples/", "advanced/"}) do
      for _, name in ipairs(listing(dir)) do
        if name == "real_fetch.lua" then goto next end
        local args = name == "async_scheduler.lua" and {"42"} or nil
        local r = output(dir .. name, args)
        assert(r.status == 0, dir .. name .. ": " .. support.describe(r))
        ::next::
      end
    end
  end)
end)

describe("scripts/real_fetch.lua (seed 42, delays scaled by 0.1, real time)", function()
  local r
  setup(function() r = run("real_fetch.lua", {"42", "0.1"}, {}) end)

  it("exits 0 and prints nothing on stderr", function()
    assert.equal(0, r.status, support.describe(r))
    assert.equal("", r.stderr, support.describe(r))
  end)

  it("serves the sources from the same process and fetches them over HTTP", function()
    assert.matches("serving sources on http://127%.0%.0%.1:%d+\n", r.stdout)
    for id = 1, 5 do assert.matches("  result " .. id .. ": Data from " .. id .. "\n", r.stdout, 1, true) end
  end)

  it("fetches five sources in about the time of the slowest, not the sum", function()
    local elapsed, longest, sum = r.stdout:match("Fetched 5 items in ([%d.]+) seconds %(the slowest source took ([%d.]+) s, all together ([%d.]+) s%)")
    assert.is_truthy(elapsed, support.describe(r))
    assert.is_true(tonumber(elapsed) >= tonumber(longest) - 0.01)
    assert.is_true(tonumber(elapsed) < tonumber(sum))
  end)

  it("processes results as they complete, gives up on the slow source, and returns a 404", function()
    local _, processed = r.stdout:gsub("Processed Data from %d after", "")
    assert.equal(5, processed)
    assert.matches("Gave up on source 99: TimeoutError: ", r.stdout, 1, true)
    assert.matches("GET /nowhere: 404 no such source", r.stdout, 1, true)
  end)
end)

describe("scripts/async_scheduler.lua with a seed (42 unless named)", function()
  local function delays_for_seed(seed)
    -- The script's first five random numbers are its gather delays; the
    -- asched program embeds the same Lua 5.4, so the same seed gives them here.
    math.randomseed(seed)
    local delays = {}
    for i = 1, 5 do delays[i] = 1 + math.random(0, 200) / 100 end
    math.randomseed(os.time())
    return delays
  end

  it("exits 0 and prints nothing on stderr", function()
    assert_ran_cleanly(output("async_scheduler.lua", {"42"}))
  end)

  it("fetches five items in the time of the longest delay, not the sum", function()
    local r = output("async_scheduler.lua", {"42"})
    local elapsed, longest, sum = r.stdout:match(
      "Fetched 5 items in (%d+%.%d%d) seconds %(the slowest source took (%d+%.%d%d) s, all together (%d+%.%d%d) s%)")
    assert(elapsed, r.stdout)
    local delays = delays_for_seed(42)
    assert.equal(string.format("%.2f", math.max(table.unpack(delays))), elapsed)
    assert.equal(elapsed, longest)
    assert.is_true(tonumber(sum) > tonumber(elapsed) + 1)
  end)

  it("returns the gathered results in source order", function()
    local r = output("async_scheduler.lua", {"42"})
    assert_in_order(r.stdout, {"result 1: Data from 1", "result 2: Data from 2", "result 3: Data from 3",
                               "result 4: Data from 4", "result 5: Data from 5"})
  end)

  it("processes the as_completed results in completion order", function()
    local r = output("async_scheduler.lua", {"42"})
    local section = r.stdout:match("=== 2%. Process as Completed.-\n(.-)\n=== 3")
    assert(section, r.stdout)
    local seen, last, count = {}, 0, 0
    local previous_completed
    for line in section:gmatch("[^\n]+") do
      local completed = line:match("^Completed fetch from source (%d)")
      if completed then previous_completed = completed end
      local source, after = line:match("^Processed Data from (%d) after (%d+%.%d%d) s")
      if source then
        count = count + 1
        assert.equal(previous_completed, source)     -- processed right as it completed
        assert.is_nil(seen[source])
        seen[source] = true
        assert.is_true(tonumber(after) >= last, "times go backwards: " .. section)
        last = tonumber(after)
      end
    end
    assert.equal(5, count)
  end)

  -- For each source of the retry section: how many fetches it started, how
  -- many attempts failed, and whether it was given up on.
  local function retries(stdout)
    local section = assert(stdout:match("=== 3%. Retry.-\n(.-)\n=== 4"), stdout)
    local outcome = {}
    for source = 1, 3 do
      local _, starts = section:gsub("Starting fetch from source " .. source .. "\n", "")
      local _, failures = section:gsub("Attempt %d for source " .. source .. " failed", "")
      local gave_up = section:find(string.format("Source %d: gave up (source %d failed after 3 attempts)",
                                                 source, source), 1, true) ~= nil
      local data = section:find("Source " .. source .. ": Data from " .. source, 1, true) ~= nil
      outcome[source] = {starts = starts, failures = failures, gave_up = gave_up, data = data}
    end
    return outcome
  end

  for _, seed in ipairs({"42", "1"}) do
    it("retries a failing source until it succeeds or has failed three times (seed " .. seed .. ")", function()
      local r = output("async_scheduler.lua", {seed})
      assert_ran_cleanly(r)
      for source, o in ipairs(retries(r.stdout)) do
        local what = string.format("source %d: %d starts, %d failures", source, o.starts, o.failures)
        assert(o.failures <= 3, what)
        assert.equal(o.failures == 3, o.gave_up, what)
        assert.equal(not o.gave_up, o.data, what)
        assert.equal(o.gave_up and 3 or o.failures + 1, o.starts, what)
      end
    end)
  end

  it("gives up on some source with seed 1 (so the check above sees a give-up)", function()
    local gave_up = false
    for _, o in ipairs(retries(output("async_scheduler.lua", {"1"}).stdout)) do
      gave_up = gave_up or o.gave_up
    end
    assert.is_true(gave_up)
  end)

  it("gives up on the slow source with a TimeoutError and limits fetches to two at a time", function()
    local r = output("async_scheduler.lua", {"42"})
    assert.matches("Gave up on source 99: TimeoutError", r.stdout, 1, true)
    assert.matches("Six one-second fetches, two at a time, took 3.00 seconds", r.stdout, 1, true)
  end)

  it("prints the same run twice for the same seed", function()
    local again = run("async_scheduler.lua", {"42"})
    assert.equal(output("async_scheduler.lua", {"42"}).stdout, again.stdout)
  end)

  it("draws the picture the README shows (scripts/async_scheduler.svg)", function()
    local r = support.run({
      script = assert(support.read(scripts .. "async_scheduler.lua")),
      script_name = "async_scheduler.lua",
      options = {"--virtual-time", "--timeline=picture.svg"},
      args = {"42"},
      keep = true,
    })
    local drawn = support.read(r.dir .. "/picture.svg")
    support.remove(r.dir)
    assert.equal(0, r.status, support.describe(r))
    assert.equal(support.read(scripts .. "async_scheduler.svg"), drawn,
      "regenerate it: ./build/asched --virtual-time --timeline=scripts/async_scheduler.svg "
      .. "scripts/async_scheduler.lua 42")
  end)
end)

describe("scripts/hello.lua", function()
  it("finishes five concurrent sleeps in the time of the longest", function()
    local r = output("hello.lua")
    assert_ran_cleanly(r)
    assert.matches("slept 3.0 s in all, in 1.00 s of loop time", r.stdout, 1, true)
  end)
end)

describe("scripts/compare_sync_async.lua", function()
  it("takes about 10 s sequentially, about 2 s concurrently, a five-fold speed-up", function()
    local r = output("compare_sync_async.lua")
    assert_ran_cleanly(r)
    local sequential = tonumber(r.stdout:match("Sequential: 5 operations took (%d+%.%d+) seconds"))
    local concurrent = tonumber(r.stdout:match("Concurrent: 5 operations took (%d+%.%d+) seconds"))
    assert(sequential and concurrent, r.stdout)
    assert.near(10, sequential, 0.05)
    assert.near(2, concurrent, 0.05)
    assert.matches("Sequential 10.00 s, concurrent 2.00 s: 5.0x faster", r.stdout, 1, true)
  end)

  it("starts the concurrent operations together and the sequential ones in turn", function()
    local r = output("compare_sync_async.lua")
    assert_in_order(r.stdout, {"0.00  operation 1 starts", "2.00  operation 1 done", "2.00  operation 2 starts",
                               "10.00  operation 5 done", "10.00  operation 5 starts", "12.00  operation 1 done"})
  end)
end)

describe("scripts/examples/basic_coroutine.lua", function()
  it("runs direct calls one after the other and spawned tasks together", function()
    local r = output("examples/basic_coroutine.lua")
    assert_ran_cleanly(r)
    assert.matches("Two direct calls took 2.00 seconds", r.stdout, 1, true)
    assert.matches("Two spawned tasks took 1.00 seconds", r.stdout, 1, true)
  end)

  it("starts spawned tasks only when main awaits, and await returns their values", function()
    local r = output("examples/basic_coroutine.lua")
    assert_in_order(r.stdout, {"neither has started yet", "2.00  hello, Ada", "2.00  hello, Brian",
                               "3.00  goodbye, Ada", "greeted Ada", "greeted Brian",
                               "(done: true)", "17 = 5 * 3 + 2"})
  end)
end)

describe("scripts/examples/gathering_tasks.lua", function()
  it("returns results in input order whatever the completion order", function()
    local r = output("examples/gathering_tasks.lua")
    assert_ran_cleanly(r)
    assert_in_order(r.stdout, {"1.00  second finished", "2.00  third finished", "3.00  first finished",
                               "gather returned after 3.00 seconds",
                               "results[1] = first", "results[2] = second", "results[3] = third"})
  end)

  it("raises the first error without cancelling the other items", function()
    local r = output("examples/gathering_tasks.lua")
    assert_in_order(r.stdout, {"gather raised: disk on fire", "still running: done = false",
                               "finishes anyway: survivor"})
  end)

  it("puts errors in their items' places with return_exceptions", function()
    local r = output("examples/gathering_tasks.lua")
    assert_in_order(r.stdout, {"item 1 succeeded: alpha", "item 2 failed: beta broke",
                               "item 3 succeeded: gamma", "2 succeeded, 1 failed", "gather({}).n = 0"})
  end)
end)

describe("scripts/examples/web_service.lua", function()
  it("serves a burst of reports at most three at once, and a cheap request meanwhile", function()
    local r = output("examples/web_service.lua")
    assert_ran_cleanly(r)
    for n = 1, 6 do assert.matches(string.format("report %d: %d squared is %d", n, n, n * n), r.stdout, 1, true) end
    assert_in_order(r.stdout, {"health answered in 0.0 s, while reports waited: ok",
                               "6 reports took 1.0 s: at most 3 at once", "not found: 404"})
  end)

  it("serves until stopped with `serve PORT`", function()
    local p = io.popen("cd " .. support.quote(scripts) .. " && pwd")
    local absolute = p:read("l") .. "/"
    p:close()
    local r = support.interrupt([[
local dir = ...
local listen, port = asched.http.listen, nil
asched.http.listen = function(...)          -- learn the port the kernel picked
  local server = listen(...)
  port = server.port
  return server
end
asched.spawn(function()
  asched.sleep(0.2)
  io.write("answered: ", asched.http.get("http://127.0.0.1:" .. port .. "/report?n=7").body)
  io.stdout:flush()
  local f = assert(io.open(dir .. "/ready", "w")) f:close()
end)
arg = {[0] = "web_service.lua", "serve", "0"}
dofile("]] .. absolute .. [[examples/web_service.lua")
]], {"ready"})
    assert.equal(130, r.status, support.describe(r))
    assert_in_order(r.stdout, {"serving on http://127.0.0.1:", "answered: report 7: 7 squared is 49"})
  end)
end)

describe("scripts/examples/supervisor.lua", function()
  it("restarts a crashing child with a growing pause, relays its output, and kills it when stopped", function()
    local r = run("examples/supervisor.lua", nil, {})   -- real time: the child's sleeps are real
    assert_ran_cleanly(r)
    assert_in_order(r.stdout, {"out: worker 1 starting", "worker exited: code 2, signal nil; restarting in 0.1 s",
                               "out: worker 2 starting", "worker exited: code 2, signal nil; restarting in 0.2 s",
                               "out: worker 3 starting", "out: worker 3 working",
                               "supervisor stopped after 2 s; the worker was killed with it"})
    assert.matches("err: worker 1: something broke", r.stdout, 1, true)
    local p = io.popen("pgrep -f 'while true; do ech[o] .worker'")
    local left = p:read("a")
    p:close()
    assert.equal("", left, "the worker outlived the supervisor")
  end)
end)

describe("scripts/examples/chat_server.lua", function()
  it("sends every line to every other member, then everyone leaves", function()
    local r = output("examples/chat_server.lua")
    assert_ran_cleanly(r)
    local lines = {}
    for line in r.stdout:gmatch("[^\n]+") do lines[#lines + 1] = line end
    assert.equal(4, #lines, r.stdout)
    local said = {["hello"] = 0, ["hi there"] = 0, ["good morning"] = 0}
    for i = 1, 3 do
      local me, a, x, b, y = lines[i]:match("^(guest%d) heard (guest%d): (.-) and (guest%d): (.+)$")
      assert(me and a ~= me and b ~= me and a ~= b, lines[i])
      said[x], said[y] = said[x] + 1, said[y] + 1
    end
    assert.same({["hello"] = 2, ["hi there"] = 2, ["good morning"] = 2}, said)
    assert.equal("everyone left; the room is closed", lines[4])
  end)
end)

describe("scripts/examples/as_completed.lua", function()
  it("processes results in completion order", function()
    local r = output("examples/as_completed.lua")
    assert_ran_cleanly(r)
    assert_in_order(r.stdout, {"1.00  processed notes.txt", "2.00  processed photo.jpg",
                               "3.00  processed video.mp4 (700 MB, 742 MB so far)"})
    assert_in_order(r.stdout, {"part1 done:  25%", "part2 done:  50%", "part3 done:  75%", "part4 done: 100%"})
  end)

  it("raises TimeoutError past its timeout and leaves the slow item running", function()
    local r = output("examples/as_completed.lua")
    assert_in_order(r.stdout, {"1.00  processed quick.txt", "2.00  gave up: TimeoutError",
                               "huge.iso still running: done = false", "after cancel: cancelled = true"})
    assert.not_matches("processed huge.iso", r.stdout, 1, true)
  end)
end)

describe("scripts/examples/error_handling.lua", function()
  it("re-raises a task's error in whoever awaits it, and keeps table errors unchanged", function()
    local r = output("examples/error_handling.lua")
    assert.equal(0, r.status, support.describe(r))
    assert_in_order(r.stdout, {"pcall(task.await, task) -> false, server-a is unreachable",
                               "task:exception() -> server-a is unreachable",
                               "names the line: error_handling.lua:14:",
                               "caught a table: code 503, service unavailable"})
  end)

  it("shows asched's errors with name and message", function()
    local r = output("examples/error_handling.lua")
    assert_in_order(r.stdout, {"err.name = TimeoutError, err.message = timed out after 1",
                               "tostring(err) = TimeoutError: timed out after 1",
                               "awaiting a cancelled task raises CancelledError: no longer needed",
                               "1: success: db ok", "2: failure: cache is unreachable", "3: success: search ok"})
  end)

  it("reports the error nobody retrieved on stderr, without failing the run", function()
    local r = output("examples/error_handling.lua")
    assert.equal(0, r.status)
    assert.matches("error in forgotten was never retrieved", r.stderr, 1, true)
    assert.matches("server-d is unreachable", r.stderr, 1, true)
    assert.not_matches("server-a", r.stderr, 1, true)   -- that one was retrieved
  end)
end)

describe("scripts/advanced/cancellation.lua", function()
  it("cancels a task at its suspension point; awaiting it raises CancelledError", function()
    local r = output("advanced/cancellation.lua")
    assert_ran_cleanly(r)
    assert_in_order(r.stdout, {"main: cancel() -> true", "done = false",
                               "await raised CancelledError: user pressed stop",
                               "cancelled = true; cancelling again -> false"})
    assert.not_matches("finished (never printed)", r.stdout, 1, true)
  end)

  it("lets the task clean up, closes <close> variables innermost first, and never runs a task cancelled before it started", function()
    local r = output("advanced/cancellation.lua")
    assert_in_order(r.stdout, {"2.00  worker: cancelled (shutting down), closing db-connection-1",
                               "worker cancelled = true",
                               "3.00    __close inner resource (leaving because of: CancelledError",
                               "3.00    __close outer resource (leaving because of: CancelledError",
                               "never ran, cancelled = true, await raised CancelledError",
                               "stubborn returned 3, cancelled = false"})
    assert.not_matches("this line never prints", r.stdout, 1, true)
  end)
end)

describe("scripts/advanced/timeouts.lua", function()
  it("wait_for returns in time, or cancels the function or task and raises TimeoutError", function()
    local r = output("advanced/timeouts.lua")
    assert_ran_cleanly(r)
    assert_in_order(r.stdout, {" 1.00  fast query answered", " 3.00    slow query stopped early (CancelledError)",
                               " 3.00  slow query: TimeoutError", " 1.00    report stopped early",
                               "report: TimeoutError: timed out after 1", "the task was cancelled: true"})
  end)

  it("a timeout scope covers every step of its block", function()
    local r = output("advanced/timeouts.lua")
    assert_in_order(r.stdout, {"1.00  step 1: login answered", "2.00  step 2: search answered",
                               "2.50    download stopped early", "2.50  block: TimeoutError: timed out after 2.5 s",
                               "no deadline: patient query answered"})
    assert.not_matches("step 3:", r.stdout, 1, true)
  end)

  it("nested timeouts each raise only their own expiry", function()
    local r = output("advanced/timeouts.lua")
    assert_in_order(r.stdout, {"inner gave TimeoutError: timed out after 1 s; carrying on",
                               "2.00  outer 5 s, inner 1 s -> fallback answered",
                               "3.00  inside outer: inner saw CancelledError",
                               "3.00  outer 1 s, inner 5 s -> TimeoutError: timed out after 1 s"})
  end)
end)

describe("scripts/advanced/context_managers.lua", function()
  it("a <close> permit lets two downloads run at a time", function()
    local r = output("advanced/context_managers.lua")
    assert_ran_cleanly(r)
    assert_in_order(r.stdout, {"0.00  a: got a permit", "0.00  b: got a permit", "1.00  b: done",
                               "1.00  c: got a permit", "1.00  d: got a permit", "2.00  d: done",
                               "2.00  four downloads"})
  end)

  it("a lock guard serialises the withdrawals and is released on error", function()
    local r = output("advanced/context_managers.lua")
    assert_in_order(r.stdout, {"withdrew 30, balance 70", "withdrew 50, balance 20",
                               "the failed withdrawal said: cannot withdraw 500 from 70",
                               "balance 20, lock still held: false",
                               "inside lock:with, locked = true", "lock:with returned 42, locked = false"})
  end)

  it("a custom resource is closed on normal exit and on cancellation", function()
    local r = output("advanced/context_managers.lua")
    assert_in_order(r.stdout, {"opened conn-1", "closing conn-1 (normal exit)", "conn-1 finished its work",
                               "opened conn-2", "closing conn-2 (CancelledError: shutdown)",
                               "conn-2's task cancelled: true"})
  end)
end)

describe("scripts/advanced/task_groups.lua", function()
  it("returns once every child is done, their results ready", function()
    local r = output("advanced/task_groups.lua")
    assert_ran_cleanly(r)
    assert_in_order(r.stdout, {"=== 1.", " 0.50    cache: answered", " 1.00    db: answered", " 1.50    search: answered",
                               " 1.50  task_group returned, every child done: true",
                               " 1.50  results: db ok, cache ok, search ok"})
  end)

  it("cancels the siblings of a failing child at once and raises a TaskGroupError listing its error", function()
    local r = output("advanced/task_groups.lua")
    local raised = support.line_of(assert(support.read(scripts .. "advanced/task_groups.lua")),
                                   'error(name .. " is unreachable", 0)')
    local step = assert(r.stdout:match("=== 2%..-\n(.-)\n=== 3"), r.stdout)
    assert_in_order(step, {" 0.50    cache: fails", " 0.50    cache: connection closed (cache is unreachable)",
                           " 0.50    db: connection closed (CancelledError: cancelled with its task group)",
                           " 0.50    search: connection closed (CancelledError: cancelled with its task group)",
                           " 0.50  task_group raised TaskGroupError",
                           "err.message = 1 error in a task group, the first: cache is unreachable",
                           "err.errors[1] = cache is unreachable, raised at task_groups.lua:" .. raised .. "\n",
                           "db cancelled: true, search cancelled: true"})
    assert.not_matches("answered", step, 1, true)
    assert.not_matches("err.errors[2]", step, 1, true)
  end)

  it("lists every error in the order raised, the second one raised while handling the cancellation", function()
    local r = output("advanced/task_groups.lua")
    assert_in_order(r.stdout, {"=== 3.", " 0.50    cache: fails",
                               " 0.50    writer: CancelledError: cancelled with its task group; saving its buffer first",
                               " 0.75  task_group raised TaskGroupError: 2 errors in a task group, the first: cache is unreachable",
                               " 0.75  err.errors[1] = cache is unreachable",
                               " 0.75  err.errors[2] = writer: disk full while saving"})
  end)

  it("returns normally with no values after tg:cancel(), and takes no child afterwards", function()
    local r = output("advanced/task_groups.lua")
    local step = assert(r.stdout:match("=== 4%..-\n(.-)\n=== 5"), r.stdout)
    assert_in_order(step, {" 0.50    mirror-2: answered",
                           " 0.50    mirror-1: connection closed (CancelledError",
                           " 0.50    mirror-3: connection closed (CancelledError",
                           " 0.50  task_group returned normally with 0 values; answer: mirror-2 ok",
                           "tg:spawn afterwards raised RuntimeError"})
  end)

  it("shows gather raising the same failure while the other items run on", function()
    local r = output("advanced/task_groups.lua")
    local step = assert(r.stdout:match("=== 5%..-\n(.*)$"), r.stdout)
    assert_in_order(step, {" 0.50    cache: fails",
                           " 0.50  gather raised: cache is unreachable; db done: false, search done: false",
                           " 1.00    db: answered", " 1.50    search: answered",
                           " 1.50  awaited anyway: db ok, search ok"})
    assert.not_matches("CancelledError", step, 1, true)
  end)

  it("draws the picture the README shows (scripts/advanced/task_groups.svg)", function()
    local r = support.run({
      script = assert(support.read(scripts .. "advanced/task_groups.lua")),
      script_name = "task_groups.lua",
      options = {"--virtual-time", "--timeline=picture.svg"},
      keep = true,
    })
    local drawn = support.read(r.dir .. "/picture.svg")
    support.remove(r.dir)
    assert.equal(0, r.status, support.describe(r))
    assert.equal(support.read(scripts .. "advanced/task_groups.svg"), drawn,
      "regenerate it: ./build/asched --virtual-time --timeline=scripts/advanced/task_groups.svg "
      .. "scripts/advanced/task_groups.lua")
  end)

  it("is the picture of a failed child and its cancelled siblings", function()
    local svg = assert(support.read(scripts .. "advanced/task_groups.svg"))
    assert.matches("<title>2 cache failed at", svg, 1, true)
    assert.matches("<title>2 db cancelled at", svg, 1, true)
    assert.matches("<title>2 search cancelled at", svg, 1, true)
    assert.matches("<title>5 search done at", svg, 1, true)
  end)
end)

describe("scripts/advanced/threading.lua", function()
  it("keeps other tasks running while a thread works, and copies values both ways", function()
    local r = output("advanced/threading.lua")
    assert_ran_cleanly(r)
    assert_in_order(r.stdout, {"on the loop: 0 ticks during 0.2 s of work",
                               "helper, turn 1: is the thread's work done? false",
                               "helper, turn 3: is the thread's work done? false",
                               "in a thread: finished = true after 0.2 s of work",
                               "sleep 0.1 -> exit 0", "true -> exit 0", "exit 3 -> exit 3",
                               "a table in, a table out: 3 numbers, total 12",
                               "is refused: bad argument #1 to 'to_thread'",
                               "caught: cannot open missing.csv",
                               "during 0.2 s of thread work,"})
    -- Virtual time waits for the thread only up to the autojump threshold.
    local ticks = tonumber(r.stdout:match("the ticker ticked (%d+) times meanwhile"))
    assert(ticks, r.stdout)
    assert.is_true(ticks > 0)
  end)

  it("in real time, the ticker ticks while the thread works", function()
    local r = run("advanced/threading.lua", nil, {})
    assert_ran_cleanly(r)
    local ticks = tonumber(r.stdout:match("the ticker ticked (%d+) times meanwhile"))
    assert(ticks, r.stdout)
    assert.is_true(ticks > 0)
    assert.matches("on the loop: 0 ticks", r.stdout, 1, true)
  end)
end)

describe("scripts/advanced/debugging.lua", function()
  it("shows blocking calls starving the other tasks, and asched.sleep not", function()
    local r = output("advanced/debugging.lua")
    assert.equal(0, r.status, support.describe(r))
    assert.matches("busy loop, 0.2 s:            0 heartbeats", r.stdout, 1, true)
    assert.matches('os.execute("sleep 0.1"):     0 heartbeats', r.stdout, 1, true)
    assert.matches("asched.sleep(0.2):           3 heartbeats, loop clock moved 0.20 s", r.stdout, 1, true)
  end)

  it("shows direct calls running in turn and spawned ones together", function()
    local r = output("advanced/debugging.lua")
    assert_in_order(r.stdout, {"called directly: 3.00 s", "spawned:         1.00 s"})
  end)

  it("shows a semaphore capping the requests in flight", function()
    local r = output("advanced/debugging.lua")
    assert_in_order(r.stdout, {"no limit:       500 requests in flight at once, 0.10 s",
                               "semaphore(10):   10 requests in flight at once, 5.00 s"})
  end)

  it("reports the forgotten error on stderr, and a done callback retrieves another", function()
    local r = output("advanced/debugging.lua")
    assert.matches("done callback: caught by its callback", r.stdout, 1, true)
    assert.matches("error in fire-and-forget was never retrieved", r.stderr, 1, true)
    assert.not_matches("caught by its callback", r.stderr, 1, true)
  end)

  it("catches the deadlock as a DeadlockError naming both tasks, then recovers", function()
    local r = output("advanced/debugging.lua")
    assert_in_order(r.stdout, {"pcall caught DeadlockError:", "main (waiting on 2 of 2 tasks",
                               "a-then-b (waiting on lock", "b-then-a (waiting on lock",
                               "lock a locked = false, lock b locked = false"})
  end)
end)
