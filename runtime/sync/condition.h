/* condition.h -- a condition variable: tasks wait for a notification while
 * their lock is released. The waiting itself is a wait queue; the lock is a
 * Lock (permits.h) kept by the Condition userdata. A notified waiter that is
 * cancelled before it runs passes its notification on. */
#ifndef ASCHED_CONDITION_H
#define ASCHED_CONDITION_H

#include "permits.h"

/* Lives in the Condition userdata, whose user value 1 is its Lock. */
typedef struct as_condition {
  as_waitq waiters;
  as_permits *lock;     /* inside user value 1 */
} as_condition;

void as__condition_init(as_condition *c, as_permits *lock);

/* Wakes up to `n` waiters, oldest first. */
void as__condition_notify(lua_State *L, as_loop *loop, as_condition *c, lua_Integer n);

#endif
