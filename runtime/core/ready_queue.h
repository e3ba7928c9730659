/* ready_queue.h -- the FIFO of tasks waiting for their turn to run.
 * Intrusive: the caller passes list nodes embedded in its tasks; O(1) push and pop. */
#ifndef ASCHED_READY_QUEUE_H
#define ASCHED_READY_QUEUE_H

#include "list.h"

typedef struct as_ready_queue {
  as_list head;
  size_t count;
} as_ready_queue;

static inline void as_ready_init(as_ready_queue *q) {
  as_list_init(&q->head);
  q->count = 0;
}

static inline int as_ready_empty(const as_ready_queue *q) { return q->count == 0; }

/* Appends `n`, which must not be linked anywhere. */
static inline void as_ready_push(as_ready_queue *q, as_list *n) {
  as_list_push_back(&q->head, n);
  q->count++;
}

/* Unlinks and returns the oldest node, or NULL when empty. */
static inline as_list *as_ready_pop(as_ready_queue *q) {
  as_list *n = as_list_first(&q->head);
  if (n == NULL) return NULL;
  as_list_remove(n);
  q->count--;
  return n;
}

/* Unlinks `n`, which must be in `q`. O(1). */
static inline void as_ready_remove(as_ready_queue *q, as_list *n) {
  as_list_remove(n);
  q->count--;
}

/* The newest node, or NULL: a scheduler pass runs up to and including it. */
static inline as_list *as_ready_last(as_ready_queue *q) {
  return as_ready_empty(q) ? NULL : q->head.prev;
}

#endif
