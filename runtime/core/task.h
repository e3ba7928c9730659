/* task.h -- a task: one Lua coroutine owned by a C struct that lives inside the
 * Task userdata. Owns the task lifecycle: start, suspend, wake, cancel, finish. */
#ifndef ASCHED_TASK_H
#define ASCHED_TASK_H

#include <stdint.h>
#include <lua.h>

#include "list.h"
#include "timer_wheel.h"

struct as_loop;
struct as_task;

/* Something waiting for a task to finish: another task (await), whose
 * link.waiter this is, or member `index` of a wait set. When the task is
 * done the waiter is unlinked and, by kind, the awaiting task woken or the
 * wait set told; neither resumes anything. */
typedef enum as_waiter_kind { AS_WAITER_TASK, AS_WAITER_SET_MEMBER } as_waiter_kind;

typedef struct as_waiter {
  as_list node;
  uint32_t index;
  uint8_t kind;
} as_waiter;

typedef enum as_task_state {
  AS_TASK_NEW,        /* spawned, its function not called yet */
  AS_TASK_RUNNING,    /* inside lua_resume */
  AS_TASK_SUSPENDED,  /* yielded through as__task_suspend */
  AS_TASK_DONE
} as_task_state;

typedef enum as_task_outcome {
  AS_OUTCOME_NONE, AS_OUTCOME_OK, AS_OUTCOME_ERROR, AS_OUTCOME_CANCELLED
} as_task_outcome;

/* What a suspended task waits for (for deadlock reports and :tasks). */
typedef enum as_wait_kind {
  AS_WAIT_NONE,    /* not waiting: new, running, ready or done */
  AS_WAIT_YIELD,   /* sleep(0): only waiting for its turn */
  AS_WAIT_SLEEP,   /* a timer; `timer.deadline` says until when */
  AS_WAIT_TASK,    /* awaiting `wait_on`, another task */
  AS_WAIT_SET,     /* waiting on `wait_on`, a wait set (gather, wait, ...) */
  AS_WAIT_QUEUE,   /* queued in `wait_on`, a wait queue (semaphore, lock, ...) */
  AS_WAIT_IO,      /* waiting for `wait_on`, an as_io_op (io_op.h) */
  AS_WAIT_FOREVER  /* a sleep too long for the clock: only a cancel ends it */
} as_wait_kind;

/* Flag bits in as_task.flags. */
enum {
  AS_TASK_IN_READY = 1 << 0,   /* `link.waiter.node` is in the ready queue */
  AS_TASK_IN_TIMERS = 1 << 1,  /* `link.timer` is in the loop's timer wheel */
  AS_TASK_PENDING_RAISE = 1 << 2, /* an error waits in loop->raises for its next suspension point */
  AS_TASK_CANCEL_REQUESTED = 1 << 3, /* that error is a cancellation */
  AS_TASK_HAS_CALLBACKS = 1 << 4,  /* done callbacks wait in loop->callbacks */
  AS_TASK_HAS_NAME = 1 << 5,       /* a name was assigned (in "asched.names") */
  AS_TASK_IN_SCOPE = 1 << 6,       /* timeout scopes are open (loop->scopes) */
  AS_TASK_GRANTED = 1 << 7         /* woken by as__task_grant, value on its stack */
};

/* Allocated by Lua as the Task userdata (its one user value holds the coroutine
 * while pending, the results once done), so the garbage collector frees it --
 * but never while the task is pending: from spawn to finish it is anchored in
 * loop->anchors at index `anchor`. A task sleeps, waits or sits in the ready
 * queue through the one `link` node, so these cost no allocation. */
typedef struct as_task {
  union {
    as_timer timer;     /* while AS_TASK_IN_TIMERS */
    as_waiter waiter;   /* in the ready queue, or in a waiters list */
  } link;
  as_list waiters;      /* as_waiter nodes waiting for this task to finish */
  lua_State *co;        /* the coroutine (also the user value); NULL once done */
  void *wait_on;        /* AS_WAIT_TASK: the awaited task */
  uint32_t id;          /* task-<id> */
  int32_t anchor;       /* index in loop->anchors while pending, else 0 */
  int32_t nvalues;      /* new: its arguments; suspended: values handed to it by a
                           grant, for its next resume; done: number of results */
  uint8_t state, outcome, wait_kind, flags;
} as_task;

#define AS_TASK_METATABLE "asched.Task"

/* Chunks of asched's own Lua code are named "=[asched ...]". */
#define AS_INTERNAL_CHUNK "=[asched"

/* Spawns the function at `L`'s stack index `fidx` with the `nargs` values
 * above it (consumed). Pushes the Task and returns it, queued to start. */
as_task *as__task_spawn(lua_State *L, struct as_loop *loop, int fidx, int nargs);

/* The task whose coroutine is `L`, or an error naming `fname` (Lua style):
 * not inside a task, or inside one where yielding is impossible. */
as_task *as__task_check_current(lua_State *L, struct as_loop *loop, const char *fname);

/* Suspends the running task `t` (its wait already registered) and yields;
 * `k` runs when it is resumed and must start with as__task_check_raise. */
int as__task_suspend(lua_State *L, struct as_loop *loop, as_task *t, lua_KFunction k, lua_KContext ctx);

/* In a continuation: raises the pending error (a cancellation) if there is one. */
void as__task_check_raise(lua_State *L, struct as_loop *loop, as_task *t);

/* In a continuation: pushes the pending error and returns 1, or returns 0. */
int as__task_take_raise(lua_State *L, struct as_loop *loop, as_task *t);

/* Wakes the suspended `t` and hands it the value on top of L (popped): its
 * continuation finds it on its stack and AS_TASK_GRANTED set. */
void as__task_grant(lua_State *L, struct as_loop *loop, as_task *t);

/* Detaches `t` from what it waits on and queues it to run. Idempotent. */
void as__task_wake(struct as_loop *loop, as_task *t);

/* Requests cancellation with the CancelledError on top of `L` (popped).
 * Returns 0 when the task was already done. */
int as__task_cancel(lua_State *L, struct as_loop *loop, as_task *t);

/* Makes the next suspension point of `t` raise the error on top of `L` (popped). */
void as__task_raise(lua_State *L, struct as_loop *loop, as_task *t);

/* Ends a task that will never be resumed again (the run is over): resets its
 * coroutine so <close> variables run and finishes it as cancelled. */
void as__task_abandon(struct as_loop *loop, as_task *t);

/* The scheduler's only way into a coroutine: runs `t` until it suspends or ends. */
void as__task_step(struct as_loop *loop, as_task *t);

/* Pushes the task's userdata, found through its anchor (pending tasks only). */
void as__task_push(lua_State *L, struct as_loop *loop, as_task *t);

/* Pushes a one-line description of what a pending task waits on and where
 * (for end-of-run and deadlock reports). */
void as__task_push_wait_description(lua_State *L, struct as_loop *loop, as_task *t);

/* Pushes the task's name: the assigned one or "task-<id>". */
void as__task_push_name(lua_State *L, int idx, as_task *t);

/* For a done task at index `idx`: pushes its results and returns how many, or
 * raises its error (marking it retrieved) or its CancelledError. */
int as__task_push_results(lua_State *L, int idx, as_task *t);

/* Pushes "file:line" of the innermost Lua function of coroutine `co` that is
 * the user's (asched's own chunks, "=[asched ...]", are skipped), or "?". */
void as__task_push_where(lua_State *L, lua_State *co);

/* Pushes "file:line" where the Task at `idx` was spawned (recorded in debug
 * mode only), or nil. */
void as__task_push_spawn_site(lua_State *L, struct as_loop *loop, int idx);

#endif
