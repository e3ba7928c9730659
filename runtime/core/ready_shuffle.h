/* ready_shuffle.h -- `--seed N`: the tasks that are ready at the same instant
 * run in an order drawn from a seeded generator instead of FIFO, so a bug that
 * depends on their order shows up, and the same seed replays the same order. */
#ifndef ASCHED_READY_SHUFFLE_H
#define ASCHED_READY_SHUFFLE_H

#include <stddef.h>
#include <stdint.h>

#include "ready_queue.h"

typedef struct as_ready_shuffle {
  uint64_t state;     /* splitmix64: the same sequence on every platform */
  as_list **nodes;    /* scratch space for one pass, grown as needed */
  size_t capacity;
} as_ready_shuffle;

void as_ready_shuffle_init(as_ready_shuffle *s, uint64_t seed);

/* Puts every node of `q` in a random order. Returns 0, or -1 when out of
 * memory (the queue is then left in its FIFO order). */
int as_ready_shuffle_queue(as_ready_shuffle *s, as_ready_queue *q);

void as_ready_shuffle_free(as_ready_shuffle *s);

#endif
