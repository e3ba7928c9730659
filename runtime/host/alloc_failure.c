/* alloc_failure.c -- allocation failure injection, in the sanitizer build
 * only (see alloc_failure.h), as Lua's own test suite does it (ltests.c),
 * for the sweep of tests/alloc. Lua's and libuv's allocations share one
 * counter, which starts once the script is loaded (as__alloc_failure_arm):
 * a sweep spends its runs on the script, not on the state and the
 * libraries. ASCHED_FAIL_ALLOC=N fails allocation N only, so
 * the program gets the chance to recover; N+ fails N and every later one;
 * `count` prints at exit how many allocations the run made. An allocation is
 * a request for a new block or a larger one. The counter is atomic because
 * libuv may allocate on its thread pool. */
#include "alloc_failure.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

#include "host.h"

static atomic_ulong allocations;    /* made since as__alloc_failure_arm */
static atomic_ulong uv_allocations; /* of those, libuv's */
static atomic_long uv_blocks;       /* libuv's blocks not freed yet */
static atomic_int armed;
static unsigned long fail_at;       /* 0: fail none */
static int fail_onward;             /* N+: every allocation from fail_at on */

/* Lua retries a failed allocation once, after an emergency collection (which
 * frees and shrinks but allocates nothing): the retry is the same request,
 * not a new allocation, and fails too -- else Lua would hardly ever raise a
 * memory error with allocation N alone failing. */
static const void *retry_block;
static size_t retry_size;
static int retry_pending;

/* Counts one allocation (libuv's if `by_uv`); says whether it must fail. */
static int inject_failure(int by_uv) {
  unsigned long n;
  if (!atomic_load(&armed)) return 0;
  if (by_uv) atomic_fetch_add(&uv_allocations, 1);
  n = atomic_fetch_add(&allocations, 1) + 1;
  return fail_at != 0 && (n == fail_at || (fail_onward && n > fail_at));
}

static void print_allocations(void) {
  fprintf(stderr, "%s: %lu allocations (%lu by libuv)\n", as_progname, atomic_load(&allocations),
          atomic_load(&uv_allocations));
}

/* At exit: libuv frees the last of its blocks in uv_loop_close, so one left
 * means a loop that was not closed (its handles and their memory with it).
 * LeakSanitizer alone may miss that: a handle in static memory, such as the
 * interrupt's, keeps the lost loop reachable. */
static void check_uv_blocks(void) {
  long n = atomic_load(&uv_blocks);
  if (n != 0)
    fprintf(stderr, "%s: %ld libuv blocks not freed: a loop was not closed\n", as_progname, n);
}

/* Reads ASCHED_FAIL_ALLOC (N, N+ or count) and starts counting. */
void as__alloc_failure_arm(void) {
  const char *spec = getenv("ASCHED_FAIL_ALLOC");
  char *end;
  if (spec == NULL) return;
  if (strcmp(spec, "count") == 0) {
    atexit(print_allocations);   /* also after os.exit */
  } else {
    fail_at = strtoul(spec, &end, 10);
    fail_onward = strcmp(end, "+") == 0;
    if (end == spec || (*end != '\0' && !fail_onward)) fail_at = 0;
  }
  atexit(check_uv_blocks);
  atomic_store(&armed, 1);
}

/* lauxlib's allocator (realloc and free), with failures injected. */
void *as__alloc_failing(void *ud, void *ptr, size_t osize, size_t nsize) {
  (void)ud;
  if (nsize == 0) {
    free(ptr);
    return NULL;
  }
  if (ptr == NULL || nsize > osize) {   /* osize is a type tag when ptr is NULL */
    if (retry_pending && ptr == retry_block && nsize == retry_size) {
      retry_pending = 0;
      return NULL;
    }
    retry_pending = 0;
    if (inject_failure(0)) {
      retry_pending = 1;
      retry_block = ptr;
      retry_size = nsize;
      return NULL;
    }
  }
  return realloc(ptr, nsize);
}

/* libuv's allocator, the same way (libuv never retries), counting the
 * blocks it holds. */
static void *uv_counted(void *block) {
  if (block != NULL) atomic_fetch_add(&uv_blocks, 1);
  return block;
}

static void *uv_failing_malloc(size_t size) {
  return inject_failure(1) ? NULL : uv_counted(malloc(size));
}

static void *uv_failing_realloc(void *ptr, size_t size) {
  if (inject_failure(1)) return NULL;
  return ptr == NULL ? uv_counted(realloc(ptr, size)) : realloc(ptr, size);
}

static void *uv_failing_calloc(size_t count, size_t size) {
  return inject_failure(1) ? NULL : uv_counted(calloc(count, size));
}

static void uv_counted_free(void *block) {
  if (block != NULL) atomic_fetch_sub(&uv_blocks, 1);
  free(block);
}

void as__alloc_failure_take_libuv(void) {
  uv_replace_allocator(uv_failing_malloc, uv_failing_realloc, uv_failing_calloc, uv_counted_free);
}
