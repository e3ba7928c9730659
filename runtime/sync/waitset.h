/* waitset.h -- the one waiting mechanism of gather, as_completed, wait,
 * wait_for and shield: the running task waits on a list of tasks, with an
 * optional deadline, and is woken by the first completion that matters. */
#ifndef ASCHED_WAITSET_H
#define ASCHED_WAITSET_H

#include <lua.h>

#include "loop.h"
#include "task.h"

#define AS_WAITSET_METATABLE "asched.WaitSet"

typedef struct as_waitset as_waitset;

/* What a wait on the set waits for. */
typedef enum { AS_WAITSET_NEXT, AS_WAITSET_ALL } as_waitset_mode;

/* When wait-for-all stops early: never, at the first error, or at the first
 * error or cancellation ("failure"). */
typedef enum { AS_STOP_NEVER, AS_STOP_ON_ERROR, AS_STOP_ON_FAILURE } as_waitset_stop;

/* Pushes a new WaitSet over the `n` Tasks of the plain list at stack index
 * `tasks` (which the caller has checked: n Task values at 1..n). With
 * `results` (a stack index, or 0) each task's outcome is written there at
 * its index the moment it finishes (gather's view: its first value, its
 * error or its CancelledError); with `keep_errors` every error recorded
 * counts as retrieved, else only the first failure's -- whose slot, when
 * `results` is the list itself, keeps its task. Allocates first and links
 * last: it raises (out of memory) only before any member is linked. */
as_waitset *as__waitset_new(lua_State *L, as_loop *loop, int tasks, int32_t n, int results, int keep_errors);

/* The set's deadline on the loop clock; AS_NEVER: none. */
void as__waitset_set_deadline(as_waitset *ws, uint64_t deadline);

/* Unlinks every member (from its task, or from the done queue). O(n). Idempotent. */
void as__waitset_close(lua_State *L, as_waitset *ws);

/* True once closed: nothing more will be recorded or returned. */
int as__waitset_closed(const as_waitset *ws);

/* True while the task at list index `i` (1-based) has not finished. */
int as__waitset_pending(const as_waitset *ws, int32_t i);

/* True when a wait in `mode` would return at once. */
int as__waitset_ready(as_loop *loop, const as_waitset *ws, as_waitset_mode mode, as_waitset_stop stop);

/* Suspends the running task `t` on the set (at stack index `self`) until
 * `mode` is met or the deadline passes; `k` must start with
 * as__waitset_resumed. */
int as__waitset_wait(lua_State *L, as_loop *loop, as_waitset *ws, int self, as_task *t,
                     as_waitset_mode mode, as_waitset_stop stop, lua_KFunction k, lua_KContext ctx);

/* In the continuation: stops waiting; returns 1 with the pending error (a
 * cancellation) on top, or 0. */
int as__waitset_resumed(lua_State *L, as_loop *loop, as_waitset *ws, int self, as_task *t);

/* After the set is ready for `next`: pushes the Task of the next completion,
 * in completion order, and returns 1; returns 0 when every task has been
 * returned, -1 when the deadline passed (completions on or before it are
 * still returned first). */
int as__waitset_next(lua_State *L, as_loop *loop, as_waitset *ws, int self);

/* After the set is ready for `all`: the 1-based list index of the first
 * failure that stops it (per `stop`), 0 when every task is done, -1 when the
 * deadline passed first. */
int32_t as__waitset_all_result(as_loop *loop, const as_waitset *ws, as_waitset_stop stop);

#endif
