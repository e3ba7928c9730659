/* queue.h -- a FIFO queue of values with an optional bound: getters wait while
 * it is empty, putters while it is full, joiners until every item put was
 * marked done. A freed slot, a put item and a returned item all go straight
 * to the oldest waiter (no barging), and a waiter cancelled after being served
 * passes what it got on, so no item and no slot is ever lost. */
#ifndef ASCHED_QUEUE_H
#define ASCHED_QUEUE_H

#include "waitq.h"

/* Lives in the Queue userdata, whose user value 1 is the table of items, at
 * head..tail (so nil is an item). Every function takes the (positive) stack
 * index `self` of that userdata. */
typedef struct as_queue {
  as_waitq getters, putters, joiners;
  lua_Integer maxsize;       /* 0: unbounded */
  lua_Integer head, tail;    /* size = tail - head + 1 */
  lua_Integer reserved;      /* free slots already handed to waiting putters */
  lua_Integer unfinished;    /* items put and not yet marked done */
} as_queue;

void as__queue_init(as_queue *q, lua_Integer maxsize);

static inline lua_Integer as__queue_size(const as_queue *q) { return q->tail - q->head + 1; }

/* Full: no slot that is not reserved for a waiting putter. */
static inline int as__queue_full(const as_queue *q) {
  return q->maxsize > 0 && as__queue_size(q) + q->reserved >= q->maxsize;
}

/* A put may go ahead now: the queue is not full and nobody waits to put. */
static inline int as__queue_can_put(const as_queue *q) {
  return !as__queue_full(q) && as__waitq_empty(&q->putters);
}

/* The value on top (popped) enters: straight to the oldest getter, or at the
 * back. `slot_granted`: the putter had waited and was handed a slot. */
void as__queue_put(lua_State *L, as_loop *loop, as_queue *q, int self, int slot_granted);

/* Takes the front item off and pushes it; its slot goes to the oldest putter.
 * The queue must not be empty. */
void as__queue_get(lua_State *L, as_loop *loop, as_queue *q, int self);

/* An item was marked done; returns 0, or -1 when more were marked than put. */
int as__queue_task_done(lua_State *L, as_loop *loop, as_queue *q);

#endif
