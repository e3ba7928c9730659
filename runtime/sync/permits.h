/* permits.h -- semaphore, bounded semaphore and lock: a count of permits and
 * a FIFO of tasks waiting for one, with hand-over (a released permit goes
 * straight to the oldest waiter: no barging) and the holders the deadlock
 * report names. Also the guard that acquire returns. Raises nothing: what is
 * wrong is returned, and bindings/ say it. */
#ifndef ASCHED_PERMITS_H
#define ASCHED_PERMITS_H

#include <lua.h>
#include <stdint.h>

#include "held.h"
#include "waitq.h"

#define AS_GUARD_METATABLE "asched.Guard"

typedef enum { AS_SEMAPHORE, AS_BOUNDED_SEMAPHORE, AS_LOCK } as_permits_kind;

/* Lives in the Semaphore, BoundedSemaphore or Lock userdata. */
typedef struct as_permits {
  as_waitq waiters;
  lua_Integer free, bound;
  as_permits_kind kind;
  as_held held;         /* who holds permits: the deadlock report and :held */
} as_permits;

/* A guard: closing it releases the permit once. Lives in the Guard userdata,
 * whose user value 1 is the permits object. */
typedef struct as_guard {
  int released;
  uint32_t holder;      /* the task that acquired */
} as_guard;

void as__permits_init(as_permits *p, as_permits_kind kind, lua_Integer n);

/* Takes a permit for task `holder` of `loop` when one is free and nobody
 * waits ahead; returns 1, else 0. */
int as__permits_try_acquire(as_loop *loop, as_permits *p, uint32_t holder);

/* Can a permit be released now? AS_PERMITS_OK, or why not. */
enum { AS_PERMITS_OK, AS_PERMITS_UNLOCKED, AS_PERMITS_OVER_BOUND };
int as__permits_can_release(const as_permits *p);

/* Task `holder` lets go of its permit (a task that holds none, or 0, lets
 * go of the oldest holder's): for the deadlock report and :held only. */
void as__permits_forget_holder(as_permits *p, uint32_t holder);

/* The permits object is being collected: it leaves its loop's `held` list. */
void as__permits_free(as_permits *p);

/* Releases a permit: to the oldest waiter, who holds it from then on, else
 * back to the count. Check as__permits_can_release first. */
void as__permits_release(lua_State *L, as_loop *loop, as_permits *p);

/* Pushes a new guard of task `holder` over the permits userdata at `owner`. */
void as__permits_push_guard(lua_State *L, int owner, uint32_t holder);

/* Closes the guard at `idx`: returns 1 the first time (the caller releases
 * its permit: the owner is then pushed), else 0 (nothing pushed). */
int as__guard_close(lua_State *L, int idx);

#endif
