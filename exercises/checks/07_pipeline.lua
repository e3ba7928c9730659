-- Check for exercise 07: a producer/consumer pipeline with a bounded queue.

-- An instrumented producer and consumer: `n` items, produce takes
-- `produce_time` per item (the final nil comes at once), consume takes `consume_time` and returns a token per item.
local function scenario(t, n, produce_time, consume_time)
  local s = {items = {}, results = {}, index = {}, produced = 0, consumed = 0,
             ahead = 0, most_ahead = 0, nil_calls = 0, after_nil = 0, seen = {}}
  for i = 1, n do
    s.items[i] = t.token("item")
    s.results[i] = t.token("result")
    s.index[s.items[i]] = i
  end
  s.tracker = t.tracker()

  function s.produce()
    if s.nil_calls > 0 then s.after_nil = s.after_nil + 1 end
    if s.produced == n then     -- the end: produce says so at once
      s.nil_calls = s.nil_calls + 1
      return nil
    end
    asched.sleep(produce_time)
    s.produced = s.produced + 1
    -- Items made and not yet fully consumed, counting this one.
    s.most_ahead = math.max(s.most_ahead, s.produced - s.consumed)
    return s.items[s.produced]
  end

  s.consume = s.tracker.wrap(function(item)
    s.seen[#s.seen + 1] = item
    asched.sleep(consume_time)
    s.consumed = s.consumed + 1
    local i = s.index[item]
    return i and s.results[i] or "consume was given something that produce never returned"
  end)
  return s
end

local function check_run(M, t, label, n, queue_size, produce_time, consume_time)
  local s = scenario(t, n, produce_time, consume_time)
  local elapsed, results = t.timed(string.format("pipeline (%s)", label), M.pipeline, s.produce, s.consume, queue_size)

  t.expect(type(results) == "table", label .. ": pipeline returns a table (the list of consume's results)",
           "a table", type(results))
  t.equal(#s.seen, n, string.format("%s: consume is called once for each of the %d items (calls of consume)", label, n))
  t.equal(s.produced, n, string.format("%s: produce() is called until it returns nil (items produced)", label))
  t.equal(s.after_nil, 0, label .. ": once produce() returned nil, it is not called again (calls after nil)")
  for i = 1, n do
    t.expect(s.seen[i] == s.items[i], string.format("%s: consume gets the items in the order produced", label),
             string.format("item %d in call %d", i, i), string.format("item %s", tostring(s.index[s.seen[i]] or s.seen[i])))
  end
  t.expect(s.tracker.most == 1, label .. ": one consumer: consume calls never overlap",
           "1 at a time", s.tracker.most .. " at once")
  t.equal(#results, n, string.format("%s: the list returned has one result per item", label))
  for i = 1, n do
    t.expect(results[i] == s.results[i],
             string.format("%s: result %d is what consume returned for item %d", label, i, i),
             "consume's result", tostring(results[i]))
  end
  t.expect(s.most_ahead <= queue_size + 2,
           string.format("%s: with a queue of %d, the producer is at most %d items ahead of the consumer (%d queued + 1 being consumed + 1 being put); is the queue bounded, and does the consumer start at once?",
                         label, queue_size, queue_size + 2, queue_size),
           string.format("at most %d", queue_size + 2), string.format("%d ahead", s.most_ahead))

  -- The slower side is busy all the time once the first item exists.
  local wanted
  if consume_time >= produce_time then
    wanted = produce_time + n * consume_time
  else
    wanted = n * produce_time + consume_time
  end
  local sequential = n * (produce_time + consume_time)
  t.expect(elapsed >= wanted - 1e-6 and elapsed <= wanted + 0.05,
           string.format("%s: producer and consumer run at the same time: %d items take about %.2f s (one after the other: %.2f s)",
                         label, n, wanted, sequential),
           string.format("%.2f s", wanted), string.format("%.2f s", elapsed))
end

return {
  title = "A producer and a consumer joined by a bounded queue",
  hints = {
    "Two loops run at once: spawn the producer with asched.spawn(function() ... end) and let the calling task be the consumer (or spawn both and await them). `asched.queue(queue_size)` makes put() wait while the queue is full -- that is what keeps the producer from running too far ahead.",
    "The producer: `while true do local item = produce(); if item == nil then break end; queue:put(item) end`, then put an end marker, e.g. `local DONE = {}` made in pipeline, so the consumer knows to stop. The consumer must not stop just because the queue is empty for a moment: it waits in queue:get().",
    "The consumer: `while true do local item = queue:get(); if item == DONE then break end; n = n + 1; results[n] = consume(item) end`, then `return results`. Use asched.queue(queue_size), not asched.queue(): an unbounded queue lets the producer race ahead.",
  },
  check = function(M, t)
    t.expect(type(M.pipeline) == "function", "M.pipeline is a function", "a function", type(M.pipeline))
    -- A fast producer and a slow consumer: the queue fills and put() must wait.
    check_run(M, t, "8 items, fast produce 0.25 s, slow consume 1 s, queue_size 2", 8, 2, 0.25, 1)
    -- A slow producer: the queue is often empty; the consumer must wait, not stop.
    check_run(M, t, "4 items, slow produce 1.5 s, consume 0.5 s, queue_size 1", 4, 1, 1.5, 0.5)
    -- Nothing to do at all.
    local s = scenario(t, 0, 0.25, 1)
    local elapsed, results = t.timed("pipeline (no items: produce() returns nil at once)", M.pipeline, s.produce, s.consume, 3)
    t.expect(type(results) == "table" and next(results) == nil,
             "no items: pipeline returns an empty table", "{}", tostring(results))
    t.equal(#s.seen, 0, "no items: consume is never called")
    t.near(elapsed, 0, "no items: pipeline returns as soon as produce() says nil")
  end,
}
