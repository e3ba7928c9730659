/* test.h -- a minimal harness for the C unit tests: CHECK records a failure
 * with its line and goes on; main runs every test in TESTS and reports. */
#ifndef ASCHED_TEST_H
#define ASCHED_TEST_H

#include <stdio.h>

static int test_failures;
static int test_checks;

#define CHECK(cond)                                                         \
  do {                                                                      \
    test_checks++;                                                          \
    if (!(cond)) {                                                          \
      test_failures++;                                                      \
      fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
    }                                                                       \
  } while (0)

typedef struct test_case {
  const char *name;
  void (*run)(void);
} test_case;

static int run_tests(const test_case *tests) {
  int passed = 0, failed = 0;
  for (; tests->name; tests++) {
    int before = test_failures;
    tests->run();
    if (test_failures == before) {
      passed++;
      printf("ok      %s\n", tests->name);
    } else {
      failed++;
      printf("FAILED  %s\n", tests->name);
    }
  }
  printf("%d passed, %d failed\n", passed, failed);
  return failed == 0 ? 0 : 1;
}

#endif
