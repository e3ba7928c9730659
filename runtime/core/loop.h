/* loop.h -- the state of one run: the libuv loop, the clock, the timer wheels,
 * the ready queue and the registry tables of its tasks; and the services the
 * rest of the runtime reaches it through (the box, observers, attachments,
 * alarms, reports). What lives above the core (I/O clients, observers) hangs
 * on it through attachments and observers, so the core names none of them.
 * The scheduler that drives it is scheduler.c; tasks are task.c. */
#ifndef ASCHED_LOOP_H
#define ASCHED_LOOP_H

#include <stdint.h>
#include <lua.h>
#include <uv.h>

#include "clock.h"
#include "list.h"
#include "ready_queue.h"
#include "ready_shuffle.h"
#include "timer_wheel.h"

struct as_task;

typedef struct as_loop as_loop;

/* An observer of the scheduler (observe/: the timeline, the slow-task
 * watchdog), embedded in the observer's own state and found from it with
 * as_container_of. Any callback may be NULL. None may resume a task. */
typedef struct as_observer {
  as_list node;
  /* From now on `t` is in `state`: "ready", "running", a wait type's
   * timeline state, or an end: "done", "failed", "cancelled" (the task is
   * still anchored then). */
  void (*state)(struct as_observer *self, as_loop *loop, struct as_task *t, const char *state);
  /* Just before and just after the one lua_resume of `t`. */
  void (*resume)(struct as_observer *self, as_loop *loop, struct as_task *t);
  void (*resumed)(struct as_observer *self, as_loop *loop, struct as_task *t, int status);
} as_observer;

/* Decides, or witnesses, a run's scheduling decisions: one per loop at most
 * (observe/record.c: --record and --replay), embedded in its owner. Its
 * callbacks run only where raising is safe (in the run's protected call,
 * never inside libuv): a replay that diverged raises from them. Any may be
 * NULL. */
typedef struct as_schedule_hook {
  /* Whenever a task could be resumed (also with an empty ready queue, so
   * that a replay sees every turn): returns the task to resume next, which
   * must be in the ready queue, or NULL to let a timer fire or I/O come
   * first. A NULL callback: the ready queue's own order, in passes. */
  struct as_task *(*next_ready)(struct as_schedule_hook *self, as_loop *loop);
  /* `t`, just taken off the ready queue, is the next task stepped. */
  void (*chosen)(struct as_schedule_hook *self, as_loop *loop, struct as_task *t);
  /* `timer` (of task `t`, or an alarm's: t NULL) is due and about to fire
   * (under virtual time, the clock about to jump to it): 1 lets it fire
   * now, 0 holds it back. */
  int (*may_fire)(struct as_schedule_hook *self, as_loop *loop, const as_timer *timer,
                  struct as_task *t);
  /* The run is over: every task is done. */
  void (*finished)(struct as_schedule_hook *self, as_loop *loop);
} as_schedule_hook;

/* Per-loop state of a layer above the core (an I/O client, a recording),
 * embedded in that state, found by its `key` (the address of a static of the
 * module that owns it) and told when the loop closes. */
typedef struct as_attachment {
  as_list node;
  const void *key;
  /* Every task is done; libuv is about to be run until nothing is left:
   * close handles, abort work. May be NULL. */
  void (*close)(struct as_attachment *self, lua_State *L, as_loop *loop);
  /* libuv has nothing left: free what remains (the attachment itself too). */
  void (*release)(struct as_attachment *self, lua_State *L, as_loop *loop);
} as_attachment;

/* A callback at a deadline on the loop clock (a timeout scope's expiry),
 * embedded in its owner. Alarms and task timers share one sequence, so equal
 * deadlines fire in the order they were set across both. */
typedef struct as_alarm {
  as_timer timer;
  void (*fire)(struct as_alarm *self, lua_State *L, as_loop *loop);
  int armed;
} as_alarm;

typedef struct as_loop_options {
  int virtual_time;    /* the clock jumps when every task waits */
  uint64_t autojump_ms; /* virtual time: how long (real ms) pending I/O or thread
                           work may hold the clock before it jumps anyway */
  int seeded;          /* same-instant ready tasks run in seeded order */
  uint64_t seed;
  int debug;           /* record spawn sites (and more, above the core) */
  /* How reports name a task: pushes "name (what it waits on, where)".
   * NULL: its name only. */
  void (*push_task_line)(lua_State *L, as_loop *loop, struct as_task *t);
  /* Pushes the message of the DeadlockError. NULL: a short one. */
  void (*push_deadlock_report)(lua_State *L, as_loop *loop);
  /* Runs in the run's protected call before the main task is spawned:
   * attaches observers and the like. May raise. NULL: nothing. */
  void (*setup)(lua_State *L, as_loop *loop, void *ud);
  void *setup_ud;
} as_loop_options;

/* One per asched.run. Allocated and freed by as__run; every Lua value it keeps
 * is in a registry table named by a *_ref field, released when the run ends. */
struct as_loop {
  lua_State *L;            /* the thread that called asched.run: runs callbacks */
  uv_loop_t uv;
  uv_timer_t wakeup;       /* real time: armed for the earliest deadline;
                              virtual time: for the autojump threshold */
  int autojump;            /* virtual time: the threshold passed with I/O pending */
  uint64_t autojump_at;    /* virtual time: when (uv_now, ms) the threshold passes,
                              counted from the last progress; 0: not counting */
  int timer_held;          /* real time: the schedule hook holds back the due
                              earliest timer; the wait is for I/O alone */
  int clock_holds;         /* virtual time: waits that hold the clock for as long
                              as they last, never autojumped (the REPL's prompt) */
  as_clock clock;
  as_timer_wheel timers;   /* sleeping tasks (node in the task) */
  as_timer_wheel alarms;   /* as_alarm (node in its owner) */
  uint64_t timer_seq;      /* numbers every timer of both wheels */
  as_ready_queue ready;
  as_ready_shuffle *shuffle; /* seeded: reorders each pass, or NULL for FIFO */
  as_list observers;       /* as_observer */
  as_list attachments;     /* as_attachment */
  as_list held;            /* as_held: what tasks hold now (the stepper's :held);
                              unlinked, not owned, when the run ends */
  as_schedule_hook *hook;  /* or NULL: the ready queue and timers decide alone */
  const char *waking;      /* while no task runs, why tasks wake now: "timer",
                              "callback", "deadlock", "shutdown"; NULL: from a
                              libuv callback (I/O, a thread, a signal) */
  as_loop_options options;
  int debug;               /* options.debug, or asched.debug(true) since */
  struct as_task *current;   /* the task inside lua_resume, or NULL */
  struct as_task *finishing; /* the task whose end wakes its awaiters, or NULL */
  lua_State *current_co;     /* and its coroutine */
  struct as_task *main;
  uint32_t last_task_id;
  int32_t live_tasks;      /* pending tasks == #anchors */
  int anchors_ref;         /* pending Task userdata, dense from 1 */
  int raises_ref;          /* task -> error to raise at its next suspension */
  int cancels_ref;         /* task -> its count of cancellation requests, when too big for its flags */
  int callbacks_ref;       /* task -> list of done callbacks, until it is done */
  int callback_queue_ref;  /* due callbacks: {task, fn} pairs, FIFO */
  int failures_ref;        /* failure record -> true (weak keys): errors to report */
  int causes_ref;          /* coroutine -> failure record it re-raised (weak keys) */
  int spawn_sites_ref;     /* debug mode: Task -> "file:line" of its spawn (weak keys) */
  int32_t callback_head, callback_tail;
};

/* ---- the box: how a C function finds the loop running in its state ---- */

/* One per Lua state, kept in the registry: the loop running in it, or NULL.
 * Every C function that may suspend a task is a closure whose upvalue 1 is
 * this box (bindings/ registers them so), and so is every continuation,
 * which runs in the same frame: reaching the loop costs no lookup. */
typedef struct as_box {
  as_loop *loop;
  int debug;              /* asched.debug(on): for this run and later ones */
  const void *task_metatable; /* the Task metatable (anchored in the registry by
                                 name), for telling a Task by one comparison */
} as_box;

#define AS_BOX_UPVALUE lua_upvalueindex(1)

/* The running loop, from the box at upvalue 1 of the running C function. */
static inline as_loop *as__loop(lua_State *L) {
  return ((as_box *)lua_touserdata(L, AS_BOX_UPVALUE))->loop;
}

/* Pushes this state's box, making it the first time. */
void as__push_box(lua_State *L);

/* This state's box, through the registry: for code that has no box upvalue. */
as_box *as__box(lua_State *L);

/* The loop running in `L`'s state, or NULL (a registry lookup). */
as_loop *as_loop_of(lua_State *L);

/* ---- what the rest of the runtime uses ---- */

/* Queues `fn(task)` (fn on top of L, popped; task at index `tidx`) to run soon. */
void as__loop_queue_callback(as_loop *loop, lua_State *L, int tidx);

/* Pushes the registry table named by `ref`. */
void as__loop_push_table(lua_State *L, int ref);

/* Pushes a new table; with `mode` ("k", "v" or "kv") a weak one. */
void as__push_table(lua_State *L, const char *mode);

static inline uint64_t as__loop_now(as_loop *loop) { return as_clock_now(&loop->clock); }

/* Observers and attachments: link once; unlinking is for one that stops
 * early (an attachment is unlinked by the loop before its release). */
void as__loop_observe(as_loop *loop, as_observer *o);
void as__loop_unobserve(as_observer *o);
void as__loop_attach(as_loop *loop, as_attachment *a);
as_attachment *as__loop_attachment(as_loop *loop, const void *key);

/* The attachment `key` of `loop`, made and attached the first time: `size`
 * zeroed bytes starting with the as_attachment, with `close` (may be NULL)
 * and `release` (NULL: freed with free()); *made then says the caller must
 * set up the rest. NULL when out of memory. */
as_attachment *as__loop_attachment_make(as_loop *loop, const void *key, size_t size,
                                        void (*close)(as_attachment *, lua_State *, as_loop *),
                                        void (*release)(as_attachment *, lua_State *, as_loop *),
                                        int *made);

/* Tells every observer that `t` is now in `state` (see as_observer). */
void as__loop_notify_state(as_loop *loop, struct as_task *t, const char *state);

/* Arms `a` (not armed) for `deadline`; disarms it. O(1). */
void as__alarm_start(as_loop *loop, as_alarm *a, uint64_t deadline);
void as__alarm_stop(as_loop *loop, as_alarm *a);

/* Under virtual time, a wait on real I/O that must hold the clock however
 * long it lasts -- a person typing at the REPL's prompt, who moves the clock
 * with :advance -- holds it (+1) until it ends (-1): the loop does not
 * autojump meanwhile. */
static inline void as__loop_hold_clock(as_loop *loop, int delta) { loop->clock_holds += delta; }

/* Prints a report line (and optional traceback) on stderr, prefixed "asched: ". */
void as__report(const char *msg, const char *traceback);

/* Reports the failure record at `record` ({task=, traceback=}) as never retrieved. */
void as__report_failure(lua_State *L, int record);

#endif
