/* test_ready_queue.c -- the ready queue: FIFO order, pass boundaries, removal. */
#include "ready_queue.h"
#include "test.h"

typedef struct item {
  int value;
  as_list node;
} item;

static item items[16];

static int pop_value(as_ready_queue *q) {
  as_list *n = as_ready_pop(q);
  return n ? as_container_of(n, item, node)->value : -1;
}

static void setup(as_ready_queue *q, int count) {
  int i;
  as_ready_init(q);
  for (i = 0; i < count; i++) {
    items[i].value = i;
    as_list_init(&items[i].node);
    as_ready_push(q, &items[i].node);
  }
}

static void empty_queue_pops_nothing(void) {
  as_ready_queue q;
  as_ready_init(&q);
  CHECK(as_ready_empty(&q));
  CHECK(as_ready_pop(&q) == NULL);
  CHECK(as_ready_last(&q) == NULL);
}

static void nodes_come_out_in_the_order_they_went_in(void) {
  as_ready_queue q;
  int i;
  setup(&q, 10);
  CHECK(q.count == 10);
  for (i = 0; i < 10; i++) CHECK(pop_value(&q) == i);
  CHECK(as_ready_empty(&q));
}

static void a_node_pushed_during_a_pass_comes_after_the_pass(void) {
  as_ready_queue q;
  as_list *last;
  setup(&q, 3);
  last = as_ready_last(&q);
  CHECK(last == &items[2].node);
  CHECK(pop_value(&q) == 0);
  as_ready_push(&q, &items[0].node);      /* a task yielding again */
  CHECK(pop_value(&q) == 1);
  CHECK(pop_value(&q) == 2);              /* the pass ends here, at `last` */
  CHECK(pop_value(&q) == 0);
}

static void removing_from_the_middle_keeps_the_rest_in_order(void) {
  as_ready_queue q;
  setup(&q, 4);
  as_ready_remove(&q, &items[1].node);
  CHECK(q.count == 3);
  CHECK(!as_list_linked(&items[1].node));
  CHECK(pop_value(&q) == 0);
  CHECK(pop_value(&q) == 2);
  CHECK(pop_value(&q) == 3);
  CHECK(as_ready_empty(&q));
}

static void a_popped_node_is_unlinked_and_reusable(void) {
  as_ready_queue q;
  setup(&q, 2);
  CHECK(pop_value(&q) == 0);
  CHECK(!as_list_linked(&items[0].node));
  as_ready_push(&q, &items[0].node);
  CHECK(pop_value(&q) == 1);
  CHECK(pop_value(&q) == 0);
}

int main(void) {
  static const test_case tests[] = {
    {"empty_queue_pops_nothing", empty_queue_pops_nothing},
    {"nodes_come_out_in_the_order_they_went_in", nodes_come_out_in_the_order_they_went_in},
    {"a_node_pushed_during_a_pass_comes_after_the_pass", a_node_pushed_during_a_pass_comes_after_the_pass},
    {"removing_from_the_middle_keeps_the_rest_in_order", removing_from_the_middle_keeps_the_rest_in_order},
    {"a_popped_node_is_unlinked_and_reusable", a_popped_node_is_unlinked_and_reusable},
    {NULL, NULL}
  };
  return run_tests(tests);
}
