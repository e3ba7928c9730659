/* wait.h -- what a suspended task waits for, as the core sees it: a small
 * vtable per kind of wait (a sleep, an await, a wait queue, a wait set, an I/O
 * operation). The core describes, abandons and draws a waiting task through
 * it, so it knows no primitive and no I/O operation by name. */
#ifndef ASCHED_WAIT_H
#define ASCHED_WAIT_H

#include <lua.h>
#include <stdint.h>

struct as_loop;
struct as_task;

/* Static, one per kind of wait; reached from the wait site a suspended task
 * points at. */
typedef struct as_wait_type {
  /* Its state in --timeline: "sleeping", "awaiting", "lock", "io", ... (a
   * static string). */
  const char *timeline;

  /* Pushes what the suspended task `t` waits on, for :tasks, deadlock
   * reports and the end-of-run report: "sleeping until 3.000 s", "waiting
   * on lock", "reading a file". */
  void (*describe)(lua_State *L, struct as_loop *loop, const struct as_task *t);

  /* The run has ended and `t` will never be resumed: let go of what it
   * waits on beyond the unlinking the core does itself. NULL: nothing. */
  void (*abandon)(struct as_loop *loop, struct as_task *t);

  /* `t` stops waiting here with nothing granted (a cancellation woke it),
   * as the core unlinks it: for an owner that counts its waiters (a
   * barrier), which must not count it a moment longer. NULL: nothing. */
  void (*leave)(struct as_loop *loop, struct as_task *t);

  /* For the deadlock report: writes the ids of up to `max` tasks that hold
   * what `t` waits for into `ids` (the awaited task, a lock's holder),
   * sets *more to how many more there are, and returns how many it wrote;
   * -1 when what it waits for is held by no task (a timer, I/O). NULL: -1. */
  int (*holders)(const struct as_task *t, uint32_t *ids, int max, lua_Integer *more);

  /* What it waits on is held by tasks (a lock, a semaphore): the deadlock
   * report says who holds it. 0 for an await, whose holder is its target. */
  int held;

  /* What wakes a task waiting here, as the stepper tells it, before "by
   * <the waker>": "a release of the semaphore", "a queue put" (a static
   * string). NULL: "a wake". */
  const char *woken_by;
} as_wait_type;

/* Where a task waits: embedded in what it waits on (a wait queue, a wait
 * set, an I/O operation), or static for the scheduler's own waits. A
 * suspended task points at its site; the site's owner finds itself from it
 * with as_container_of, and the core reads the kind of wait from it. */
typedef struct as_wait_site {
  const as_wait_type *type;
} as_wait_site;

#endif
