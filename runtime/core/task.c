/* task.c -- the task lifecycle: spawn, the one call to lua_resume, suspension,
 * wake-ups, cancellation and finishing; and the scheduler's own waits (yield,
 * sleep, await). Never blocks; never touches libuv; knows other waits only
 * through their as_wait_type. */
#include "task.h"

#include <lauxlib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "errors.h"
#include "loop.h"

#define FAILURE_METATABLE "asched.TaskFailure"
#define NAMES_KEY "asched.names"   /* registry: Task -> assigned name (weak keys) */

/* ---- anchoring: loop->anchors holds every pending task, densely from 1 ---- */

static void anchor(lua_State *L, as_loop *loop, as_task *t) {
  as__loop_push_table(L, loop->anchors_ref);
  lua_pushvalue(L, -2);
  lua_rawseti(L, -2, loop->live_tasks + 1);  /* may raise: count the task once stored */
  t->anchor = ++loop->live_tasks;
  lua_pop(L, 1);
}

/* Frees the task's slot by moving the last anchored task into it. O(1). */
static void unanchor(lua_State *L, as_loop *loop, as_task *t) {
  int32_t last = loop->live_tasks--;
  as__loop_push_table(L, loop->anchors_ref);
  if (t->anchor != last) {
    as_task *moved;
    lua_rawgeti(L, -1, last);
    moved = lua_touserdata(L, -1);
    moved->anchor = t->anchor;
    lua_rawseti(L, -2, t->anchor);
  }
  lua_pushnil(L);
  lua_rawseti(L, -2, last);
  lua_pop(L, 1);
  t->anchor = 0;
}

void as__task_push(lua_State *L, as_loop *loop, as_task *t) {
  as__loop_push_table(L, loop->anchors_ref);
  lua_rawgeti(L, -1, t->anchor);
  lua_remove(L, -2);
}

static int by_id(const void *a, const void *b) {
  uint32_t x = (*(as_task *const *)a)->id, y = (*(as_task *const *)b)->id;
  return (x > y) - (x < y);
}

as_task **as__task_pending(lua_State *L, as_loop *loop, int32_t *count) {
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

void as__task_ready(as_loop *loop, as_task *t) {
  t->flags |= AS_TASK_IN_READY;
  as_ready_push(&loop->ready, &t->link.waiter.node);
  if (!as_list_empty(&loop->observers)) as__loop_notify_state(loop, t, "ready");
}

/* ---- spawning ---- */

/* Debug mode: remembers the user's line that spawned the Task on top of L. */
static void note_spawn_site(lua_State *L, as_loop *loop) {
  as__loop_push_table(L, loop->spawn_sites_ref);
  lua_pushvalue(L, -2);
  as__task_push_where(L, L);
  lua_rawset(L, -3);
  lua_pop(L, 1);
}

void as__task_push_spawn_site(lua_State *L, as_loop *loop, int idx) {
  idx = lua_absindex(L, idx);
  as__loop_push_table(L, loop->spawn_sites_ref);
  lua_pushvalue(L, idx);
  lua_rawget(L, -2);
  lua_remove(L, -2);
}

as_task *as__task_spawn(lua_State *L, as_loop *loop, int fidx, int nargs) {
  lua_State *co;
  as_task *t;
  fidx = lua_absindex(L, fidx);
  co = lua_newthread(L);
  t = lua_newuserdatauv(L, sizeof *t, 1);
  memset(t, 0, sizeof *t);
  luaL_setmetatable(L, AS_TASK_METATABLE);
  /* [fn args co task] -> [co task fn args]; fn and args go to the coroutine */
  lua_rotate(L, fidx, 2);
  lua_xmove(L, co, nargs + 1);
  lua_rotate(L, -2, 1);
  lua_setiuservalue(L, -2, 1);
  t->co = co;
  t->id = ++loop->last_task_id;
  t->nvalues = nargs;
  t->state = AS_TASK_NEW;
  as_list_init(&t->waiters);
  as_list_init(&t->link.waiter.node);
  anchor(L, loop, t);
  if (loop->debug) note_spawn_site(L, loop);
  as__task_ready(loop, t);
  return t;
}

/* ---- suspension and wake-ups ---- */

as_task *as__task_running_in(as_loop *loop, lua_State *L) {
  if (loop == NULL || loop->current == NULL || loop->current_co != L || !lua_isyieldable(L)) return NULL;
  return loop->current;
}

as_task *as__task_check_current(lua_State *L, as_loop *loop, const char *fname) {
  as_task *t = loop ? loop->current : NULL;
  if (t == NULL)
    luaL_error(L, "asched.%s: not inside a task", fname);
  if (loop->current_co != L)
    luaL_error(L, "asched.%s: not inside a task (called from a coroutine that %s "
               "is running; only the task's own coroutine can suspend)", fname,
               lua_pushfstring(L, "task-%d", (int)t->id));
  if (!lua_isyieldable(L))
    luaL_error(L, "asched.%s: cannot suspend here: attempt to yield across a C-call "
               "boundary (inside a metamethod, a __close handler, or a C function "
               "such as table.sort or string.gsub)", fname);
  return t;
}

int as__task_suspend(lua_State *L, as_loop *loop, as_task *t, lua_KFunction k, lua_KContext ctx) {
  t->state = AS_TASK_SUSPENDED;
  if (t->flags & AS_TASK_PENDING_RAISE) as__task_wake(loop, t);
  return lua_yieldk(L, 0, ctx, k);
}

int as__task_take_raise(lua_State *L, as_loop *loop, as_task *t) {
  if (!(t->flags & AS_TASK_PENDING_RAISE)) return 0;
  t->flags &= ~(AS_TASK_PENDING_RAISE | AS_TASK_CANCEL_REQUESTED);
  as__loop_push_table(L, loop->raises_ref);
  lua_rawgetp(L, -1, t);
  lua_pushnil(L);
  lua_rawsetp(L, -3, t);
  lua_remove(L, -2);
  return 1;
}

void as__task_check_raise(lua_State *L, as_loop *loop, as_task *t) {
  if (as__task_take_raise(L, loop, t)) lua_error(L);
}

void as__task_push_pending_raise(lua_State *L, as_loop *loop, as_task *t) {
  if (!(t->flags & AS_TASK_PENDING_RAISE)) {
    lua_pushnil(L);
    return;
  }
  as__loop_push_table(L, loop->raises_ref);
  lua_rawgetp(L, -1, t);
  lua_remove(L, -2);
}

int as__task_withdraw_raise(lua_State *L, as_loop *loop, as_task *t, int idx) {
  int same;
  idx = lua_absindex(L, idx);
  as__task_push_pending_raise(L, loop, t);
  same = !lua_isnil(L, -1) && lua_rawequal(L, -1, idx);
  lua_pop(L, 1);
  if (!same) return 0;
  as__loop_push_table(L, loop->raises_ref);
  lua_pushnil(L);
  lua_rawsetp(L, -2, t);
  lua_pop(L, 1);
  t->flags &= ~(AS_TASK_PENDING_RAISE | AS_TASK_CANCEL_REQUESTED);
  return 1;
}

void as__task_grant(lua_State *L, as_loop *loop, as_task *t) {
  lua_State *co = t->co;
  if (!lua_checkstack(co, 1)) luaL_error(L, "stack overflow handing a value to a task");
  lua_xmove(L, co, 1);
  t->nvalues = 1;
  t->flags |= AS_TASK_GRANTED;
  as__task_wake(loop, t);
}

void as__task_swap_grant(lua_State *L, as_task *t) {
  lua_State *co = t->co;
  if (!lua_checkstack(co, 1)) luaL_error(L, "stack overflow handing a value to a task");
  lua_xmove(L, co, 1);                     /* co: [... granted new] */
  lua_rotate(co, -2, 1);                   /* co: [... new granted] */
  lua_xmove(co, L, 1);
}

/* Unlinks `t` from its timer or waiting list. */
static void detach(as_loop *loop, as_task *t) {
  if (t->flags & AS_TASK_IN_TIMERS) {
    as_timer_wheel_remove(&loop->timers, &t->link.timer);
    t->flags &= ~AS_TASK_IN_TIMERS;
    as_list_init(&t->link.waiter.node);
  } else {
    as_list_remove(&t->link.waiter.node);
    if (t->wait != NULL && t->wait->type->leave != NULL && !(t->flags & AS_TASK_GRANTED))
      t->wait->type->leave(loop, t);
  }
  t->wait = NULL;
}

void as__task_wake(as_loop *loop, as_task *t) {
  if (t->state != AS_TASK_SUSPENDED || (t->flags & AS_TASK_IN_READY)) return;
  detach(loop, t);
  as__task_ready(loop, t);
}

void as__task_raise(lua_State *L, as_loop *loop, as_task *t) {
  as__loop_push_table(L, loop->raises_ref);
  lua_insert(L, -2);
  lua_rawsetp(L, -2, t);
  lua_pop(L, 1);
  t->flags |= AS_TASK_PENDING_RAISE;
  as__task_wake(loop, t);
}

/* ---- the scheduler's own waits ---- */

static void describe_ready(lua_State *L, as_loop *loop, const as_task *t) {
  (void)loop;
  (void)t;
  lua_pushliteral(L, "ready");
}

static void describe_sleep(lua_State *L, as_loop *loop, const as_task *t) {
  char what[64];
  (void)loop;
  snprintf(what, sizeof what, "sleeping until %.3f s", t->link.timer.deadline / 1e9);
  lua_pushstring(L, what);
}

static void describe_forever(lua_State *L, as_loop *loop, const as_task *t) {
  (void)loop;
  (void)t;
  lua_pushliteral(L, "sleeping forever");
}

static void describe_await(lua_State *L, as_loop *loop, const as_task *t) {
  as__task_push_pending_name(L, loop, t->link.awaited);
  lua_pushfstring(L, "awaiting %s", lua_tostring(L, -1));
  lua_remove(L, -2);
}

static int await_holders(const as_task *t, uint32_t *ids, int max, lua_Integer *more) {
  *more = 0;
  if (max < 1) return 0;
  ids[0] = t->link.awaited->id;
  return 1;
}

static const as_wait_type yield_wait = {.timeline = "ready", .describe = describe_ready};
static const as_wait_type sleep_wait = {.timeline = "sleeping", .describe = describe_sleep};
static const as_wait_type forever_wait = {.timeline = "sleeping", .describe = describe_forever};
static const as_wait_type await_wait = {.timeline = "awaiting", .describe = describe_await,
                                        .holders = await_holders};

static const as_wait_site yield_site = {&yield_wait};
static const as_wait_site sleep_site = {&sleep_wait};
static const as_wait_site forever_site = {&forever_wait};
static const as_wait_site await_site = {&await_wait};

int as__task_yield(lua_State *L, as_loop *loop, as_task *t, lua_KFunction k, lua_KContext ctx) {
  as__task_set_wait(t, &yield_site);
  as__task_ready(loop, t);
  return as__task_suspend(L, loop, t, k, ctx);
}

void as__task_set_timer(as_loop *loop, as_task *t, uint64_t deadline) {
  as_timer_wheel_insert(&loop->timers, &t->link.timer, deadline, loop->timer_seq++);
  t->flags |= AS_TASK_IN_TIMERS;
}

int as__task_sleep(lua_State *L, as_loop *loop, as_task *t, uint64_t duration,
                   lua_KFunction k, lua_KContext ctx) {
  if (duration == AS_NEVER) {
    as__task_set_wait(t, &forever_site);   /* only a cancellation ends it */
  } else {
    as__task_set_wait(t, &sleep_site);
    as__task_set_timer(loop, t, as__loop_now(loop) + duration);
  }
  return as__task_suspend(L, loop, t, k, ctx);
}

/* The awaited task finished: the awaiting task, whose link.waiter `w` is, runs. */
static void await_done(lua_State *L, as_loop *loop, as_waiter *w, as_task *finished, int task) {
  (void)L;
  (void)finished;
  (void)task;
  as__task_wake(loop, as_container_of(w, as_task, link.waiter));
}

static const as_waiter_owner awaiting = {await_done};

int as__task_await(lua_State *L, as_loop *loop, as_task *self, as_task *target,
                   lua_KFunction k, lua_KContext ctx) {
  as__task_set_wait(self, &await_site);
  self->link.waiter.owner = &awaiting;
  self->link.awaited = target;
  as_list_push_back(&target->waiters, &self->link.waiter.node);
  if (self->flags & AS_TASK_CANCEL_REQUESTED) {
    /* A cancellation requested before this await is delivered at it: the
     * awaited task is cancelled too, as when it comes while awaiting. */
    as__task_push_pending_raise(L, loop, self);
    as__task_cancel(L, loop, target);
  }
  return as__task_suspend(L, loop, self, k, ctx);
}

/* ---- counting cancellation requests: in the top bits of the flags ---- */

/* A count that does not fit there (a task cancelled 63 times over without
 * taking any back) lives in loop->cancels, and the bits read "see there". */
#define CANCELS_SEE_TABLE (AS_TASK_CANCELS_MASK >> AS_TASK_CANCELS_SHIFT)

lua_Integer as__task_cancelling(lua_State *L, as_loop *loop, const as_task *t) {
  lua_Integer n = t->flags >> AS_TASK_CANCELS_SHIFT;
  if (n < CANCELS_SEE_TABLE) return n;
  as__loop_push_table(L, loop->cancels_ref);
  lua_rawgetp(L, -1, t);
  n = lua_tointeger(L, -1);
  lua_pop(L, 2);
  return n;
}

/* Sets the count of `t` to `n` (>= 0). */
static void set_cancelling(lua_State *L, as_loop *loop, as_task *t, lua_Integer n) {
  int in_table = (t->flags >> AS_TASK_CANCELS_SHIFT) == CANCELS_SEE_TABLE;
  if (n >= CANCELS_SEE_TABLE || in_table) {
    as__loop_push_table(L, loop->cancels_ref);
    if (n >= CANCELS_SEE_TABLE) lua_pushinteger(L, n);
    else lua_pushnil(L);
    lua_rawsetp(L, -2, t);
    lua_pop(L, 1);
  }
  t->flags = (uint16_t)((t->flags & ~AS_TASK_CANCELS_MASK) |
                        ((n < CANCELS_SEE_TABLE ? n : CANCELS_SEE_TABLE) << AS_TASK_CANCELS_SHIFT));
}

void as__task_count_cancel(lua_State *L, as_loop *loop, as_task *t) {
  if (t->state != AS_TASK_DONE) set_cancelling(L, loop, t, as__task_cancelling(L, loop, t) + 1);
}

lua_Integer as__task_uncancel(lua_State *L, as_loop *loop, as_task *t) {
  lua_Integer n = as__task_cancelling(L, loop, t);
  if (n > 0) set_cancelling(L, loop, t, --n);
  return n;
}

int as__task_cancel(lua_State *L, as_loop *loop, as_task *t) {
  int requested = t->state != AS_TASK_DONE;
  /* As in asyncio, cancelling a task cancels the task it awaits, and so on
   * down the chain. Waking a task clears what it awaits, so a cycle ends. */
  while (t != NULL && t->state != AS_TASK_DONE) {
    as_task *awaited = t->wait == &await_site ? t->link.awaited : NULL;
    t->flags |= AS_TASK_CANCEL_REQUESTED;
    set_cancelling(L, loop, t, as__task_cancelling(L, loop, t) + 1);
    lua_pushvalue(L, -1);
    as__task_raise(L, loop, t);
    t = awaited;
  }
  lua_pop(L, 1);
  return requested;
}

/* ---- finishing ---- */

/* Common end of every task; the Task is on top of L, its results or error
 * already in its user value. Pops the Task. */
static void finish(lua_State *L, as_loop *loop, as_task *t, as_task_outcome outcome) {
  static const char *const ends[] = {"", "done", "failed", "cancelled"};
  as_list *n;
  int task = lua_gettop(L);
  t->state = AS_TASK_DONE;
  t->outcome = (uint8_t)outcome;
  as__loop_notify_state(loop, t, ends[outcome]);
  t->co = NULL;
  t->wait = NULL;
  if (t->flags & AS_TASK_PENDING_RAISE) {
    as__loop_push_table(L, loop->raises_ref);
    lua_pushnil(L);
    lua_rawsetp(L, -2, t);
    lua_pop(L, 1);
  }
  t->flags &= ~(AS_TASK_PENDING_RAISE | AS_TASK_CANCEL_REQUESTED | AS_TASK_TRACE_CANCEL);
  if (t->flags & AS_TASK_CANCELS_MASK) set_cancelling(L, loop, t, 0);
  loop->finishing = t;
  while ((n = as_list_first(&t->waiters)) != NULL) {
    as_waiter *w = as_container_of(n, as_waiter, node);
    as_list_remove(n);
    w->owner->done(L, loop, w, t, task);
  }
  loop->finishing = NULL;
  if (t->flags & AS_TASK_HAS_CALLBACKS) {
    int i, count;
    t->flags &= ~AS_TASK_HAS_CALLBACKS;
    as__loop_push_table(L, loop->callbacks_ref);
    lua_rawgetp(L, -1, t);
    count = (int)lua_rawlen(L, -1);
    for (i = 1; i <= count; i++) {
      lua_rawgeti(L, -1, i);
      as__loop_queue_callback(loop, L, task);
    }
    lua_pop(L, 1);
    lua_pushnil(L);
    lua_rawsetp(L, -2, t);
    lua_pop(L, 1);
  }
  unanchor(L, loop, t);
  lua_settop(L, task - 1);
}

/* Finishes `t` as cancelled by the CancelledError waiting in loop->raises. */
static void finish_cancelled_unstarted(lua_State *L, as_loop *loop, as_task *t) {
  as__task_push(L, loop, t);
  as__task_push_pending_raise(L, loop, t);
  lua_setiuservalue(L, -2, 1);
  finish(L, loop, t, AS_OUTCOME_CANCELLED);
}

static void succeed(as_loop *loop, as_task *t, lua_State *co, int nresults) {
  lua_State *L = loop->L;
  if (t->flags & AS_TASK_CANCEL_REQUESTED) {
    /* Cancelled while running and never suspended again: as asyncio, the task
     * ends cancelled; its results are dropped. */
    lua_settop(co, 0);
    finish_cancelled_unstarted(L, loop, t);
    return;
  }
  as__task_push(L, loop, t);
  if (nresults == 0) {
    lua_pushnil(L);
  } else if (nresults == 1) {
    lua_xmove(co, L, 1);
  } else {
    int i;
    lua_createtable(L, nresults, 0);
    for (i = nresults; i >= 1; i--) {
      lua_xmove(co, L, 1);
      lua_rawseti(L, -2, i);
    }
  }
  lua_setiuservalue(L, -2, 1);
  t->nvalues = nresults;
  finish(L, loop, t, AS_OUTCOME_OK);
}

/* The record of a failed task's error, {error=, traceback=, task=, id=}: its
 * __gc reports it unless `retrieved` was set. */
static int failure_gc(lua_State *L) {
  lua_getfield(L, 1, "retrieved");
  if (!lua_toboolean(L, -1)) {
    as__report_failure(L, 1);
    /* A finalized key stays in the weak failures table until the next
     * collection: the end-of-run report must not print it again. */
    lua_pushboolean(L, 1);
    lua_setfield(L, 1, "retrieved");
  }
  return 0;
}

static void push_failure_record(lua_State *L, as_loop *loop, as_task *t, int err, int tb) {
  err = lua_absindex(L, err);
  tb = lua_absindex(L, tb);
  lua_createtable(L, 0, 5);
  if (luaL_newmetatable(L, FAILURE_METATABLE)) {
    lua_pushcfunction(L, failure_gc);
    lua_setfield(L, -2, "__gc");
  }
  lua_setmetatable(L, -2);
  lua_pushvalue(L, err);
  lua_setfield(L, -2, "error");
  lua_pushvalue(L, tb);
  lua_setfield(L, -2, "traceback");
  as__task_push_pending_name(L, loop, t);
  lua_setfield(L, -2, "task");
  as__task_push(L, loop, t);
  as__task_push_spawn_site(L, loop, -1);
  lua_setfield(L, -3, "spawned_at");
  lua_pop(L, 1);
  lua_pushinteger(L, t->id);
  lua_setfield(L, -2, "id");
  as__loop_push_table(L, loop->failures_ref);
  lua_pushvalue(L, -2);
  lua_pushboolean(L, 1);
  lua_rawset(L, -3);
  lua_pop(L, 1);
}

/* The failure record of the task whose error the running coroutine `L`
 * re-raises (await, result, gather): kept until `L` is collected, so that if
 * `L`'s task dies of that same error its traceback can say where it began. */
static void note_cause(lua_State *L, int record) {
  as_loop *loop = as_loop_of(L);
  if (loop == NULL || loop->current_co != L) return;
  record = lua_absindex(L, record);
  as__loop_push_table(L, loop->causes_ref);
  lua_pushthread(L);
  lua_pushvalue(L, record);
  lua_rawset(L, -3);
  lua_pop(L, 1);
}

/* The traceback on top of L is co's, dying of the error at `err`: when co
 * re-raised that error from another task, appends where that task raised it. */
static void append_cause(lua_State *L, as_loop *loop, lua_State *co, int err) {
  const char *cause_tb, *stack;
  err = lua_absindex(L, err);
  as__loop_push_table(L, loop->causes_ref);
  lua_pushthread(co);
  lua_xmove(co, L, 1);
  if (lua_rawget(L, -2) != LUA_TTABLE) {
    lua_pop(L, 2);
    return;
  }
  lua_getfield(L, -1, "error");
  lua_getfield(L, -2, "traceback");
  cause_tb = lua_tostring(L, -1);
  stack = cause_tb ? strstr(cause_tb, "stack traceback:\n") : NULL;
  if (!lua_rawequal(L, -2, err) || stack == NULL) {
    lua_pop(L, 4);
    return;
  }
  lua_getfield(L, -3, "task");
  lua_getfield(L, -4, "spawned_at");
  lua_pushfstring(L, "%s\nraised in %s%s%s%s:\n%s", lua_tostring(L, -7), lua_tostring(L, -2),
                  lua_isstring(L, -1) ? " (spawned at " : "", lua_isstring(L, -1) ? lua_tostring(L, -1) : "",
                  lua_isstring(L, -1) ? ")" : "", stack + sizeof "stack traceback:\n" - 1);
  lua_replace(L, -8);
  lua_pop(L, 6);
}

/* Pushes co's traceback for the error at `err`, or nil for a cancellation:
 * a cancellation's traceback is never shown, and taking one costs ~20 us --
 * unless a timeout scope may still turn it into a TimeoutError. */
static void push_traceback(lua_State *L, as_loop *loop, as_task *t, lua_State *co, int err) {
  err = lua_absindex(L, err);
  if (as__error_is(L, err, "CancelledError") && !(t->flags & AS_TASK_TRACE_CANCEL)) {
    lua_pushnil(L);
    return;
  }
  luaL_traceback(L, co, as__error_message(L, err), 0);
  lua_remove(L, -2);
  append_cause(L, loop, co, err);
}

/* The traceback at `tb` was taken for an error that a __close handler then
 * replaced by the error on top: keep its stack, say the new message. */
static void retitle_traceback(lua_State *L, int tb) {
  const char *stack;
  tb = lua_absindex(L, tb);
  if (lua_type(L, tb) != LUA_TSTRING) return;
  stack = strstr(lua_tostring(L, tb), "stack traceback:");
  as__error_message(L, -1);
  lua_pushfstring(L, "%s\n%s", lua_tostring(L, -1), stack ? stack : "");
  lua_replace(L, tb);
  lua_pop(L, 1);
}

/* Runs co's <close> variables (lua_resetthread) with `t` as the running
 * task, for cleanup code that asks who it is. Returns the status of reset. */
static int close_coroutine(as_loop *loop, as_task *t, lua_State *co) {
  int status;
  loop->current = t;
  loop->current_co = co;
  status = lua_resetthread(co);
  loop->current = NULL;
  loop->current_co = NULL;
  return status;
}

/* The coroutine died with the error on its top (or yielded wrongly with it
 * there). Takes the traceback, then resets the coroutine so its <close>
 * variables run, then finishes the task. */
static void fail(as_loop *loop, as_task *t, lua_State *co) {
  lua_State *L = loop->L;
  int cancelled;
  lua_pushvalue(co, -1);
  lua_xmove(co, L, 1);                 /* the error, also left on co for __close */
  push_traceback(L, loop, t, co, -1);
  lua_insert(L, -2);                   /* L: traceback error */
  if (close_coroutine(loop, t, co) != LUA_OK) {
    /* The error the coroutine ends with: its own, or one a __close handler
     * raised in its place, as in Lua (a timeout scope turning its
     * cancellation into a TimeoutError, too). */
    int replaced;
    lua_xmove(co, L, 1);
    replaced = !lua_rawequal(L, -1, -2);
    lua_remove(L, -2);
    if (replaced) retitle_traceback(L, -2);
  }
  lua_settop(co, 0);
  cancelled = as__error_is(L, -1, "CancelledError");
  if (cancelled) {                     /* never shown */
    lua_pushnil(L);
    lua_replace(L, -3);
  }
  as__task_push(L, loop, t);           /* L: traceback error task */
  if (cancelled) {
    lua_pushvalue(L, -2);
  } else {
    push_failure_record(L, loop, t, -2, -3);
  }
  lua_setiuservalue(L, -2, 1);
  finish(L, loop, t, cancelled ? AS_OUTCOME_CANCELLED : AS_OUTCOME_ERROR);
  lua_pop(L, 2);
}

/* A task the run leaves behind: what it waits on lets go first (that may
 * wake it), then it leaves the ready queue or its wait. Again is harmless:
 * lists reset the nodes they remove, and detach clears t->wait. */
static void leave_everything(as_loop *loop, as_task *t) {
  if (t->state == AS_TASK_SUSPENDED && !(t->flags & AS_TASK_IN_READY) && t->wait && t->wait->type->abandon)
    t->wait->type->abandon(loop, t);
  if (t->flags & AS_TASK_IN_READY) {
    as_ready_remove(&loop->ready, &t->link.waiter.node);
    t->flags &= ~AS_TASK_IN_READY;
  } else if (t->state == AS_TASK_SUSPENDED) {
    detach(loop, t);
  }
}

void as__task_abandon(as_loop *loop, as_task *t) {
  lua_State *L = loop->L, *co;
  leave_everything(loop, t);
  co = t->co;
  close_coroutine(loop, t, co);
  lua_settop(co, 0);
  as__task_push(L, loop, t);
  as__error_push(L, "CancelledError", "abandoned when the run ended");
  lua_setiuservalue(L, -2, 1);
  finish(L, loop, t, AS_OUTCOME_CANCELLED);
}

void as__task_drop(as_loop *loop, as_task *t) {
  lua_State *L = loop->L;
  as_list *n;
  if (t->state != AS_TASK_DONE) {
    leave_everything(loop, t);
    if (t->co != NULL) {
      close_coroutine(loop, t, t->co);
      lua_settop(t->co, 0);
    }
    t->state = AS_TASK_DONE;
    t->outcome = AS_OUTCOME_CANCELLED;
    t->co = NULL;
    t->wait = NULL;
  }
  if (t->flags & AS_TASK_PENDING_RAISE) {   /* setting a key to nil allocates nothing */
    as__loop_push_table(L, loop->raises_ref);
    lua_pushnil(L);
    lua_rawsetp(L, -2, t);
    lua_pop(L, 1);
  }
  t->flags &= ~(AS_TASK_PENDING_RAISE | AS_TASK_CANCEL_REQUESTED | AS_TASK_TRACE_CANCEL | AS_TASK_HAS_CALLBACKS);
  if (loop->finishing == t) loop->finishing = NULL;   /* finish() ran out of memory half-way */
  while ((n = as_list_first(&t->waiters)) != NULL) as_list_remove(n);
  if (t->anchor != 0) unanchor(L, loop, t);
}

/* What a task that just suspended is doing, in as_observer's words. */
static const char *wait_state(const as_task *t) {
  if ((t->flags & AS_TASK_IN_READY) || t->wait == NULL) return "ready";
  return t->wait->type->timeline;
}

static void notify_resume(as_loop *loop, as_task *t) {
  as_list *n;
  for (n = loop->observers.next; n != &loop->observers; n = n->next) {
    as_observer *o = as_container_of(n, as_observer, node);
    if (o->resume) o->resume(o, loop, t);
  }
}

static void notify_resumed(as_loop *loop, as_task *t, int status) {
  as_list *n;
  for (n = loop->observers.next; n != &loop->observers; n = n->next) {
    as_observer *o = as_container_of(n, as_observer, node);
    if (o->resumed) o->resumed(o, loop, t, status);
  }
}

void as__task_step(as_loop *loop, as_task *t) {
  lua_State *co;
  int nargs, nresults = 0, status, observed = !as_list_empty(&loop->observers);
  if (t->state == AS_TASK_NEW && (t->flags & AS_TASK_PENDING_RAISE)) {
    finish_cancelled_unstarted(loop->L, loop, t);
    return;
  }
  nargs = t->nvalues;       /* new: its arguments; suspended: what a grant handed over */
  t->nvalues = 0;
  co = t->co;
  t->state = AS_TASK_RUNNING;
  t->wait = NULL;
  loop->current = t;
  loop->current_co = co;
  if (observed) {
    as__loop_notify_state(loop, t, "running");
    notify_resume(loop, t);
  }
  status = lua_resume(co, loop->L, nargs, &nresults);
  if (observed) {
    notify_resumed(loop, t, status);
    if (t->state == AS_TASK_SUSPENDED) as__loop_notify_state(loop, t, wait_state(t));
  }
  loop->current = NULL;
  loop->current_co = NULL;
  switch (status) {
    case LUA_YIELD:
      if (t->state == AS_TASK_SUSPENDED) return; /* through as__task_suspend */
      lua_pop(co, nresults);
      as__error_push(co, "RuntimeError", "coroutine.yield() reached the scheduler; "
                     "a task suspends through asched functions such as asched.sleep(0)");
      fail(loop, t, co);
      return;
    case LUA_OK:
      succeed(loop, t, co, nresults);
      return;
    default:
      fail(loop, t, co);
      return;
  }
}

/* ---- results ---- */

int as__task_push_results(lua_State *L, int idx, as_task *t) {
  int i, n = t->nvalues;
  idx = lua_absindex(L, idx);
  lua_getiuservalue(L, idx, 1);
  switch (t->outcome) {
    case AS_OUTCOME_OK:
      if (n <= 1) {
        if (n == 0) lua_pop(L, 1);
        return n;
      }
      if (!lua_checkstack(L, n)) return luaL_error(L, "too many results (%d)", n);
      for (i = 1; i <= n; i++) lua_rawgeti(L, -i, i);
      lua_remove(L, -n - 1);
      return n;
    case AS_OUTCOME_ERROR:
      lua_pushboolean(L, 1);
      lua_setfield(L, -2, "retrieved");
      note_cause(L, -1);
      lua_getfield(L, -1, "error");
      return lua_error(L);
    default: /* cancelled: the CancelledError */
      return lua_error(L);
  }
}

void as__task_push_outcome(lua_State *L, int idx, const as_task *t, int retrieve) {
  lua_getiuservalue(L, idx, 1);
  switch (t->outcome) {
    case AS_OUTCOME_OK:
      if (t->nvalues == 0) {
        lua_pop(L, 1);
        lua_pushnil(L);
      } else if (t->nvalues > 1) {
        lua_rawgeti(L, -1, 1);
        lua_remove(L, -2);
      }
      return;
    case AS_OUTCOME_ERROR:
      if (retrieve) {
        lua_pushboolean(L, 1);
        lua_setfield(L, -2, "retrieved");
      }
      lua_getfield(L, -1, "error");
      lua_remove(L, -2);
      return;
    default:
      return;   /* the CancelledError itself */
  }
}

/* ---- names and places ---- */

void as__task_push_name(lua_State *L, int idx, as_task *t) {
  if (t->flags & AS_TASK_HAS_NAME) {
    idx = lua_absindex(L, idx);
    lua_getfield(L, LUA_REGISTRYINDEX, NAMES_KEY);
    lua_pushvalue(L, idx);
    lua_rawget(L, -2);
    lua_remove(L, -2);
    if (lua_type(L, -1) == LUA_TSTRING) return;
    lua_pop(L, 1);
  }
  lua_pushfstring(L, "task-%d", (int)t->id);
}

void as__task_push_pending_name(lua_State *L, as_loop *loop, as_task *t) {
  as__task_push(L, loop, t);
  as__task_push_name(L, -1, t);
  lua_remove(L, -2);
}

void as__task_push_where(lua_State *L, lua_State *co) {
  lua_Debug ar;
  int level;
  for (level = 0; lua_getstack(co, level, &ar); level++) {
    lua_getinfo(co, "Sl", &ar);
    if (ar.currentline > 0 && strncmp(ar.source, AS_INTERNAL_CHUNK, sizeof AS_INTERNAL_CHUNK - 1) != 0) {
      lua_pushfstring(L, "%s:%d", ar.short_src, ar.currentline);
      return;
    }
  }
  lua_pushliteral(L, "?");
}

void as__task_set_name(lua_State *L, int idx, as_task *t) {
  idx = lua_absindex(L, idx);
  if (lua_getfield(L, LUA_REGISTRYINDEX, NAMES_KEY) != LUA_TTABLE) {
    lua_pop(L, 1);
    as__push_table(L, "k");
    lua_pushvalue(L, -1);
    lua_setfield(L, LUA_REGISTRYINDEX, NAMES_KEY);
  }
  lua_pushvalue(L, idx);
  lua_pushvalue(L, -3);
  lua_rawset(L, -3);
  lua_pop(L, 2);
  t->flags |= AS_TASK_HAS_NAME;
}

void as__task_add_done_callback(lua_State *L, as_loop *loop, as_task *t, int tidx, int fidx) {
  tidx = lua_absindex(L, tidx);
  fidx = lua_absindex(L, fidx);
  if (t->state == AS_TASK_DONE) {
    lua_pushvalue(L, fidx);
    as__loop_queue_callback(loop, L, tidx);
    return;
  }
  as__loop_push_table(L, loop->callbacks_ref);
  if (lua_rawgetp(L, -1, t) == LUA_TNIL) {
    lua_pop(L, 1);
    lua_newtable(L);
    lua_pushvalue(L, -1);
    lua_rawsetp(L, -3, t);
  }
  lua_pushvalue(L, fidx);
  lua_rawseti(L, -2, (lua_Integer)lua_rawlen(L, -2) + 1);
  lua_pop(L, 2);
  t->flags |= AS_TASK_HAS_CALLBACKS;
}
