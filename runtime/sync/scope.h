/* scope.h -- timeout scopes: a deadline that, when it passes, cancels its task
 * at the task's current suspension point with the scope's own CancelledError,
 * so that only that scope turns it into a TimeoutError. Scopes of one task
 * nest; a scope is closed by its frame (a to-be-closed value), so it closes
 * however the frame ends -- returning, raising, or the task being reset. */
#ifndef ASCHED_SCOPE_H
#define ASCHED_SCOPE_H

#include <lua.h>

#include "loop.h"
#include "task.h"

#define AS_SCOPE_METATABLE "asched.TimeoutScope"

/* Lives in a userdata (metatable AS_SCOPE_METATABLE) whose user values are
 * 1: its CancelledError once it has expired (else nil), 2: the enclosing
 * scope of the same task (or nil). While open it is the value of its task in
 * the state's scope table (the innermost one), so it is never collected while
 * its alarm is armed. */
typedef struct as_scope {
  as_alarm alarm;          /* in loop->alarms while armed */
  as_task *task;
  struct as_scope *outer;
  double seconds;          /* as given, for the TimeoutError's message */
  uint8_t expired, open;
} as_scope;

/* Opens a scope for the running task `t` with a deadline on the loop clock
 * (AS_NEVER: none) and pushes it. */
as_scope *as__scope_open(lua_State *L, as_loop *loop, as_task *t, uint64_t deadline);

/* Closes the open scope at `idx`, the task's innermost, as its frame ends
 * with the error at `err` (0: none): disarms it and withdraws its
 * cancellation if still undelivered. Returns 1 when `err` is the scope's own
 * CancelledError after it expired: the caller then raises TimeoutError in its
 * place. Closing a closed scope does nothing and returns 0. */
int as__scope_close(lua_State *L, as_loop *loop, int idx, int err);

#endif
