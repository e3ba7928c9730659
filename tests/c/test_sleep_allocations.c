/* test_sleep_allocations.c -- a sleep allocates nothing: a task sleeps a
 * thousand times (timer and sleep(0)) while an allocator counts blocks. */
#include "counting.h"
#include "test.h"

/* The first sleeps may grow the heap's callers' stacks; count after warm-up. */
static void a_timed_sleep_allocates_nothing(void) {
  CHECK(run_counting(
    "collectgarbage('stop')\n"
    "return asched.run({virtual_time = true}, function()\n"
    "  for _ = 1, 10 do asched.sleep(0.001) end\n"
    "  local before = allocations()\n"
    "  for _ = 1, 1000 do asched.sleep(0.001) end\n"
    "  return allocations() - before\n"
    "end)") == 0);
}

static void a_sleep_zero_allocates_nothing(void) {
  CHECK(run_counting(
    "collectgarbage('stop')\n"
    "return asched.run({virtual_time = true}, function()\n"
    "  for _ = 1, 10 do asched.sleep(0) end\n"
    "  local before = allocations()\n"
    "  for _ = 1, 1000 do asched.sleep(0) end\n"
    "  return allocations() - before\n"
    "end)") == 0);
}

static void sleeping_beside_other_tasks_allocates_nothing(void) {
  CHECK(run_counting(
    "collectgarbage('stop')\n"
    "return asched.run({virtual_time = true}, function()\n"
    "  local others = {}\n"
    "  for i = 1, 50 do others[i] = asched.spawn(function()\n"
    "    for _ = 1, 1000 do asched.sleep(0.001 * (i % 7)) end end) end\n"
    "  for _ = 1, 10 do asched.sleep(0.001) end\n"
    "  local before = allocations()\n"
    "  for _ = 1, 500 do asched.sleep(0.001) end\n"
    "  local counted = allocations() - before\n"
    "  for _, t in ipairs(others) do t:cancel() end\n"
    "  return counted\n"
    "end)") == 0);
}

int main(void) {
  static const test_case tests[] = {
    {"a_timed_sleep_allocates_nothing", a_timed_sleep_allocates_nothing},
    {"a_sleep_zero_allocates_nothing", a_sleep_zero_allocates_nothing},
    {"sleeping_beside_other_tasks_allocates_nothing", sleeping_beside_other_tasks_allocates_nothing},
    {NULL, NULL}
  };
  return run_tests(tests);
}
