/* ready_shuffle.c -- seeded reordering of one scheduler pass (see the header). */
#include "ready_shuffle.h"

#include <stdlib.h>

#include "vec.h"

void as_ready_shuffle_init(as_ready_shuffle *s, uint64_t seed) {
  s->state = seed;
  s->nodes = NULL;
  s->capacity = 0;
}

/* splitmix64 (Steele, Lea, Flood 2014). */
static uint64_t next_random(as_ready_shuffle *s) {
  uint64_t z = (s->state += UINT64_C(0x9E3779B97F4A7C15));
  z = (z ^ (z >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
  z = (z ^ (z >> 27)) * UINT64_C(0x94D049BB133111EB);
  return z ^ (z >> 31);
}

static int reserve(as_ready_shuffle *s, size_t n) {
  as_list **grown = as_vec_grow(s->nodes, &s->capacity, n, sizeof *grown);
  if (grown == NULL) return -1;
  s->nodes = grown;
  return 0;
}

int as_ready_shuffle_queue(as_ready_shuffle *s, as_ready_queue *q) {
  size_t i, n = q->count;
  if (n < 2) return 0;
  if (reserve(s, n) != 0) return -1;
  for (i = 0; i < n; i++) s->nodes[i] = as_ready_pop(q);
  for (i = n - 1; i > 0; i--) {     /* Fisher-Yates */
    size_t j = (size_t)(next_random(s) % (i + 1));
    as_list *swap = s->nodes[i];
    s->nodes[i] = s->nodes[j];
    s->nodes[j] = swap;
  }
  for (i = 0; i < n; i++) as_ready_push(q, s->nodes[i]);
  return 0;
}

void as_ready_shuffle_free(as_ready_shuffle *s) {
  free(s->nodes);
  s->nodes = NULL;
  s->capacity = 0;
}
