/* loop.c -- the scheduler: drains the ready queue, fires one deadline at a time,
 * waits on libuv, detects deadlock and shuts a run down. Owns the as_loop. */
#include "loop.h"

#include <lauxlib.h>
#include <stdio.h>
#include <stdlib.h>

#include "deadlock.h"
#include "errors.h"
#include "http.h"
#include "process.h"
#include "tcp.h"
#include "interrupt.h"
#include "scope.h"
#include "threads.h"

/* After this many passes over a ready queue that never empties (tasks that
 * keep yielding with sleep(0)), due timers and I/O get a turn anyway. */
#define STARVATION_PASSES 1024

static const char box_key = 'B'; /* registry[&box_key] = this state's as_box */

void as__push_box(lua_State *L) {
  if (lua_rawgetp(L, LUA_REGISTRYINDEX, &box_key) != LUA_TNIL) return;
  lua_pop(L, 1);
  *(as_box *)lua_newuserdatauv(L, sizeof(as_box), 0) = (as_box){.loop = NULL, .debug = 0};
  lua_pushvalue(L, -1);
  lua_rawsetp(L, LUA_REGISTRYINDEX, &box_key);
}

void as__set_boxed(lua_State *L, const luaL_Reg *functions) {
  as__push_box(L);
  luaL_setfuncs(L, functions, 1);
}

void as__push_boxed(lua_State *L, lua_CFunction fn) {
  as__push_box(L);
  lua_pushcclosure(L, fn, 1);
}

void as__new_type(lua_State *L, const char *name, const luaL_Reg *methods, lua_CFunction closer) {
  if (luaL_newmetatable(L, name)) {
    lua_newtable(L);
    as__set_boxed(L, methods);
    lua_setfield(L, -2, "__index");
    if (closer) {
      as__push_boxed(L, closer);
      lua_pushvalue(L, -1);
      lua_setfield(L, -3, "__gc");
      lua_setfield(L, -2, "__close");
    }
  }
  lua_pop(L, 1);
}

static as_box *box_of(lua_State *L) {
  as_box *box;
  as__push_box(L);
  box = lua_touserdata(L, -1);
  lua_pop(L, 1);
  return box;
}

as_loop *as_loop_of(lua_State *L) { return box_of(L)->loop; }

uint64_t as__loop_now(as_loop *loop) { return as_clock_now(&loop->clock); }

void as__loop_push_table(lua_State *L, int ref) { lua_rawgeti(L, LUA_REGISTRYINDEX, ref); }

void as__report_failure(lua_State *L, int record) {
  const char *task, *traceback;
  int top = lua_gettop(L);
  record = lua_absindex(L, record);
  lua_getfield(L, record, "task");
  lua_getfield(L, record, "traceback");
  task = lua_tostring(L, -2);
  traceback = lua_tostring(L, -1);
  if (lua_getfield(L, record, "spawned_at") == LUA_TSTRING)
    task = lua_pushfstring(L, "%s (spawned at %s)", task, lua_tostring(L, -1));
  as__report(lua_pushfstring(L, "error in %s was never retrieved:", task), traceback);
  lua_settop(L, top);
}

void as__report(const char *msg, const char *traceback) {
  fprintf(stderr, "asched: %s\n", msg);
  if (traceback) fprintf(stderr, "%s\n", traceback);
  fflush(stderr);
}

void as__loop_push_ready(as_loop *loop, as_task *t) {
  t->flags |= AS_TASK_IN_READY;
  as_ready_push(&loop->ready, &t->link.waiter.node);
  if (loop->timeline) as__timeline_record(loop, t, "ready");
}

/* ---- done callbacks: {task, fn} pairs in a FIFO table ---- */

void as__loop_queue_callback(as_loop *loop, lua_State *L, int tidx) {
  tidx = lua_absindex(L, tidx);
  as__loop_push_table(L, loop->callback_queue_ref);
  lua_pushvalue(L, tidx);
  lua_rawseti(L, -2, 2 * loop->callback_tail + 1);
  lua_rotate(L, -2, 1);
  lua_rawseti(L, -2, 2 * loop->callback_tail + 2);
  lua_pop(L, 1);
  loop->callback_tail++;
}

static void run_callbacks(as_loop *loop) {
  lua_State *L = loop->L;
  int top = lua_gettop(L);
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
}

static int has_callbacks(as_loop *loop) { return loop->callback_head < loop->callback_tail; }

/* ---- the scheduler step ---- */

static void poll_io(as_loop *loop) { uv_run(&loop->uv, UV_RUN_NOWAIT); }

static int fire_due_deadline(as_loop *loop);

/* Runs ready tasks and callbacks until none is left. A pass resumes the tasks
 * that were ready when it began, in order; tasks they wake run in later passes. */
static void run_ready(as_loop *loop) {
  unsigned passes = 0;
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
        as__task_step(loop, t);
      } while (n != last);
    }
    if (++passes % STARVATION_PASSES == 0) {
      if (!loop->clock.is_virtual) fire_due_deadline(loop);
      poll_io(loop);
    }
  }
}

/* The earliest timer of both wheels, or NULL; *is_scope says which wheel. */
static as_timer *earliest_timer(as_loop *loop, int *is_scope) {
  as_timer *task_timer = as_timer_wheel_min(&loop->timers);
  as_timer *scope_timer = as_timer_wheel_min(&loop->scope_timers);
  *is_scope = scope_timer && (!task_timer || as_timer_earlier(scope_timer, task_timer));
  return *is_scope ? scope_timer : task_timer;
}

/* Fires every timer of the earliest deadline, in the order they were set, if
 * that deadline has come (under virtual time the clock first jumps to it,
 * unless real work is pending): sleeping tasks wake, timeout scopes expire.
 * Later deadlines wait for the next call. Returns 1 if it fired. */
static int fire_due_deadline(as_loop *loop) {
  int is_scope;
  as_timer *min = earliest_timer(loop, &is_scope);
  uint64_t deadline;
  if (min == NULL) return 0;
  deadline = min->deadline;
  if (loop->clock.is_virtual && !uv_loop_alive(&loop->uv))
    as_clock_advance(&loop->clock, deadline);
  if (deadline > as_clock_now(&loop->clock)) return 0;
  while ((min = earliest_timer(loop, &is_scope)) != NULL && min->deadline == deadline) {
    if (is_scope) {
      as_scope *s = as_container_of(min, as_scope, timer);
      as_timer_wheel_remove(&loop->scope_timers, min);
      as__scope_expire(loop->L, loop, s);
    } else {
      as__task_wake(loop, as_container_of(min, as_task, link.timer));
    }
  }
  return 1;
}

static void on_wakeup(uv_timer_t *timer) { (void)timer; }

/* Blocks in libuv until a timer is due or real I/O completes. Returns 0 when
 * nothing at all could ever wake a task. */
static int wait_for_events(as_loop *loop) {
  int is_scope;
  as_timer *min = earliest_timer(loop, &is_scope);
  if (min && !loop->clock.is_virtual) {
    uint64_t now = as_clock_now(&loop->clock);
    uint64_t ms = min->deadline > now ? (min->deadline - now + 999999) / 1000000 : 0;
    uv_update_time(&loop->uv);
    uv_timer_start(&loop->wakeup, on_wakeup, ms, 0);
  } else {
    uv_timer_stop(&loop->wakeup);
  }
  if (!uv_loop_alive(&loop->uv)) return 0;
  uv_run(&loop->uv, UV_RUN_ONCE);
  return 1;
}

/* ---- listing tasks ---- */

static int by_id(const void *a, const void *b) {
  uint32_t x = (*(as_task *const *)a)->id, y = (*(as_task *const *)b)->id;
  return (x > y) - (x < y);
}

as_task **as__loop_pending_tasks(lua_State *L, as_loop *loop, int32_t *count) {
  as_task **list;
  int32_t i, n = loop->live_tasks;
  *count = n;
  if (n == 0) return NULL;
  list = malloc(sizeof *list * (size_t)n);
  if (list == NULL) luaL_error(L, "not enough memory");
  as__loop_push_table(L, loop->anchors_ref);
  for (i = 0; i < n; i++) {
    lua_rawgeti(L, -1, i + 1);
    list[i] = lua_touserdata(L, -1);
    lua_pop(L, 1);
  }
  lua_pop(L, 1);
  qsort(list, (size_t)n, sizeof *list, by_id);
  return list;
}

/* Pushes "name (what it waits on, where)". */
static void push_task_line(lua_State *L, as_loop *loop, as_task *t) {
  as__task_push(L, loop, t);
  as__task_push_name(L, -1, t);
  as__task_push_wait_description(L, loop, t);
  lua_pushfstring(L, "%s (%s)", lua_tostring(L, -2), lua_tostring(L, -1));
  lua_replace(L, -4);
  lua_pop(L, 2);
}

/* Nothing can ever wake the main task: raise DeadlockError in it. */
static void raise_deadlock(as_loop *loop) {
  lua_State *L = loop->L;
  as__deadlock_push_report(L, loop);
  as__error_push(L, "DeadlockError", "%s", lua_tostring(L, -1));
  lua_remove(L, -2);
  as__task_raise(L, loop, loop->main);
}

/* Runs until `main` is done (main != NULL) or no task is left. Returns 0, or
 * 1 when the remaining tasks are deadlocked (only without a main task). */
static int run_until_done(as_loop *loop, as_task *main) {
  for (;;) {
    run_ready(loop);
    if (main ? main->state == AS_TASK_DONE : loop->live_tasks == 0) return 0;
    if (fire_due_deadline(loop)) continue;
    if (wait_for_events(loop)) continue;
    if (main == NULL) return 1;
    raise_deadlock(loop);
  }
}

/* ---- shutting a run down ---- */

static void report_task(lua_State *L, as_loop *loop, as_task *t, const char *why) {
  push_task_line(L, loop, t);
  as__report(lua_pushfstring(L, "%s %s", why, lua_tostring(L, -1)), NULL);
  lua_pop(L, 2);
}

/* The main task is done: cancel whatever is still pending and let it clean up.
 * Tasks that can never finish (deadlocked after cancellation) are abandoned. */
static void shut_down(as_loop *loop) {
  lua_State *L = loop->L;
  int32_t i, n;
  as_task **list;
  list = as__loop_pending_tasks(L, loop, &n);
  for (i = 0; i < n; i++) report_task(L, loop, list[i], "cancelled pending task");
  for (i = 0; i < n; i++) {
    as__error_push(L, "CancelledError", "the run ended");
    as__task_cancel(L, loop, list[i]);
  }
  free(list);
  while (run_until_done(loop, NULL) != 0) {
    list = as__loop_pending_tasks(L, loop, &n);
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
  lua_newtable(L);
  if (mode) {
    lua_createtable(L, 0, 1);
    lua_pushstring(L, mode);
    lua_setfield(L, -2, "__mode");
    lua_setmetatable(L, -2);
  }
  return luaL_ref(L, LUA_REGISTRYINDEX);
}

static void open_loop(lua_State *L, as_loop *loop, const as_run_options *opts) {
  loop->L = L;
  as_clock_init(&loop->clock, opts->virtual_time);
  as_timer_wheel_init(&loop->timers);
  as_timer_wheel_init(&loop->scope_timers);
  as_ready_init(&loop->ready);
  as_list_init(&loop->tcp_handles);
  as_list_init(&loop->children);
  if (opts->seeded) {
    loop->shuffle = malloc(sizeof *loop->shuffle);
    if (loop->shuffle) as_ready_shuffle_init(loop->shuffle, opts->seed);
  }
  uv_loop_init(&loop->uv);
  uv_timer_init(&loop->uv, &loop->wakeup);
  loop->anchors_ref = new_table_ref(L, NULL);
  loop->raises_ref = new_table_ref(L, NULL);
  loop->callbacks_ref = new_table_ref(L, NULL);
  loop->callback_queue_ref = new_table_ref(L, NULL);
  loop->failures_ref = new_table_ref(L, "k");
  loop->scopes_ref = new_table_ref(L, NULL);
  loop->causes_ref = new_table_ref(L, "k");
  loop->spawn_sites_ref = new_table_ref(L, "k");
  loop->debug = opts->debug || box_of(L)->debug;
  if (opts->timeline || opts->trace) as__timeline_open(L, loop, opts->timeline, opts->trace);
  else if (opts->record_timeline) as__timeline_open_bounded(L, loop);
  box_of(L)->loop = loop;
}

static void on_closed(uv_handle_t *h) { (void)h; }

static void close_handle(uv_handle_t *h, void *arg) {
  (void)arg;
  if (!uv_is_closing(h)) uv_close(h, on_closed);
}

/* Ends every task still pending (only after an internal error), closes all
 * handles, and frees the loop. */
static void close_loop(lua_State *L, as_loop *loop) {
  while (loop->live_tasks > 0) {
    as_task *t;
    as__loop_push_table(L, loop->anchors_ref);
    lua_rawgeti(L, -1, loop->live_tasks);
    t = lua_touserdata(L, -1);
    lua_pop(L, 2);
    as__task_abandon(loop, t);
  }
  as__timeline_close(L, loop);
  as__http_close(loop);
  as__tcp_close_all(loop);       /* handles freed in their own close callbacks */
  as__process_close_all(loop);
  uv_walk(&loop->uv, close_handle, NULL);
  uv_run(&loop->uv, UV_RUN_DEFAULT);      /* also waits for threads still running */
  uv_loop_close(&loop->uv);
  as__threads_close(loop);
  luaL_unref(L, LUA_REGISTRYINDEX, loop->anchors_ref);
  luaL_unref(L, LUA_REGISTRYINDEX, loop->raises_ref);
  luaL_unref(L, LUA_REGISTRYINDEX, loop->callbacks_ref);
  luaL_unref(L, LUA_REGISTRYINDEX, loop->callback_queue_ref);
  luaL_unref(L, LUA_REGISTRYINDEX, loop->failures_ref);
  luaL_unref(L, LUA_REGISTRYINDEX, loop->scopes_ref);
  luaL_unref(L, LUA_REGISTRYINDEX, loop->causes_ref);
  luaL_unref(L, LUA_REGISTRYINDEX, loop->spawn_sites_ref);
  box_of(L)->loop = NULL;
  if (loop->shuffle) as_ready_shuffle_free(loop->shuffle);
  free(loop->shuffle);
  free(loop);
}

/* ---- a run ---- */

/* Protected part of a run: (loop, main Task) -> runs everything. */
static int run_protected(lua_State *L) {
  as_loop *loop = lua_touserdata(L, 1);
  run_until_done(loop, loop->main);
  if (loop->main->outcome == AS_OUTCOME_ERROR) {
    /* as_run hands the main task's error to its caller: it is retrieved. */
    lua_getiuservalue(L, 2, 1);
    lua_pushboolean(L, 1);
    lua_setfield(L, -2, "retrieved");
    lua_pop(L, 1);
  }
  shut_down(loop);
  report_unretrieved(loop);
  return 0;
}

int as_run(lua_State *L, int nargs, const as_run_options *opts, int *nresults) {
  int base = lua_gettop(L) - nargs, status;
  as_loop *loop;
  as_task *main;
  if (as_loop_of(L) != NULL)
    return luaL_error(L, "asched.run: a loop is already running (spawn or await inside it instead)");
  loop = calloc(1, sizeof *loop);
  if (loop == NULL) return luaL_error(L, "not enough memory");
  open_loop(L, loop, opts);
  main = as__task_spawn(L, loop, base, nargs);    /* the Task replaces fn and args */
  loop->main = main;
  if (opts->handle_sigint) as__interrupt_start(loop);
  lua_pushcfunction(L, run_protected);
  lua_pushlightuserdata(L, loop);
  lua_pushvalue(L, base);
  status = lua_pcall(L, 2, 0, 0);
  if (opts->handle_sigint) as__interrupt_stop(loop);
  if (status != LUA_OK) {
    /* An internal error (out of memory...): not the main task's. */
    lua_pushnil(L);
    close_loop(L, loop);
    lua_remove(L, base);
    return status;
  }
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
