/* scope.h -- timeout scopes: a deadline that, when it passes, cancels its task
 * at the task's current suspension point with the scope's own CancelledError,
 * so that only that scope turns it into a TimeoutError. Scopes of one task nest. */
#ifndef ASCHED_SCOPE_H
#define ASCHED_SCOPE_H

#include <lua.h>

#include "task.h"
#include "timer_wheel.h"

struct as_loop;

/* Lives in a userdata (metatable AS_SCOPE_METATABLE) whose user values are
 * 1: its CancelledError once it has expired (else nil), 2: the enclosing
 * scope of the same task (or nil).
 * While active it is reachable from loop->scopes[task] (the innermost), so
 * it is never collected while its timer is in loop->scope_timers. */
typedef struct as_scope {
  as_timer timer;          /* in loop->scope_timers while armed */
  as_task *task;
  struct as_scope *outer;
  double seconds;          /* as given, for the TimeoutError's message */
  uint8_t armed, expired, active;
} as_scope;

#define AS_SCOPE_METATABLE "asched.TimeoutScope"

/* Opens a scope for the running task `t` with a deadline `duration` ns away
 * (AS_NEVER: none) and pushes it. */
as_scope *as__scope_open(lua_State *L, struct as_loop *loop, as_task *t, uint64_t duration);

/* Closes the scope at `idx` (the task's innermost): disarms it and withdraws
 * its cancellation if still undelivered. Returns 1 when `err` (an index, or 0
 * for none) is the scope's own CancelledError after it expired: the caller
 * then raises TimeoutError. */
int as__scope_close(lua_State *L, struct as_loop *loop, int idx, int err);

/* The deadline of `s` passed (called by the loop): cancel its task unless an
 * outer scope's or an external cancellation is already on its way. */
void as__scope_expire(lua_State *L, struct as_loop *loop, as_scope *s);

/* The task ended with scopes still open (it was abandoned): disarm them all. */
void as__scope_task_done(lua_State *L, struct as_loop *loop, as_task *t);

/* Creates the scope metatable and adds scope_open and scope_close to the
 * table on top (the facade's primitives). */
void as__open_scope(lua_State *L);

#endif
