/* test_timer_wheel.c -- the timer wheel: order, ties, removal from anywhere, every level. */
#include <stdlib.h>

#include "test.h"
#include "timer_wheel.h"

#define N 1000

static as_timer nodes[N];
static uint64_t seq;

static void insert(as_timer_wheel *h, as_timer *t, uint64_t deadline) {
  as_timer_wheel_insert(h, t, deadline, seq++);
}

/* Pops every node by removing the minimum, checking (deadline, seq) order. */
static void drain_in_order(as_timer_wheel *h, size_t expected) {
  size_t popped = 0;
  uint64_t last_deadline = 0, last_seq = 0;
  as_timer *t;
  while ((t = as_timer_wheel_min(h)) != NULL) {
    if (popped > 0) {
      CHECK(t->deadline >= last_deadline);
      if (t->deadline == last_deadline) CHECK(t->seq > last_seq);
    }
    last_deadline = t->deadline;
    last_seq = t->seq;
    as_timer_wheel_remove(h, t);
    popped++;
  }
  CHECK(popped == expected);
  CHECK(h->count == 0);
}

static void empty_heap_has_no_minimum(void) {
  as_timer_wheel h;
  as_timer_wheel_init(&h);
  CHECK(as_timer_wheel_min(&h) == NULL);
  CHECK(h.count == 0);
}

static void minimum_is_the_earliest_deadline(void) {
  as_timer_wheel h;
  as_timer_wheel_init(&h);
  insert(&h, &nodes[0], 30);
  insert(&h, &nodes[1], 10);
  insert(&h, &nodes[2], 20);
  CHECK(as_timer_wheel_min(&h) == &nodes[1]);
  drain_in_order(&h, 3);
}

static void equal_deadlines_fire_in_start_order(void) {
  as_timer_wheel h;
  int i;
  as_timer_wheel_init(&h);
  for (i = 0; i < 100; i++) insert(&h, &nodes[i], 5);
  for (i = 0; i < 100; i++) {
    CHECK(as_timer_wheel_min(&h) == &nodes[i]);
    as_timer_wheel_remove(&h, &nodes[i]);
  }
  CHECK(as_timer_wheel_min(&h) == NULL);
}

static void random_deadlines_come_out_sorted(void) {
  as_timer_wheel h;
  int i;
  srand(7);
  as_timer_wheel_init(&h);
  for (i = 0; i < N; i++) insert(&h, &nodes[i], (uint64_t)(rand() % 50));
  CHECK(h.count == N);
  drain_in_order(&h, N);
}

static void removing_any_node_keeps_the_order(void) {
  as_timer_wheel h;
  int i, removed = 0;
  srand(11);
  as_timer_wheel_init(&h);
  for (i = 0; i < N; i++) insert(&h, &nodes[i], (uint64_t)(rand() % 100));
  for (i = 0; i < N; i += 3) {
    as_timer_wheel_remove(&h, &nodes[i]);
    removed++;
  }
  CHECK(h.count == (size_t)(N - removed));
  drain_in_order(&h, (size_t)(N - removed));
}

static void interleaved_inserts_and_removals_stay_consistent(void) {
  as_timer_wheel h;
  int in_heap[N] = {0};
  int i, step, count = 0;
  srand(3);
  as_timer_wheel_init(&h);
  for (step = 0; step < 20000; step++) {
    i = rand() % N;
    if (in_heap[i]) {
      as_timer_wheel_remove(&h, &nodes[i]);
      count--;
    } else {
      insert(&h, &nodes[i], (uint64_t)(rand() % 1000));
      count++;
    }
    in_heap[i] = !in_heap[i];
    CHECK(h.count == (size_t)count);
  }
  drain_in_order(&h, (size_t)count);
}

static void a_node_can_be_reinserted_after_removal(void) {
  as_timer_wheel h;
  as_timer_wheel_init(&h);
  insert(&h, &nodes[0], 10);
  insert(&h, &nodes[1], 20);
  as_timer_wheel_remove(&h, &nodes[0]);
  insert(&h, &nodes[0], 30);
  CHECK(as_timer_wheel_min(&h) == &nodes[1]);
  drain_in_order(&h, 2);
}

/* Deadlines from nanoseconds to years: every level of the wheel. */
static void deadlines_at_every_level_come_out_sorted(void) {
  as_timer_wheel w;
  int i;
  uint64_t spans[] = {1, 50000, 3000000, 200000000, 15000000000ull, 900000000000ull,
                      60000000000000ull, 4000000000000000ull};
  srand(5);
  as_timer_wheel_init(&w);
  for (i = 0; i < N; i++) {
    uint64_t span = spans[i % 8];
    insert(&w, &nodes[i], span + (uint64_t)rand() % span);
  }
  drain_in_order(&w, N);
}

/* Timers started while others are due, some earlier than the wheel's current
 * tick, keep the order. */
static void inserting_while_draining_keeps_the_order(void) {
  as_timer_wheel w;
  int i, next = 0, popped = 0;
  uint64_t last_deadline = 0, last_seq = 0, now = 0;
  srand(9);
  as_timer_wheel_init(&w);
  for (; next < N / 2; next++) insert(&w, &nodes[next], (uint64_t)rand() % 100000000);
  while (popped < N) {
    as_timer *t = as_timer_wheel_min(&w);
    if (t == NULL) break;
    CHECK(t->deadline >= last_deadline);
    if (t->deadline == last_deadline && popped > 0) CHECK(t->seq > last_seq);
    last_deadline = t->deadline;
    last_seq = t->seq;
    now = t->deadline;
    as_timer_wheel_remove(&w, t);
    popped++;
    /* Start two more, a little later than now, as a running task would. */
    for (i = 0; i < 2 && next < N; i++, next++)
      insert(&w, &nodes[next], now + (uint64_t)rand() % 300000);
  }
  CHECK(popped == N);
  CHECK(as_timer_wheel_min(&w) == NULL);
}

/* A timer far away, alone, is found (virtual time jumps to it). */
static void a_lone_far_deadline_is_the_minimum(void) {
  as_timer_wheel w;
  as_timer_wheel_init(&w);
  insert(&w, &nodes[0], 3600ull * 1000000000ull);
  CHECK(as_timer_wheel_min(&w) == &nodes[0]);
  insert(&w, &nodes[1], 5);
  CHECK(as_timer_wheel_min(&w) == &nodes[1]);
  drain_in_order(&w, 2);
}

/* Cancelling every timer of a slot leaves nothing behind. */
static void cancelled_timers_leave_no_trace(void) {
  as_timer_wheel w;
  int i;
  as_timer_wheel_init(&w);
  for (i = 0; i < 100; i++) insert(&w, &nodes[i], 1000000000ull + (uint64_t)i);
  for (i = 0; i < 100; i++) as_timer_wheel_remove(&w, &nodes[i]);
  CHECK(w.count == 0);
  CHECK(as_timer_wheel_min(&w) == NULL);
  insert(&w, &nodes[0], 42);
  CHECK(as_timer_wheel_min(&w) == &nodes[0]);
}

int main(void) {
  static const test_case tests[] = {
    {"empty_heap_has_no_minimum", empty_heap_has_no_minimum},
    {"minimum_is_the_earliest_deadline", minimum_is_the_earliest_deadline},
    {"equal_deadlines_fire_in_start_order", equal_deadlines_fire_in_start_order},
    {"random_deadlines_come_out_sorted", random_deadlines_come_out_sorted},
    {"removing_any_node_keeps_the_order", removing_any_node_keeps_the_order},
    {"interleaved_inserts_and_removals_stay_consistent", interleaved_inserts_and_removals_stay_consistent},
    {"a_node_can_be_reinserted_after_removal", a_node_can_be_reinserted_after_removal},
    {"deadlines_at_every_level_come_out_sorted", deadlines_at_every_level_come_out_sorted},
    {"inserting_while_draining_keeps_the_order", inserting_while_draining_keeps_the_order},
    {"a_lone_far_deadline_is_the_minimum", a_lone_far_deadline_is_the_minimum},
    {"cancelled_timers_leave_no_trace", cancelled_timers_leave_no_trace},
    {NULL, NULL}
  };
  return run_tests(tests);
}
