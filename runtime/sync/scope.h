/* scope.h -- timeout scopes: a deadline that, when it passes, cancels its task
 * at the task's current suspension point (one more cancellation request, as
 * asyncio's Timeout does); when the scope closes it takes its request back,
 * and a CancelledError becomes its TimeoutError only if no other request is
 * left then -- so a cancellation from outside is never swallowed, and nested
 * scopes each report only their own expiry. A deadline already passed
 * cancels at the first suspension point. Scopes of one task nest; a scope is
 * closed by its frame (a to-be-closed value), so it closes however the frame
 * ends -- returning, raising, or the task being reset. */
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
  lua_Integer cancelling;  /* the task's cancelling() when the scope opened */
  double seconds;          /* as given, for the TimeoutError's message */
  uint8_t expired, open;
  uint8_t at;              /* `seconds` is a point on the loop clock (timeout_at) */
} as_scope;

/* Opens a scope for the running task `t` with a deadline on the loop clock
 * (AS_NEVER: none) and pushes it. */
as_scope *as__scope_open(lua_State *L, as_loop *loop, as_task *t, uint64_t deadline);

/* Closes the open scope at `idx`, the task's innermost, as its frame ends
 * with the error at `err` (0: none): disarms it, withdraws its cancellation
 * if still undelivered, and takes its request back. Returns 1 when the scope
 * expired, `err` is a CancelledError and no other cancellation request is
 * left: the caller then raises TimeoutError in its place. Closing a closed
 * scope does nothing and returns 0. */
int as__scope_close(lua_State *L, as_loop *loop, int idx, int err);

#endif
