/* test_timer_heap.c -- the timer heap: order, ties, removal from anywhere. */
#include <stdlib.h>

#include "test.h"
#include "timer_heap.h"

#define N 1000

static as_timer nodes[N];
static uint64_t seq;

static void insert(as_timer_heap *h, as_timer *t, uint64_t deadline) {
  as_timer_heap_insert(h, t, deadline, seq++);
}

/* Pops every node by removing the minimum, checking (deadline, seq) order. */
static void drain_in_order(as_timer_heap *h, size_t expected) {
  size_t popped = 0;
  uint64_t last_deadline = 0, last_seq = 0;
  as_timer *t;
  while ((t = as_timer_heap_min(h)) != NULL) {
    if (popped > 0) {
      CHECK(t->deadline >= last_deadline);
      if (t->deadline == last_deadline) CHECK(t->seq > last_seq);
    }
    last_deadline = t->deadline;
    last_seq = t->seq;
    as_timer_heap_remove(h, t);
    popped++;
  }
  CHECK(popped == expected);
  CHECK(h->count == 0);
}

static void empty_heap_has_no_minimum(void) {
  as_timer_heap h;
  as_timer_heap_init(&h);
  CHECK(as_timer_heap_min(&h) == NULL);
  CHECK(h.count == 0);
}

static void minimum_is_the_earliest_deadline(void) {
  as_timer_heap h;
  as_timer_heap_init(&h);
  insert(&h, &nodes[0], 30);
  insert(&h, &nodes[1], 10);
  insert(&h, &nodes[2], 20);
  CHECK(as_timer_heap_min(&h) == &nodes[1]);
  drain_in_order(&h, 3);
}

static void equal_deadlines_fire_in_start_order(void) {
  as_timer_heap h;
  int i;
  as_timer_heap_init(&h);
  for (i = 0; i < 100; i++) insert(&h, &nodes[i], 5);
  for (i = 0; i < 100; i++) {
    CHECK(as_timer_heap_min(&h) == &nodes[i]);
    as_timer_heap_remove(&h, &nodes[i]);
  }
  CHECK(as_timer_heap_min(&h) == NULL);
}

static void random_deadlines_come_out_sorted(void) {
  as_timer_heap h;
  int i;
  srand(7);
  as_timer_heap_init(&h);
  for (i = 0; i < N; i++) insert(&h, &nodes[i], (uint64_t)(rand() % 50));
  CHECK(h.count == N);
  drain_in_order(&h, N);
}

static void removing_any_node_keeps_the_order(void) {
  as_timer_heap h;
  int i, removed = 0;
  srand(11);
  as_timer_heap_init(&h);
  for (i = 0; i < N; i++) insert(&h, &nodes[i], (uint64_t)(rand() % 100));
  for (i = 0; i < N; i += 3) {
    as_timer_heap_remove(&h, &nodes[i]);
    removed++;
  }
  CHECK(h.count == (size_t)(N - removed));
  drain_in_order(&h, (size_t)(N - removed));
}

static void interleaved_inserts_and_removals_stay_consistent(void) {
  as_timer_heap h;
  int in_heap[N] = {0};
  int i, step, count = 0;
  srand(3);
  as_timer_heap_init(&h);
  for (step = 0; step < 20000; step++) {
    i = rand() % N;
    if (in_heap[i]) {
      as_timer_heap_remove(&h, &nodes[i]);
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
  as_timer_heap h;
  as_timer_heap_init(&h);
  insert(&h, &nodes[0], 10);
  insert(&h, &nodes[1], 20);
  as_timer_heap_remove(&h, &nodes[0]);
  insert(&h, &nodes[0], 30);
  CHECK(as_timer_heap_min(&h) == &nodes[1]);
  drain_in_order(&h, 2);
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
    {NULL, NULL}
  };
  return run_tests(tests);
}
