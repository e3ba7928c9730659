/* timer_wheel.h -- the runtime's own timers: a hierarchical timing wheel of
 * intrusive nodes. Insert and cancel are O(1); timers still fire in exact
 * (deadline, start order). No allocation. Touches no Lua. */
#ifndef ASCHED_TIMER_WHEEL_H
#define ASCHED_TIMER_WHEEL_H

#include <stddef.h>
#include <stdint.h>

#include "list.h"

#define AS_WHEEL_TICK_SHIFT 16   /* a tick is 2^16 ns, about 65.5 us */
#define AS_WHEEL_LEVEL_BITS 6    /* 64 slots a level */
#define AS_WHEEL_LEVELS 8        /* 8 x 6 bits cover every 48-bit tick */
#define AS_WHEEL_SLOTS (1 << AS_WHEEL_LEVEL_BITS)

/* A timer node. `deadline` is in nanoseconds on the loop clock; `seq`, given
 * by the caller from one counter, breaks ties so equal deadlines fire in the
 * order they were started, across every wheel that shares the counter. */
typedef struct as_timer {
  as_list node;
  uint64_t deadline;
  uint64_t seq;
} as_timer;

/* Timers whose tick is at most `current` are in `due`, sorted. A later timer
 * sits at the level of the highest 6-bit group in which its tick differs
 * from `current`, in the slot of that group's value: so a slot holds one
 * tick at level 0 and a range above, and the earliest timers are always in
 * `due` or in the lowest occupied slot of the lowest occupied level. */
typedef struct as_timer_wheel {
  as_list slots[AS_WHEEL_LEVELS][AS_WHEEL_SLOTS];
  uint64_t occupied[AS_WHEEL_LEVELS]; /* a set bit may name a slot emptied by a cancel */
  as_list due;
  uint64_t current;
  size_t count;
} as_timer_wheel;

void as_timer_wheel_init(as_timer_wheel *w);

/* Links `t` (not in any wheel) with the given deadline and sequence number. O(1)
 * (O(k) when its deadline falls among the k timers already due). */
void as_timer_wheel_insert(as_timer_wheel *w, as_timer *t, uint64_t deadline, uint64_t seq);

/* Unlinks `t`, which must be in `w`. O(1). */
void as_timer_wheel_remove(as_timer_wheel *w, as_timer *t);

/* The earliest timer, or NULL. Moves timers between levels as needed:
 * O(1) amortized per timer per level, plus sorting each slot once. */
as_timer *as_timer_wheel_min(as_timer_wheel *w);

/* True when `a` fires before `b`. */
static inline int as_timer_earlier(const as_timer *a, const as_timer *b) {
  return a->deadline != b->deadline ? a->deadline < b->deadline : a->seq < b->seq;
}

#endif
