/* timer_wheel.c -- a hierarchical timing wheel (see timer_wheel.h). The
 * wheel's `current` tick only moves forward, to the start of the earliest
 * occupied slot, when `due` is empty: so every timer in a slot is later than
 * every due timer, and a slot's timers are sorted only when they become due. */
#include "timer_wheel.h"

#define TICK(deadline) ((deadline) >> AS_WHEEL_TICK_SHIFT)
#define GROUP(tick, level) (((tick) >> ((level) * AS_WHEEL_LEVEL_BITS)) & (AS_WHEEL_SLOTS - 1))

static as_timer *timer_of(as_list *n) { return as_container_of(n, as_timer, node); }

void as_timer_wheel_init(as_timer_wheel *w) {
  int level, slot;
  for (level = 0; level < AS_WHEEL_LEVELS; level++) {
    for (slot = 0; slot < AS_WHEEL_SLOTS; slot++) as_list_init(&w->slots[level][slot]);
    w->occupied[level] = 0;
  }
  as_list_init(&w->due);
  w->current = 0;
  w->count = 0;
}

/* Inserts into `due`, keeping it sorted; walks from the back, where a new
 * timer almost always belongs. */
static void insert_due(as_timer_wheel *w, as_timer *t) {
  as_list *at = w->due.prev;
  while (at != &w->due && as_timer_earlier(t, timer_of(at))) at = at->prev;
  as_list_push_back(at->next, &t->node);   /* before at->next, i.e. after `at` */
}

/* Puts `t` at its level and slot relative to `current`, or into `due`. */
static void place(as_timer_wheel *w, as_timer *t) {
  uint64_t tick = TICK(t->deadline);
  int level, slot;
  if (tick <= w->current) {
    insert_due(w, t);
    return;
  }
  level = (63 - __builtin_clzll(tick ^ w->current)) / AS_WHEEL_LEVEL_BITS;
  slot = (int)GROUP(tick, level);
  as_list_push_back(&w->slots[level][slot], &t->node);
  w->occupied[level] |= (uint64_t)1 << slot;
}

void as_timer_wheel_insert(as_timer_wheel *w, as_timer *t, uint64_t deadline, uint64_t seq) {
  t->deadline = deadline;
  t->seq = seq;
  place(w, t);
  w->count++;
}

void as_timer_wheel_remove(as_timer_wheel *w, as_timer *t) {
  as_list_remove(&t->node);
  w->count--;
}

/* Sorts the nodes of list `from` by (deadline, seq) into `into`, which must be
 * empty: a merge sort over the `next` links, stable, O(k log k). */
static void sort_into(as_list *from, as_list *into) {
  as_list *head = NULL, *n;
  size_t width, k = 0;
  /* Unlink into a NULL-terminated singly linked chain. */
  for (n = from->next; n != from; n = n->next) k++;
  if (k == 0) return;
  head = from->next;
  from->prev->next = NULL;
  as_list_init(from);
  for (width = 1; width < k; width *= 2) {
    as_list *merged = NULL, **tail = &merged, *rest = head;
    while (rest) {
      as_list *left = rest, *right = left, *next;
      size_t i, nl = 0, nr = 0;
      for (i = 0; i < width && right; i++, nl++) right = right->next;
      next = right;
      for (i = 0; i < width && next; i++, nr++) next = next->next;
      while (nl > 0 || nr > 0) {
        as_list *pick;
        if (nl > 0 && (nr == 0 || !as_timer_earlier(timer_of(right), timer_of(left)))) {
          pick = left;
          left = left->next;
          nl--;
        } else {
          pick = right;
          right = right->next;
          nr--;
        }
        *tail = pick;
        tail = &pick->next;
      }
      rest = next;
    }
    *tail = NULL;
    head = merged;
  }
  /* Relink into the circular doubly linked `into`. */
  for (n = head; n; ) {
    as_list *next = n->next;
    as_list_push_back(into, n);
    n = next;
  }
}

/* `due` is empty: moves `current` to the start of the earliest occupied slot
 * and empties that slot, into `due` (level 0, one tick) or back into the
 * wheel one level lower or more (above). Returns 0 when no timer is left. */
static int advance(as_timer_wheel *w) {
  int level;
  for (level = 0; level < AS_WHEEL_LEVELS; level++) {
    uint64_t here = GROUP(w->current, level);
    uint64_t above = here == AS_WHEEL_SLOTS - 1 ? 0 : ~(uint64_t)0 << (here + 1);
    uint64_t bits = w->occupied[level] & above;
    while (bits) {
      int slot = __builtin_ctzll(bits);
      as_list *list = &w->slots[level][slot];
      uint64_t shift = (uint64_t)level * AS_WHEEL_LEVEL_BITS;
      as_list moving;
      bits &= bits - 1;
      w->occupied[level] &= ~((uint64_t)1 << slot);
      if (as_list_empty(list)) continue;       /* emptied by cancels */
      /* The slot's start: current's groups above this level, this slot, zeros below. */
      w->current = ((w->current >> shift >> AS_WHEEL_LEVEL_BITS) << AS_WHEEL_LEVEL_BITS | (uint64_t)slot) << shift;
      if (level == 0) {
        sort_into(list, &w->due);
        return 1;
      }
      /* Take the slot's timers out, then place each anew: lower levels, or due. */
      as_list_init(&moving);
      moving.next = list->next;
      moving.prev = list->prev;
      moving.next->prev = &moving;
      moving.prev->next = &moving;
      as_list_init(list);
      while (!as_list_empty(&moving)) {
        as_list *n = moving.next;
        as_list_remove(n);
        place(w, timer_of(n));
      }
      if (!as_list_empty(&w->due)) {
        /* Timers of exactly the new current tick went to due one by one;
         * they are sorted already (insert_due keeps the order). */
        return 1;
      }
      return advance(w);
    }
  }
  return 0;
}

as_timer *as_timer_wheel_min(as_timer_wheel *w) {
  if (w->count == 0) return NULL;
  if (as_list_empty(&w->due) && !advance(w)) return NULL;
  return timer_of(w->due.next);
}
