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

/* A priority queue's entry: its value is items[2*slot], its priority as
 * given items[2*slot+1]. */
typedef struct as_queue_entry {
  union {
    lua_Integer i;
    lua_Number f;
  } priority;            /* ordered as Lua's < orders numbers, exactly */
  int is_integer;
  uint32_t slot;         /* where it is in the items table; reused once taken */
  uint64_t seq;          /* put order: equal priorities come out in it */
} as_queue_entry;

/* The Queue userdata's user values: the table of items (FIFO and LIFO: at
 * head..tail, so nil is an item; priority: the value at 2*slot and the
 * priority as given at 2*slot+1), and the front item of a FIFO or LIFO queue.
 * An item put in an empty queue is its front item, kept outside the table:
 * in the slot, or, when getters wait, in the hands of the oldest (granted to
 * it; it takes it back out of them when it runs, or, cancelled, puts it back
 * in the slot). A queue that passes each item on before the next comes -- the
 * usual producer and consumer -- never touches the table. */
enum { AS_QUEUE_ITEMS = 1, AS_QUEUE_FRONT = 2, AS_QUEUE_USER_VALUES = 2 };

typedef enum { AS_QUEUE_FRONT_NONE, AS_QUEUE_FRONT_STORED, AS_QUEUE_FRONT_HANDED } as_queue_front;

/* Lives in the Queue userdata (user values above).
 * Every function takes the (positive) stack index `self` of that userdata.
 * The userdata's __gc must call as__queue_free. */
typedef struct as_queue {
  as_waitq getters, putters, joiners;
  as_queue_kind kind;
  lua_Integer maxsize;       /* 0: unbounded */
  as_queue_front front;      /* FIFO, LIFO: where the front item is */
  as_task *handed;           /* the getter holding it, when handed */
  lua_Integer head, tail;    /* FIFO, LIFO: size = (front != none) + tail - head + 1 */
  lua_Integer ring;          /* FIFO: the items table's slots, a power of two (0: none
                                yet); item i is at slot ((i - 1) & (ring - 1)) + 1 */
  as_queue_entry *heap;      /* priority: a binary heap of heap_count entries */
  size_t heap_count, heap_capacity;
  uint64_t next_seq;
  uint32_t *free_slots;      /* priority: slots of taken entries, for the next puts */
  size_t free_count, free_capacity;
  uint32_t slots;            /* priority: slots ever used, 1..slots */
  lua_Integer reserved;      /* free slots already handed to waiting putters */
  lua_Integer promised;      /* items already promised to woken getters */
  lua_Integer unfinished;    /* items put and not yet marked done */
  int shut;                  /* shutdown() was called */
} as_queue;

void as__queue_init(as_queue *q, as_queue_kind kind, lua_Integer maxsize);
void as__queue_free(as_queue *q);

static inline lua_Integer as__queue_size(const as_queue *q) {
  if (q->kind == AS_QUEUE_PRIORITY) return (lua_Integer)q->heap_count;
  return (q->front != AS_QUEUE_FRONT_NONE) + q->tail - q->head + 1;
}

/* Full: no slot that is not reserved for a waiting putter. */
static inline int as__queue_full(const as_queue *q) {
  return q->maxsize > 0 && as__queue_size(q) + q->reserved >= q->maxsize;
}

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

/* A woken getter (the running task) runs, with what it was granted on top
 * (popped): the front item, a ticket (true: an item is promised), or false
 * (woken by shutdown). Pushes the item it gets as as__queue_take does and
 * returns how many values it pushed, or 0 when it must raise QueueShutDown. */
int as__queue_getter_runs(lua_State *L, as_loop *loop, as_queue *q, int self);

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
