/* loop.h -- the event loop: ready queue, timers, the scheduler step and a run
 * from main task to clean shutdown. Owns the libuv loop and its handles. */
#ifndef ASCHED_LOOP_H
#define ASCHED_LOOP_H

#include <stdint.h>
#include <lauxlib.h>
#include <lua.h>
#include <uv.h>

#include "clock.h"
#include "ready_queue.h"
#include "ready_shuffle.h"
#include "slow_task.h"
#include "timeline.h"
#include "task.h"
#include "timer_wheel.h"

typedef struct as_run_options {
  int virtual_time;    /* --virtual-time */
  int handle_sigint;   /* the asched program: Ctrl-C cancels the main task */
  int seeded;          /* --seed N: same-instant ready tasks run in seeded order */
  uint64_t seed;
  int debug;           /* --debug: warn about tasks that do not suspend */
  const char *timeline; /* --timeline[=FILE.svg]: "" for stderr, or a path */
  const char *trace;   /* --trace FILE: Chrome Trace Event JSON */
  int record_timeline; /* the REPL: record (bounded) for :timeline, draw nothing */
} as_run_options;

/* One per asched.run. Allocated and freed by as_run; every Lua value it keeps
 * is in a registry table named by a *_ref field, released when the run ends. */
typedef struct as_loop {
  lua_State *L;            /* the thread that called asched.run: runs callbacks */
  uv_loop_t uv;
  uv_timer_t wakeup;       /* real time: armed for the earliest deadline */
  uv_async_t interrupt;    /* the asched program: SIGINT reaches the loop */
  struct as_workers *workers; /* threads.c: worker Lua states, made on first use */
  struct as_http *http;
  as_list tcp_handles;      /* tcp.c: open connections and listeners */
  as_list children;         /* process.c: child processes not yet released */    /* http.c: the curl multi client, made on first request */
  as_clock clock;
  as_timer_wheel timers;    /* sleeping tasks (node in the task) */
  as_timer_wheel scope_timers; /* timeout scopes (node in the as_scope) */
  uint64_t timer_seq;       /* numbers every timer of both wheels */
  as_ready_queue ready;
  as_ready_shuffle *shuffle; /* --seed: reorders each pass, or NULL for FIFO */
  int debug;               /* --debug or asched.debug(true) */
  as_slow_watch slow_watch; /* debug: the slice of the current task */
  as_timeline *timeline;   /* --timeline/--trace: the record, or NULL */
  as_task *current;        /* the task inside lua_resume, or NULL */
  as_task *finishing;      /* the task whose end wakes its awaiters, or NULL */
  lua_State *current_co;   /* and its coroutine */
  as_task *main;
  uint32_t last_task_id;
  int32_t live_tasks;      /* pending tasks == #anchors */
  int anchors_ref;         /* pending Task userdata, dense from 1 */
  int raises_ref;          /* task -> error to raise at its next suspension */
  int callbacks_ref;       /* task -> list of done callbacks, until it is done */
  int callback_queue_ref;  /* due callbacks: {task, fn} pairs, FIFO */
  int failures_ref;        /* failure record -> true (weak keys): errors to report */
  int scopes_ref;          /* task -> its innermost open timeout scope */
  int causes_ref;          /* coroutine -> failure record it re-raised (weak keys) */
  int spawn_sites_ref;     /* debug mode: Task -> "file:line" of its spawn (weak keys) */
  int32_t callback_head, callback_tail;
  int interrupt_delivered; /* the main task has been cancelled by SIGINT */
} as_loop;

/* Every C function of the module has this box as upvalue 1: the loop running
 * in this Lua state, or NULL. One per state, made by as__push_box and kept in
 * the registry; as_run fills it for the length of a run. */
typedef struct as_box {
  struct as_loop *loop;
  int debug;              /* asched.debug(on): for this run and later ones */
} as_box;

#define AS_BOX_UPVALUE lua_upvalueindex(1)

/* The running loop, from a module function's box: no lookup. */
static inline struct as_loop *as__loop(lua_State *L) {
  return ((as_box *)lua_touserdata(L, AS_BOX_UPVALUE))->loop;
}

/* Pushes this state's box, making it the first time. */
void as__push_box(lua_State *L);

/* Adds `functions` to the table on top, each with the box as upvalue 1. */
void as__set_boxed(lua_State *L, const luaL_Reg *functions);

/* Pushes `fn` as a closure with the box as upvalue 1. */
void as__push_boxed(lua_State *L, lua_CFunction fn);

/* Makes metatable `name` once: `methods` (boxed) in its __index, and
 * `closer`, when not NULL, as its __gc and __close. Pushes nothing. */
void as__new_type(lua_State *L, const char *name, const luaL_Reg *methods, lua_CFunction closer);

/* Runs the function below the `nargs` values on top of `L` as the main task on
 * a new loop. On success returns LUA_OK with the results on the stack in place
 * of the function and arguments (*nresults of them). On failure returns
 * LUA_ERRRUN with the error value and then the main task's traceback (a string,
 * or nil) pushed. Raises a Lua error when a loop is already running in `L`. */
int as_run(lua_State *L, int nargs, const as_run_options *opts, int *nresults);

/* The loop running in `L`'s state, or NULL, through the registry: for code
 * that has no box upvalue (the host). Module functions use as__loop. */
as_loop *as_loop_of(lua_State *L);

/* Queues `t` on the ready queue (the task must be detached). */
void as__loop_push_ready(as_loop *loop, as_task *t);

/* Queues `fn(task)` (fn on top of L, popped; task at index `tidx`) to run soon. */
void as__loop_queue_callback(as_loop *loop, lua_State *L, int tidx);

/* Pushes the registry table named by `ref`. */
void as__loop_push_table(lua_State *L, int ref);

uint64_t as__loop_now(as_loop *loop);

/* The pending tasks in spawn order, in a malloc'd array the caller frees
 * (NULL when there are none). O(n log n). */
as_task **as__loop_pending_tasks(lua_State *L, as_loop *loop, int32_t *count);

/* Prints a report line (and optional traceback) on stderr, prefixed "asched: ". */
void as__report(const char *msg, const char *traceback);

/* Reports the failure record at `record` ({task=, traceback=}) as never retrieved. */
void as__report_failure(lua_State *L, int record);

#endif
