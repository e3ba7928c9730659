-- Exercise 07: a producer/consumer pipeline with a bounded queue
--
-- One task produces items, another consumes them, and a queue between them
-- lets the producer work ahead while the consumer is busy -- but only a
-- little ahead: the queue holds at most `queue_size` items, and a put() into
-- a full queue waits until the consumer takes one out.
--
-- Write pipeline(produce, consume, queue_size):
--   * make a queue with asched.queue(queue_size);
--   * a producer task calls produce() again and again, putting every item it
--     returns into the queue, until produce() returns nil (then it stops
--     calling produce);
--   * one consumer takes the items out of the queue in order and calls
--     consume(item) for each, one at a time (consume is slow: it suspends);
--   * the producer and the consumer run at the same time;
--   * pipeline returns a list (a table) of what consume returned, in the
--     order of the items: {consume(item1), consume(item2), ...}.
--   The consumer needs to know when the producer is done: think of a special
--   "end" value the producer puts in the queue last.
--
-- Check it with:  ./build/asched check 7

local M = {}

function M.pipeline(produce, consume, queue_size)
  -- TODO: local queue = asched.queue(queue_size)
  -- TODO: spawn the producer: produce() until nil, queue:put(item) each item,
  --       then tell the consumer that there is nothing more.
  -- TODO: consume: take items from the queue, call consume(item), collect the
  --       results in order, stop at the end marker, return the results.
end

return M
