/* task.h -- a task: one Lua coroutine owned by a C struct that lives inside the
 * Task userdata. Owns the task lifecycle: start, suspend, wake, cancel, finish;
 * and the waits that are the scheduler's own (yield, sleep, await). */
#ifndef ASCHED_TASK_H
#define ASCHED_TASK_H

#include <stdint.h>
#include <lua.h>

#include "list.h"
#include "timer_wheel.h"
#include "wait.h"

struct as_loop;
struct as_task;
typedef struct as_waiter as_waiter;

/* Who a waiter belongs to, and what it does when the task it waits for has
 * finished: `w` is already unlinked; the finished Task userdata is at stack
 * index `task` of L. It may wake tasks; it must not resume any. */
typedef struct as_waiter_owner {
  void (*done)(lua_State *L, struct as_loop *loop, as_waiter *w, struct as_task *finished, int task);
} as_waiter_owner;

/* Something waiting for a task to finish, linked in the task's `waiters`:
 * another task (await), whose link.waiter this is, or a member of a wait set
 * (sync/waitset.c), whose owner is embedded in the set. */
struct as_waiter {
  as_list node;
  const as_waiter_owner *owner;
};

typedef enum as_task_state {
  AS_TASK_NEW,        /* spawned, its function not called yet */
  AS_TASK_RUNNING,    /* inside lua_resume */
  AS_TASK_SUSPENDED,  /* yielded through as__task_suspend */
  AS_TASK_DONE
} as_task_state;

typedef enum as_task_outcome {
  AS_OUTCOME_NONE, AS_OUTCOME_OK, AS_OUTCOME_ERROR, AS_OUTCOME_CANCELLED
} as_task_outcome;

/* Flag bits in as_task.flags. */
enum {
  AS_TASK_IN_READY = 1 << 0,   /* `link.waiter.node` is in the ready queue */
  AS_TASK_IN_TIMERS = 1 << 1,  /* `link.timer` is in the loop's timer wheel */
  AS_TASK_PENDING_RAISE = 1 << 2, /* an error waits in loop->raises for its next suspension point */
  AS_TASK_CANCEL_REQUESTED = 1 << 3, /* that error is a cancellation */
  AS_TASK_HAS_CALLBACKS = 1 << 4,  /* done callbacks wait in loop->callbacks */
  AS_TASK_HAS_NAME = 1 << 5,       /* a name was assigned (in "asched.names") */
  AS_TASK_GRANTED = 1 << 6,        /* woken by as__task_grant, value on its stack */
  AS_TASK_TRACE_CANCEL = 1 << 7,   /* a cancellation may become another error when
                                      the task's frames close (an open timeout
                                      scope): take its traceback all the same */
  AS_TASK_MARKED = 1 << 8,         /* scratch for one pass over a list of tasks by
                                      whoever sets it, cleared before it returns */
  AS_TASK_CANCELS_SHIFT = 10,      /* bits 10-15: cancelling(), the cancellation */
  AS_TASK_CANCELS_MASK = 0xfc00    /* requests not taken back (see task.c) */
};

/* Allocated by Lua as the Task userdata (its one user value holds the coroutine
 * while pending, the results once done), so the garbage collector frees it --
 * but never while the task is pending: from spawn to finish it is anchored in
 * loop->anchors at index `anchor`. A task sleeps, waits or sits in the ready
 * queue through the one `link` node, so these cost no allocation. */
typedef struct as_task {
  union {
    as_timer timer;     /* while AS_TASK_IN_TIMERS */
    struct {
      as_waiter waiter; /* in the ready queue, a wait queue or a waiters list */
      struct as_task *awaited;  /* awaiting: the task it awaits */
    };
  } link;
  as_list waiters;      /* as_waiter nodes waiting for this task to finish */
  lua_State *co;        /* the coroutine (also the user value); NULL once done */
  const as_wait_site *wait; /* while suspended: where it waits, or NULL */
  uint32_t id;          /* task-<id> */
  int32_t anchor;       /* index in loop->anchors while pending, else 0 */
  int32_t nvalues;      /* new: its arguments; suspended: values handed to it by a
                           grant, for its next resume; done: number of results */
  uint8_t state, outcome;
  uint16_t flags;
} as_task;

#define AS_TASK_METATABLE "asched.Task"

/* Chunks of asched's own Lua code are named "=[asched ...]". */
#define AS_INTERNAL_CHUNK "=[asched"

/* ---- lifecycle ---- */

/* Spawns the function at `L`'s stack index `fidx` with the `nargs` values
 * above it (consumed). Pushes the Task and returns it, queued to start. */
as_task *as__task_spawn(lua_State *L, struct as_loop *loop, int fidx, int nargs);

/* The task whose coroutine is `L`, or an error naming `fname` (as in
 * "asched.sleep: not inside a task"): not inside a task, or inside one where
 * yielding is impossible. */
as_task *as__task_check_current(lua_State *L, struct as_loop *loop, const char *fname);

/* The same test without the error: the running task when `L` is its own
 * coroutine and may suspend, else NULL (then as__task_check_current says why). */
as_task *as__task_running_in(struct as_loop *loop, lua_State *L);

/* Suspends the running task `t`, whose wait is already registered (as__task_set_wait),
 * and yields; `k` runs when it is resumed and must first take a pending error
 * (as__task_check_raise or as__task_take_raise). Must be called as the return
 * expression of a C function whose upvalue 1 is the state's box (loop.h). */
int as__task_suspend(lua_State *L, struct as_loop *loop, as_task *t, lua_KFunction k, lua_KContext ctx);

/* Records where the running task is about to wait. */
static inline void as__task_set_wait(as_task *t, const as_wait_site *site) { t->wait = site; }

/* In a continuation: raises the pending error (a cancellation) if there is one. */
void as__task_check_raise(lua_State *L, struct as_loop *loop, as_task *t);

/* In a continuation: pushes the pending error and returns 1, or returns 0. */
int as__task_take_raise(lua_State *L, struct as_loop *loop, as_task *t);

/* Withdraws the pending error of `t` if it is the value at `idx` (by
 * identity); returns 1 when it did. */
int as__task_withdraw_raise(lua_State *L, struct as_loop *loop, as_task *t, int idx);

/* Pushes the pending error of `t` (nil when none). */
void as__task_push_pending_raise(lua_State *L, struct as_loop *loop, as_task *t);

/* Queues `t`, detached from any wait, on the ready queue. */
void as__task_ready(struct as_loop *loop, as_task *t);

/* Wakes the suspended `t` and hands it the value on top of L (popped): its
 * continuation finds it on its stack and AS_TASK_GRANTED set. */
void as__task_grant(lua_State *L, struct as_loop *loop, as_task *t);

/* `t` was granted a value it has not taken yet: it gets the value on top of
 * L instead, and its former grant is left on top of L. */
void as__task_swap_grant(lua_State *L, as_task *t);

/* Detaches `t` from what it waits on and queues it to run. Idempotent. */
void as__task_wake(struct as_loop *loop, as_task *t);

/* Requests cancellation with the CancelledError on top of `L` (popped); the
 * task it awaits is cancelled too, and so on down the chain. Each counts one
 * more cancellation request (asyncio's cancelling()). Returns 0 when the
 * task was already done. */
int as__task_cancel(lua_State *L, struct as_loop *loop, as_task *t);

/* The number of cancellation requests of `t` not yet taken back by
 * as__task_uncancel (asyncio 3.11's cancelling()). */
lua_Integer as__task_cancelling(lua_State *L, struct as_loop *loop, const as_task *t);

/* Counts one more cancellation request of `t` without raising anything: the
 * request of a timeout whose cancellation gives way to one already on its way. */
void as__task_count_cancel(lua_State *L, struct as_loop *loop, as_task *t);

/* Takes one request back (never below 0) and returns how many are left. */
lua_Integer as__task_uncancel(lua_State *L, struct as_loop *loop, as_task *t);

/* Makes the next suspension point of `t` raise the error on top of `L` (popped). */
void as__task_raise(lua_State *L, struct as_loop *loop, as_task *t);

/* Ends a task that will never be resumed again (the run is over): resets its
 * coroutine so <close> variables run and finishes it as cancelled. */
void as__task_abandon(struct as_loop *loop, as_task *t);

/* As as__task_abandon, without allocating, for when that ran out of memory
 * (also half-way): the task ends cancelled with no error value; whoever
 * waited on it is unlinked, not told, and its done callbacks are dropped. */
void as__task_drop(struct as_loop *loop, as_task *t);

/* The scheduler's only way into a coroutine: runs `t` until it suspends or ends. */
void as__task_step(struct as_loop *loop, as_task *t);

/* ---- the scheduler's own waits ---- */

/* sleep(0): the running task `t` goes to the back of the ready queue. */
int as__task_yield(lua_State *L, struct as_loop *loop, as_task *t, lua_KFunction k, lua_KContext ctx);

/* Suspends `t` for `duration` ns of loop time (AS_NEVER: until cancelled). */
int as__task_sleep(lua_State *L, struct as_loop *loop, as_task *t, uint64_t duration,
                   lua_KFunction k, lua_KContext ctx);

/* Suspends `self` until `target` (not done, not `self`) is done. */
int as__task_await(lua_State *L, struct as_loop *loop, as_task *self, as_task *target,
                   lua_KFunction k, lua_KContext ctx);

/* Arms the task's own timer for `deadline`: it wakes then, whatever it waits
 * on (a wait set's deadline). The wait must not use link.waiter. */
void as__task_set_timer(struct as_loop *loop, as_task *t, uint64_t deadline);

/* ---- results and names ---- */

/* Pushes the task's userdata, found through its anchor (pending tasks only). */
void as__task_push(lua_State *L, struct as_loop *loop, as_task *t);

/* The pending tasks in spawn order, in a malloc'd array the caller frees
 * (NULL when there are none). O(n log n). Raises when out of memory. */
as_task **as__task_pending(lua_State *L, struct as_loop *loop, int32_t *count);

/* Assigns the name on top of L (popped) to the Task at `idx`. */
void as__task_set_name(lua_State *L, int idx, as_task *t);

/* Queues fn(task) to run in the loop once `t` is done (soon, if it is):
 * the Task at `tidx`, fn at `fidx`. */
void as__task_add_done_callback(lua_State *L, struct as_loop *loop, as_task *t, int tidx, int fidx);

/* Pushes the task's name: the assigned one or "task-<id>". `idx` is its
 * Task userdata. */
void as__task_push_name(lua_State *L, int idx, as_task *t);

/* The same for a pending task, found through its anchor. */
void as__task_push_pending_name(lua_State *L, struct as_loop *loop, as_task *t);

/* For a done task at index `idx`: pushes its results and returns how many, or
 * raises its error (marking it retrieved) or its CancelledError. */
int as__task_push_results(lua_State *L, int idx, as_task *t);

/* For a done task at index `idx`: pushes its first value, its error value or
 * its CancelledError (gather's view); with `retrieve`, an error counts as
 * retrieved. */
void as__task_push_outcome(lua_State *L, int idx, const as_task *t, int retrieve);

/* Pushes "file:line" of the innermost Lua function of coroutine `co` that is
 * the user's (asched's own chunks, "=[asched ...]", are skipped), or "?". */
void as__task_push_where(lua_State *L, lua_State *co);

/* Pushes "file:line" where the Task at `idx` was spawned (recorded in debug
 * mode only), or nil. */
void as__task_push_spawn_site(lua_State *L, struct as_loop *loop, int idx);

#endif
