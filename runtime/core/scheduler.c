/* scheduler.c -- the scheduler: drains the ready queue, fires one deadline at a
 * time, waits on libuv, detects deadlock and shuts a run down. Owns the as_loop
 * of a run from as__run's start to its end. */
#include "scheduler.h"

#include <lauxlib.h>
#include <stdlib.h>

#include "errors.h"
#include "task.h"

/* A ready queue that never empties (tasks that keep waking each other) must
 * not starve timers and I/O. After every pass that brings the count of
 * resumes (or passes) since the last look to this many, the scheduler looks
 * up: a due deadline fires (real time only: virtual time stands still while
 * tasks are ready), and libuv is polled if a millisecond has passed. */
#define LOOK_EVERY 64
#define POLL_EVERY_NS 1000000

/* ---- the scheduler step ---- */

static void run_callbacks(as_loop *loop) {
  lua_State *L = loop->L;
  int top = lua_gettop(L);
  if (loop->callback_head < loop->callback_tail) loop->waking = "callback";
  while (loop->callback_head < loop->callback_tail) {
    int i = loop->callback_head++;
    as__loop_push_table(L, loop->callback_queue_ref);
    lua_rawgeti(L, -1, 2 * i + 2);       /* fn */
    lua_rawgeti(L, -2, 2 * i + 1);       /* task */
    lua_pushnil(L);
    lua_rawseti(L, -4, 2 * i + 1);
    lua_pushnil(L);
    lua_rawseti(L, -4, 2 * i + 2);
    if (lua_pcall(L, 1, 0, 0) != LUA_OK)
      as__report(lua_pushfstring(L, "error in a done callback: %s", as__error_message(L, -1)), NULL);
    lua_settop(L, top);
  }
  loop->callback_head = loop->callback_tail = 0;
  loop->waking = NULL;
}

static int has_callbacks(as_loop *loop) { return loop->callback_head < loop->callback_tail; }

static void poll_io(as_loop *loop) { uv_run(&loop->uv, UV_RUN_NOWAIT); }

static int fire_due_deadline(as_loop *loop);

/* The schedule hook decides (a replay, a paused REPL): each turn runs the
 * due callbacks, then the task it names, until it names none or `main` is
 * done (0), or it stops deciding (1: the REPL's :run). */
static int run_chosen(as_loop *loop, const as_task *main) {
  as_schedule_hook *hook = loop->hook;
  for (;;) {
    as_task *t;
    run_callbacks(loop);
    if (loop->hook != hook || hook->next_ready == NULL) return 1;
    t = hook->next_ready(hook, loop);
    if (t == NULL) return 0;
    as_ready_remove(&loop->ready, &t->link.waiter.node);
    t->flags &= ~AS_TASK_IN_READY;
    if (hook->chosen) hook->chosen(hook, loop, t);
    as__task_step(loop, t);
    if (main != NULL && main->state == AS_TASK_DONE) return 0;
  }
}

/* Runs ready tasks and callbacks until none is left, or until `main` (when
 * not NULL) is done: then nothing else runs before the pending tasks are
 * cancelled, so a task that never ran never will, and tasks that keep each
 * other ready cannot keep the run alive. A pass resumes the tasks that were
 * ready when it began, in order; tasks they wake run in later passes. */
static void run_ready(as_loop *loop, const as_task *main) {
  unsigned since_look = 0;
  uint64_t polled = uv_hrtime();
  /* Work to do: an autojump that came with it is stale, and the next wait
   * for pending I/O gets its full threshold. */
  if (!as_ready_empty(&loop->ready) || has_callbacks(loop)) loop->autojump = 0, loop->autojump_at = 0;
  if (loop->hook && loop->hook->next_ready && !run_chosen(loop, main)) return;
  while (!as_ready_empty(&loop->ready) || has_callbacks(loop)) {
    as_list *last, *n;
    if (loop->shuffle) as_ready_shuffle_queue(loop->shuffle, &loop->ready);
    last = as_ready_last(&loop->ready);
    run_callbacks(loop);
    if (last) {
      do {
        as_task *t;
        n = as_ready_pop(&loop->ready);
        t = as_container_of(n, as_task, link.waiter.node);
        t->flags &= ~AS_TASK_IN_READY;
        if (loop->hook && loop->hook->chosen) loop->hook->chosen(loop->hook, loop, t);
        as__task_step(loop, t);
        if (main != NULL && main->state == AS_TASK_DONE) return;
        since_look++;
        if (loop->hook && loop->hook->next_ready) break;
      } while (n != last);
    }
    if (loop->hook && loop->hook->next_ready) {
      /* The hook began to decide in mid-pass (the REPL's :pause): it
       * decides the rest of this pass too. */
      if (!run_chosen(loop, main)) return;
      continue;
    }
    if (++since_look >= LOOK_EVERY) {
      since_look = 0;
      if (!loop->clock.is_virtual) fire_due_deadline(loop);
      if (uv_hrtime() - polled >= POLL_EVERY_NS) {
        poll_io(loop);
        polled = uv_hrtime();
      }
    }
  }
}

/* The earliest timer of both wheels, or NULL; *is_alarm says which wheel. */
static as_timer *earliest_timer(as_loop *loop, int *is_alarm) {
  as_timer *task_timer = as_timer_wheel_min(&loop->timers);
  as_timer *alarm = as_timer_wheel_min(&loop->alarms);
  *is_alarm = alarm && (!task_timer || as_timer_earlier(alarm, task_timer));
  return *is_alarm ? alarm : task_timer;
}

/* Asks the schedule hook, if any, whether `timer` may fire now. */
static int may_fire(as_loop *loop, as_timer *timer, int is_alarm) {
  as_schedule_hook *hook = loop->hook;
  if (hook == NULL || hook->may_fire == NULL) return 1;
  return hook->may_fire(hook, loop, timer, is_alarm ? NULL : as_container_of(timer, as_task, link.timer));
}

/* Fires every timer of the earliest deadline, in the order they were set, if
 * that deadline has come (under virtual time the clock first jumps to it,
 * unless real work is pending): sleeping tasks wake, alarms ring. Later
 * deadlines wait for the next call, and so does a timer the schedule hook
 * holds back. Returns 1 if it fired. */
static int fire_due_deadline(as_loop *loop) {
  int is_alarm, jump;
  as_timer *min = earliest_timer(loop, &is_alarm);
  uint64_t deadline;
  if (min == NULL) return 0;
  deadline = min->deadline;
  jump = loop->clock.is_virtual && (loop->autojump || !uv_loop_alive(&loop->uv));
  loop->timer_held = 0;
  if (deadline > as_clock_now(&loop->clock) && !jump) return 0;
  if (!may_fire(loop, min, is_alarm)) {
    loop->timer_held = 1;
    return 0;
  }
  if (jump) {
    as_clock_advance(&loop->clock, deadline);
    loop->autojump = 0;
  }
  loop->waking = "timer";
  do {
    if (is_alarm) {
      as_alarm *a = as_container_of(min, as_alarm, timer);
      as_timer_wheel_remove(&loop->alarms, min);
      a->armed = 0;
      a->fire(a, loop->L, loop);
    } else {
      as__task_wake(loop, as_container_of(min, as_task, link.timer));
    }
    min = earliest_timer(loop, &is_alarm);
  } while (min != NULL && min->deadline == deadline && may_fire(loop, min, is_alarm));
  loop->waking = NULL;
  return 1;
}

static void on_wakeup(uv_timer_t *timer) {
  as_loop *loop = timer->data;
  if (loop->clock.is_virtual) loop->autojump = 1, loop->autojump_at = 0;
}

/* Virtual time: the real ms left of the autojump threshold, which runs from
 * the first wait after the last progress (a task made ready) -- not from
 * each return of libuv: wakeups that make no task ready (a signal, a
 * thread's EINTR) must not put the jump off for ever. */
static uint64_t autojump_left(as_loop *loop) {
  uint64_t now = uv_now(&loop->uv);
  if (loop->autojump_at == 0) loop->autojump_at = now + loop->options.autojump_ms;
  return loop->autojump_at > now ? loop->autojump_at - now : 0;
}

/* Blocks in libuv until a timer is due or real I/O completes. Under virtual
 * time the clock waits for pending I/O or thread work only up to the
 * autojump threshold (Trio's autojump_threshold): a server task sleeping
 * while its client reads over loopback must not hang the run. Returns 0 when
 * nothing at all could ever wake a task. */
static int wait_for_events(as_loop *loop) {
  int is_alarm;
  as_timer *min = earliest_timer(loop, &is_alarm);
  uv_timer_stop(&loop->wakeup);
  if (!uv_loop_alive(&loop->uv) && (!min || loop->clock.is_virtual || loop->timer_held)) return 0;
  /* A due timer the hook holds back waits for what the hook waits for (the
   * REPL's prompt, a replayed completion): arming the wakeup for it would
   * only spin. */
  if (min && !(loop->clock.is_virtual && loop->clock_holds > 0) &&
      !(!loop->clock.is_virtual && loop->timer_held)) {
    uint64_t ms;
    uv_update_time(&loop->uv);
    if (loop->clock.is_virtual) {
      ms = autojump_left(loop);
    } else {
      uint64_t now = as_clock_now(&loop->clock);
      ms = min->deadline > now ? (min->deadline - now + 999999) / 1000000 : 0;
    }
    if (loop->clock.is_virtual && ms == 0) {
      /* The threshold has passed: the clock jumps now, after a look at the
       * I/O that is ready (a 0 ms timer would fire before libuv's poll,
       * which would then block with no timer left to end it). */
      loop->autojump = 1;
      loop->autojump_at = 0;
      uv_run(&loop->uv, UV_RUN_NOWAIT);
      return 1;
    }
    uv_timer_start(&loop->wakeup, on_wakeup, ms, 0);
  }
  uv_run(&loop->uv, UV_RUN_ONCE);
  if (loop->clock.is_virtual) uv_timer_stop(&loop->wakeup);
  return 1;
}

/* Nothing can ever wake the main task: raise DeadlockError in it. */
static void raise_deadlock(as_loop *loop) {
  lua_State *L = loop->L;
  if (loop->options.push_deadlock_report) loop->options.push_deadlock_report(L, loop);
  else lua_pushliteral(L, "every task is waiting and nothing can wake any of them");
  as__error_push(L, "DeadlockError", "%s", lua_tostring(L, -1));
  lua_remove(L, -2);
  loop->waking = "deadlock";
  as__task_raise(L, loop, loop->main);
  loop->waking = NULL;
}

/* Runs until `main` is done (main != NULL) or no task is left. Returns 0, or
 * 1 when the remaining tasks are deadlocked (only without a main task). */
static int run_until_done(as_loop *loop, as_task *main) {
  for (;;) {
    run_ready(loop, main);
    if (main ? main->state == AS_TASK_DONE : loop->live_tasks == 0) return 0;
    if (fire_due_deadline(loop)) continue;
    if (wait_for_events(loop)) continue;
    if (main == NULL) return 1;
    raise_deadlock(loop);
  }
}

/* ---- shutting a run down ---- */

/* Reports "<why> <the task's line>" on stderr. */
static void report_task(lua_State *L, as_loop *loop, as_task *t, const char *why) {
  if (loop->options.push_task_line) {
    loop->options.push_task_line(L, loop, t);
  } else {
    as__task_push_pending_name(L, loop, t);
  }
  as__report(lua_pushfstring(L, "%s %s", why, lua_tostring(L, -1)), NULL);
  lua_pop(L, 2);
}

/* The main task is done: cancel whatever is still pending and let it clean up.
 * Tasks that can never finish (deadlocked after cancellation) are abandoned. */
static void shut_down(as_loop *loop) {
  lua_State *L = loop->L;
  int32_t i, n;
  as_task **list;
  list = as__task_pending(L, loop, &n);
  for (i = 0; i < n; i++) {
    /* One cancelled already is on its way out, not left behind. */
    if (!(list[i]->flags & AS_TASK_CANCEL_REQUESTED)) report_task(L, loop, list[i], "cancelled pending task");
  }
  loop->waking = "shutdown";
  for (i = 0; i < n; i++) {
    as__error_push(L, "CancelledError", "the run ended");
    as__task_cancel(L, loop, list[i]);
  }
  loop->waking = NULL;
  free(list);
  while (run_until_done(loop, NULL) != 0) {
    list = as__task_pending(L, loop, &n);
    for (i = 0; i < n; i++) {
      if (list[i]->state == AS_TASK_DONE) continue;
      report_task(L, loop, list[i], "abandoned task (it ignored its cancellation and "
                  "nothing can wake it):");
      as__task_abandon(loop, list[i]);
    }
    free(list);
  }
}

static int by_record_id(lua_State *L) {
  lua_getfield(L, 1, "id");
  lua_getfield(L, 2, "id");
  lua_pushboolean(L, lua_tointeger(L, -2) < lua_tointeger(L, -1));
  return 1;
}

/* Reports, in spawn order, every failed task whose error nobody retrieved. */
static void report_unretrieved(as_loop *loop) {
  lua_State *L = loop->L;
  int i, n = 0;
  lua_newtable(L);
  as__loop_push_table(L, loop->failures_ref);
  lua_pushnil(L);
  while (lua_next(L, -2)) {
    lua_pop(L, 1);
    lua_getfield(L, -1, "retrieved");
    if (!lua_toboolean(L, -1)) {
      lua_pushvalue(L, -2);
      lua_rawseti(L, -5, ++n);
    }
    lua_pop(L, 1);
  }
  lua_pop(L, 1);
  lua_getglobal(L, "table");
  if (n > 1 && lua_istable(L, -1)) {
    lua_getfield(L, -1, "sort");
    lua_pushvalue(L, -3);
    lua_pushcfunction(L, by_record_id);
    lua_call(L, 2, 0);
  }
  lua_pop(L, 1);
  for (i = 1; i <= n; i++) {
    lua_rawgeti(L, -1, i);
    lua_pushboolean(L, 1);
    lua_setfield(L, -2, "retrieved");
    as__report_failure(L, -1);
    lua_pop(L, 1);
  }
  lua_pop(L, 1);
}

/* ---- opening and closing a loop ---- */

static int new_table_ref(lua_State *L, const char *mode) {
  as__push_table(L, mode);
  return luaL_ref(L, LUA_REGISTRYINDEX);
}

/* The C half of opening a loop: nothing here raises. Returns libuv's status. */
static int open_loop(lua_State *L, as_loop *loop, const as_loop_options *opts) {
  int status = uv_loop_init(&loop->uv);
  if (status != 0) return status;
  loop->L = L;
  loop->options = *opts;
  as_clock_init(&loop->clock, opts->virtual_time);
  as_timer_wheel_init(&loop->timers);
  as_timer_wheel_init(&loop->alarms);
  as_ready_init(&loop->ready);
  as_list_init(&loop->observers);
  as_list_init(&loop->attachments);
  as_list_init(&loop->held);
  if (opts->seeded) {
    loop->shuffle = malloc(sizeof *loop->shuffle);
    if (loop->shuffle) as_ready_shuffle_init(loop->shuffle, opts->seed);
  }
  uv_timer_init(&loop->uv, &loop->wakeup);
  loop->wakeup.data = loop;
  loop->anchors_ref = loop->raises_ref = loop->cancels_ref = loop->callbacks_ref = LUA_NOREF;
  loop->callback_queue_ref = loop->failures_ref = loop->causes_ref = LUA_NOREF;
  loop->spawn_sites_ref = LUA_NOREF;
  return 0;
}

/* The Lua half, in the run's protected call: a memory error here leaves a
 * loop that close_loop can close. */
static void open_tables(lua_State *L, as_loop *loop) {
  const as_loop_options *opts = &loop->options;
  loop->anchors_ref = new_table_ref(L, NULL);
  loop->raises_ref = new_table_ref(L, NULL);
  loop->cancels_ref = new_table_ref(L, NULL);
  loop->callbacks_ref = new_table_ref(L, NULL);
  loop->callback_queue_ref = new_table_ref(L, NULL);
  loop->failures_ref = new_table_ref(L, "k");
  loop->causes_ref = new_table_ref(L, "k");
  loop->spawn_sites_ref = new_table_ref(L, "k");
  loop->debug = opts->debug || as__box(L)->debug;
  as__box(L)->loop = loop;
}

static void on_closed(uv_handle_t *h) { (void)h; }

static void close_handle(uv_handle_t *h, void *arg) {
  (void)arg;
  if (!uv_is_closing(h)) uv_close(h, on_closed);
}

/* (loop, task): as__task_abandon, which allocates (the task's
 * CancelledError, the done callbacks it queues), so in a protected call. */
static int abandon_protected(lua_State *L) {
  as__task_abandon(lua_touserdata(L, 1), lua_touserdata(L, 2));
  return 0;
}

/* Ends every task still pending (only after an internal error, such as
 * running out of memory): abandons it, or drops it when even that runs out
 * of memory, so that the loop below always closes. */
static void end_pending_tasks(lua_State *L, as_loop *loop) {
  while (loop->live_tasks > 0) {
    as_task *t;
    as__loop_push_table(L, loop->anchors_ref);
    lua_rawgeti(L, -1, loop->live_tasks);
    t = lua_touserdata(L, -1);
    lua_pop(L, 2);
    lua_pushcfunction(L, abandon_protected);
    lua_pushlightuserdata(L, loop);
    lua_pushlightuserdata(L, t);
    if (lua_pcall(L, 2, 0, 0) != LUA_OK) {
      lua_pop(L, 1);
      as__task_drop(loop, t);
    }
  }
}

/* Ends every task still pending, lets the attachments close their handles,
 * closes the rest, runs libuv dry (which also waits for threads still
 * running), lets the attachments go, and frees the loop. Allocates nothing
 * that could fail the close. */
static void close_loop(lua_State *L, as_loop *loop) {
  as_list *n;
  end_pending_tasks(L, loop);
  for (n = loop->attachments.next; n != &loop->attachments; n = n->next) {
    as_attachment *a = as_container_of(n, as_attachment, node);
    if (a->close) a->close(a, L, loop);
  }
  uv_walk(&loop->uv, close_handle, NULL);
  uv_run(&loop->uv, UV_RUN_DEFAULT);
  uv_loop_close(&loop->uv);
  while ((n = as_list_first(&loop->attachments)) != NULL) {
    as_attachment *a = as_container_of(n, as_attachment, node);
    as_list_remove(n);
    a->release(a, L, loop);
  }
  while ((n = as_list_first(&loop->held)) != NULL) as_list_remove(n);  /* they outlive the run */
  luaL_unref(L, LUA_REGISTRYINDEX, loop->anchors_ref);
  luaL_unref(L, LUA_REGISTRYINDEX, loop->raises_ref);
  luaL_unref(L, LUA_REGISTRYINDEX, loop->cancels_ref);
  luaL_unref(L, LUA_REGISTRYINDEX, loop->callbacks_ref);
  luaL_unref(L, LUA_REGISTRYINDEX, loop->callback_queue_ref);
  luaL_unref(L, LUA_REGISTRYINDEX, loop->failures_ref);
  luaL_unref(L, LUA_REGISTRYINDEX, loop->causes_ref);
  luaL_unref(L, LUA_REGISTRYINDEX, loop->spawn_sites_ref);
  as__box(L)->loop = NULL;
  if (loop->shuffle) as_ready_shuffle_free(loop->shuffle);
  free(loop->shuffle);
  free(loop);
}

/* ---- a run ---- */

/* Protected part of a run: (loop, fn, args...) -> sets the loop up, spawns
 * the main task (returned), runs everything. */
static int run_protected(lua_State *L) {
  as_loop *loop = lua_touserdata(L, 1);
  as_task *main;
  int task;
  open_tables(L, loop);
  if (loop->options.setup) loop->options.setup(L, loop, loop->options.setup_ud);
  main = as__task_spawn(L, loop, 2, lua_gettop(L) - 2);
  task = lua_gettop(L);
  loop->main = main;
  run_until_done(loop, main);
  if (main->outcome == AS_OUTCOME_ERROR) {
    /* as__run hands the main task's error to its caller: it is retrieved. */
    lua_getiuservalue(L, task, 1);
    lua_pushboolean(L, 1);
    lua_setfield(L, -2, "retrieved");
    lua_pop(L, 1);
  }
  shut_down(loop);
  if (loop->hook && loop->hook->finished) loop->hook->finished(loop->hook, loop);
  report_unretrieved(loop);
  lua_settop(L, task);
  return 1;
}

int as__run(lua_State *L, int nargs, const as_loop_options *opts, int *nresults) {
  int base = lua_gettop(L) - nargs, status;
  as_loop *loop;
  as_task *main;
  if (as_loop_of(L) != NULL)
    return luaL_error(L, "asched.run: a loop is already running (spawn or await inside it instead)");
  loop = calloc(1, sizeof *loop);
  if (loop == NULL) return luaL_error(L, "not enough memory");
  if (open_loop(L, loop, opts) != 0) {
    free(loop);
    return luaL_error(L, "not enough memory");
  }
  lua_pushcfunction(L, run_protected);
  lua_pushlightuserdata(L, loop);
  lua_rotate(L, base, 2);                  /* [run_protected loop fn args] */
  status = lua_pcall(L, nargs + 2, 1, 0);
  if (status != LUA_OK) {
    /* An internal error (out of memory...): not the main task's. */
    lua_pushnil(L);
    close_loop(L, loop);
    return status;
  }
  main = lua_touserdata(L, base);          /* the main Task */
  close_loop(L, loop);
  if (main->outcome == AS_OUTCOME_OK) {
    int n = as__task_push_results(L, base, main);
    lua_remove(L, base);
    *nresults = n;
    return LUA_OK;
  }
  lua_getiuservalue(L, base, 1);
  if (main->outcome == AS_OUTCOME_ERROR) {
    lua_pushboolean(L, 1);
    lua_setfield(L, -2, "retrieved");
    lua_getfield(L, -1, "error");
    lua_getfield(L, -2, "traceback");
    lua_remove(L, -3);
  } else {
    lua_pushnil(L);
  }
  lua_remove(L, base);
  return LUA_ERRRUN;
}
