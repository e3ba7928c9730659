/* test_hot_path_allocations.c -- the hot paths of the primitives allocate
 * nothing once warm: awaiting a done task, reading a task's state, a queue
 * put/get that finds no waiter, an uncontended `with` on a semaphore or lock;
 * an uncontended acquire allocates exactly its guard (the API's: a guard
 * releases once, so each acquire needs its own). */
#include "counting.h"
#include "test.h"

/* Runs `body` 1000 times inside a task after 10 warm-up rounds, with the
 * collector stopped, after `setup`; returns the allocations of the 1000. */
static long count_loop(const char *setup, const char *body) {
  char chunk[2048];
  snprintf(chunk, sizeof chunk,
           "collectgarbage('stop')\n"
           "return asched.run({virtual_time = true}, function()\n"
           "  %s\n"
           "  local function body() %s end\n"
           "  for _ = 1, 10 do body() end\n"
           "  local before = allocations()\n"
           "  for _ = 1, 1000 do body() end\n"
           "  return allocations() - before\n"
           "end)", setup, body);
  return run_counting(chunk);
}

/* Checks that 1000 rounds of `body` after `setup` allocate `expected` blocks;
 * says what it counted when they do not. */
static void expect(const char *what, const char *setup, const char *body, long expected) {
  long n = count_loop(setup, body);
  if (n != expected) fprintf(stderr, "  %s: %ld allocations, expected %ld\n", what, n, expected);
  CHECK(n == expected);
}

static void awaiting_a_done_task_allocates_nothing(void) {
  expect("await", "local t = asched.spawn(function() return 1, 2 end); asched.sleep(0)", "t:await()", 0);
}

static void reading_a_tasks_state_allocates_nothing(void) {
  expect("state", "local t = asched.spawn(function() return 1 end); asched.sleep(0)",
         "local _ = t:done(), t:cancelled(), t:result(), t:exception()", 0);
}

static void a_queue_put_get_without_waiter_allocates_nothing(void) {
  expect("queue", "local q = asched.queue(4)", "q:put(1); q:put(2); q:get(); q:get()", 0);
  expect("queue nowait", "local q = asched.queue()", "q:put_nowait(1); q:get_nowait()", 0);
}

/* A queue that never empties keeps its items at the same few keys (a FIFO
 * queue's ring, a priority queue's reused slots), not at ever-growing ones
 * that rehash the table as they go. */
static void a_queue_that_never_empties_allocates_nothing(void) {
  expect("queue holding 1", "local q = asched.queue(); q:put(0)", "q:put(1); q:get()", 0);
  expect("queue holding 50", "local q = asched.queue(); for i = 1, 50 do q:put(i) end", "q:put(1); q:get()", 0);
  expect("priority queue holding 50", "local q = asched.priority_queue(); for i = 1, 50 do q:put(i, i) end",
         "q:put(0, 'x'); q:get()", 0);
}

static void uncontended_with_allocates_nothing(void) {
  expect("semaphore with", "local s = asched.semaphore(2); local function f() end", "s:with(f)", 0);
  expect("lock with", "local l = asched.lock(); local function f() end", "l:with(f)", 0);
}

static void uncontended_acquire_allocates_only_its_guard(void) {
  expect("semaphore acquire", "local s = asched.semaphore(2)", "local g <close> = s:acquire()", 1000);
  expect("lock acquire", "local l = asched.lock()", "l:acquire(); l:release()", 1000);
}

int main(void) {
  static const test_case tests[] = {
    {"awaiting_a_done_task_allocates_nothing", awaiting_a_done_task_allocates_nothing},
    {"reading_a_tasks_state_allocates_nothing", reading_a_tasks_state_allocates_nothing},
    {"a_queue_put_get_without_waiter_allocates_nothing", a_queue_put_get_without_waiter_allocates_nothing},
    {"a_queue_that_never_empties_allocates_nothing", a_queue_that_never_empties_allocates_nothing},
    {"uncontended_with_allocates_nothing", uncontended_with_allocates_nothing},
    {"uncontended_acquire_allocates_only_its_guard", uncontended_acquire_allocates_only_its_guard},
    {NULL, NULL}
  };
  return run_tests(tests);
}
