/* deadlock.h -- the DeadlockError message (deadlock.c). */
#ifndef ASCHED_DEADLOCK_H
#define ASCHED_DEADLOCK_H

#include <lua.h>

#include "loop.h"

/* Pushes the message: every pending task, what it waits on, who holds that,
 * and the first cycle of waits found. */
void as__deadlock_push_report(lua_State *L, as_loop *loop);

#endif
