/* timer_heap.h -- the runtime's own timers: an intrusive binary min-heap ordered
 * by (deadline, start order). Nodes are embedded in their owners; no allocation. */
#ifndef ASCHED_TIMER_HEAP_H
#define ASCHED_TIMER_HEAP_H

#include <stdint.h>
#include <stddef.h>

/* A timer node. `deadline` is in nanoseconds on the loop clock; `seq`, given
 * by the caller from one counter, breaks ties so equal deadlines fire in the
 * order they were started, across every heap that shares the counter. */
typedef struct as_timer {
  struct as_timer *left, *right, *parent;
  uint64_t deadline;
  uint64_t seq;
} as_timer;

typedef struct as_timer_heap {
  as_timer *min;
  size_t count;
} as_timer_heap;

void as_timer_heap_init(as_timer_heap *h);

/* Links `t` with the given deadline and sequence number. `t` must not be in
 * the heap. O(log n). */
void as_timer_heap_insert(as_timer_heap *h, as_timer *t, uint64_t deadline, uint64_t seq);

/* True when `a` fires before `b`. */
int as_timer_earlier(const as_timer *a, const as_timer *b);

/* Unlinks `t`, which must be in the heap. O(log n). */
void as_timer_heap_remove(as_timer_heap *h, as_timer *t);

static inline as_timer *as_timer_heap_min(const as_timer_heap *h) { return h->min; }

#endif
