/* queue.h -- a queue of values with an optional bound, first-in first-out,
 * last-in first-out or by priority: getters wait while it is empty, putters
 * while it is full, joiners until every item put was marked done; shutdown
 * (Python 3.13) stops it. A freed slot goes straight to the oldest waiting
 * putter; an item put while getters wait is promised to the oldest getter
 * (a ticket), and the getter takes whatever is next when it runs -- so the
 * items keep their order even when a woken getter is cancelled, which passes
 * its ticket on. Nothing is ever lost and nobody barges in. */
#ifndef ASCHED_QUEUE_H
#define ASCHED_QUEUE_H

#include <stddef.h>
#include <stdint.h>

#include "waitq.h"

typedef enum { AS_QUEUE_FIFO, AS_QUEUE_LIFO, AS_QUEUE_PRIORITY } as_queue_kind;

/* A priority queue's entry: its value is items[seq]. */
typedef struct as_queue_entry {
  lua_Number priority;
  uint64_t seq;          /* put order: equal priorities come out in it */
} as_queue_entry;

/* Lives in the Queue userdata, whose user value 1 is the table of items
 * (FIFO and LIFO: at head..tail, so nil is an item; priority: the value at
 * 2*seq and the priority as given at 2*seq+1).
 * Every function takes the (positive) stack index `self` of that userdata.
 * The userdata's __gc must call as__queue_free. */
typedef struct as_queue {
  as_waitq getters, putters, joiners;
  as_queue_kind kind;
  lua_Integer maxsize;       /* 0: unbounded */
  lua_Integer head, tail;    /* FIFO, LIFO: size = tail - head + 1 */
  as_queue_entry *heap;      /* priority: a binary heap of heap_count entries */
  size_t heap_count, heap_capacity;
  uint64_t next_seq;
  lua_Integer reserved;      /* free slots already handed to waiting putters */
  lua_Integer promised;      /* items already promised to woken getters */
  lua_Integer unfinished;    /* items put and not yet marked done */
  int shut;                  /* shutdown() was called */
} as_queue;

void as__queue_init(as_queue *q, as_queue_kind kind, lua_Integer maxsize);
void as__queue_free(as_queue *q);

lua_Integer as__queue_size(const as_queue *q);

/* Full: no slot that is not reserved for a waiting putter. */
int as__queue_full(const as_queue *q);

/* Items a get may take now: stored and not promised to a woken getter. */
static inline lua_Integer as__queue_available(const as_queue *q) { return as__queue_size(q) - q->promised; }

/* A put may go ahead now: the queue is not full and nobody waits to put. */
static inline int as__queue_can_put(const as_queue *q) {
  return !as__queue_full(q) && as__waitq_empty(&q->putters);
}

/* The value on top (popped) enters; a priority queue's priority is the
 * number (not NaN) at stack index `priority`. If getters wait, the oldest is
 * promised it. `slot_granted`: the putter had waited and was handed a slot.
 * Returns 0, or -1 when out of memory (the value is popped all the same,
 * nothing changed). */
int as__queue_put(lua_State *L, as_loop *loop, as_queue *q, int self, int priority, int slot_granted);

/* Takes the next item off (FIFO: the oldest; LIFO: the newest; priority: the
 * lowest priority, oldest first) and pushes it -- and its priority, for a
 * priority queue; returns how many values it pushed. Its slot goes to the
 * oldest waiting putter. There must be an item available. */
int as__queue_take(lua_State *L, as_loop *loop, as_queue *q, int self);

/* A woken getter runs: `ticket` says it was promised an item (not woken by
 * shutdown). Returns 1 when it may take an item now, 0 when it must raise
 * QueueShutDown. */
int as__queue_getter_runs(as_queue *q, int ticket);

/* A woken putter runs: `slot` says it was handed a slot (not woken by
 * shutdown). Returns 1 when it may put now, 0 when it must raise QueueShutDown. */
int as__queue_putter_runs(as_queue *q, int slot);

/* An item was marked done; returns 0, or -1 when more were marked than put. */
int as__queue_task_done(lua_State *L, as_loop *loop, as_queue *q);

/* Shuts the queue down: later puts fail; waiting putters and getters are
 * woken to fail (getters only once no item is left for them); with
 * `immediate` the items left are dropped and counted as done. */
void as__queue_shutdown(lua_State *L, as_loop *loop, as_queue *q, int self, int immediate);

#endif
