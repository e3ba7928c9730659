/* waitset.c -- see waitset.h. A WaitSet registers one member (an as_waiter)
 * per task of its list; a finished task's member moves to the set's done
 * queue, so completions are read back in the order they happened, and the
 * waiting task is woken only when what it waits for has happened:
 *   next()       the next completion, or the deadline;
 *   wait_all(s)  every task done, or the first failure (s), or the deadline.
 * Given a results table (gather), the set writes each task's outcome into it
 * the moment the task finishes, so gather needs to hold no finished task.
 * The deadline rides on the waiting task's own timer node. Members live in
 * the userdata, which unlinks them when closed or collected. */
#include "waitset.h"

#include <lauxlib.h>
#include <string.h>

#include "errors.h"
#include "loop.h"

enum { WAKE_ON_NEXT, WAKE_ON_ALL };
enum { STOP_NEVER, STOP_ON_ERROR, STOP_ON_FAILURE }; /* failure: error or cancelled */

typedef struct as_waitset as_waitset;

/* A member is an as_waiter: in its task's waiters, then in the set's done
 * queue; its `index` says where it is in `members`, hence which set. */
typedef as_waiter member;

/* A userdata; user values: 1 the list of tasks, 2 the waiting Task while one
 * waits (so the pointer below stays valid), 3 the label. */
struct as_waitset {
  as_list done;           /* members whose task finished, in completion order */
  int32_t count, remaining;
  int32_t first_error, first_failure; /* 1-based member index, 0: none yet */
  int32_t on_time;        /* completions at or before the deadline */
  int32_t handed_out;     /* completions next() has returned */
  uint64_t deadline;      /* AS_NEVER: none */
  as_task *waiting;
  int results_ref;        /* registry reference of the results table, or LUA_NOREF */
  uint8_t wake_on, stop_on, closed;
  uint8_t keep_errors;    /* every error recorded counts as retrieved, not just the first failure */
  member members[];
};

static as_waitset *check_set(lua_State *L) {
  return luaL_checkudata(L, 1, AS_WAITSET_METATABLE);
}

static int stop_condition_met(const as_waitset *ws) {
  return (ws->stop_on == STOP_ON_ERROR && ws->first_error) ||
         (ws->stop_on == STOP_ON_FAILURE && ws->first_failure);
}

/* Writes the outcome of the done Task at `task` into results[index]: its
 * first value, its error value or its CancelledError. An error counts as
 * retrieved when gather will hand it on: every one when keeping errors,
 * else only the first failure, which gather raises. */
static void record_outcome(lua_State *L, as_waitset *ws, int32_t index, const as_task *done, int task) {
  lua_rawgeti(L, LUA_REGISTRYINDEX, ws->results_ref);
  lua_getiuservalue(L, task, 1);
  if (done->outcome == AS_OUTCOME_OK) {
    if (done->nvalues == 0) {
      lua_pop(L, 1);
      lua_pushnil(L);
    } else if (done->nvalues > 1) {
      lua_rawgeti(L, -1, 1);
      lua_remove(L, -2);
    }
  } else if (done->outcome == AS_OUTCOME_ERROR) {
    if (ws->keep_errors || index == ws->first_failure) {
      lua_pushboolean(L, 1);
      lua_setfield(L, -2, "retrieved");
    }
    lua_getfield(L, -1, "error");
    lua_remove(L, -2);
  }
  lua_rawseti(L, -2, index);
  lua_pop(L, 1);
}

/* The task of member `m`, the Task at stack index `task` of L, is done. */
static void record_done(lua_State *L, as_loop *loop, as_waitset *ws, member *m, const as_task *done, int task) {
  int32_t index = (int32_t)(m - ws->members) + 1;
  as_list_push_back(&ws->done, &m->node);
  ws->remaining--;
  if (ws->deadline == AS_NEVER || as__loop_now(loop) <= ws->deadline) ws->on_time++;
  if (done->outcome == AS_OUTCOME_ERROR && !ws->first_error) ws->first_error = index;
  if (done->outcome != AS_OUTCOME_OK && !ws->first_failure) ws->first_failure = index;
  if (ws->results_ref != LUA_NOREF) record_outcome(L, ws, index, done, task);
}

void as__waitset_member_done(lua_State *L, int task, as_loop *loop, as_waiter *m, as_task *done) {
  as_waitset *ws = as_container_of(m - m->index, as_waitset, members);
  record_done(L, loop, ws, m, done, task);
  if (ws->waiting == NULL) return;
  if (ws->wake_on == WAKE_ON_NEXT || ws->remaining == 0 || stop_condition_met(ws))
    as__task_wake(loop, ws->waiting);
}

/* waitset(tasks, label [, results, keep_errors]) -> WaitSet over the Task
 * values tasks[1..#tasks]; with `results`, each outcome is written there. */
static int waitset_new(lua_State *L) {
  as_loop *loop = as__loop(L);
  int32_t i, n;
  as_waitset *ws;
  luaL_checktype(L, 1, LUA_TTABLE);
  luaL_checkstring(L, 2);
  n = (int32_t)luaL_len(L, 1);
  ws = lua_newuserdatauv(L, sizeof *ws + sizeof(member) * (size_t)n, 3);
  memset(ws, 0, sizeof *ws);
  as_list_init(&ws->done);
  ws->count = ws->remaining = n;
  ws->deadline = AS_NEVER;
  ws->results_ref = LUA_NOREF;
  luaL_setmetatable(L, AS_WAITSET_METATABLE);
  if (lua_type(L, 3) == LUA_TTABLE) {
    lua_pushvalue(L, 3);
    ws->results_ref = luaL_ref(L, LUA_REGISTRYINDEX);
    ws->keep_errors = (uint8_t)lua_toboolean(L, 4);
  }
  lua_pushvalue(L, 1);
  lua_setiuservalue(L, -2, 1);
  lua_pushvalue(L, 2);
  lua_setiuservalue(L, -2, 3);
  for (i = 0; i < n; i++) {
    member *m = &ws->members[i];
    as_task *t;
    lua_rawgeti(L, 1, i + 1);
    t = luaL_checkudata(L, -1, AS_TASK_METATABLE);
    m->index = (uint32_t)i;
    m->kind = AS_WAITER_SET_MEMBER;
    as_list_init(&m->node);
    if (t->state == AS_TASK_DONE) record_done(L, loop, ws, m, t, lua_gettop(L));
    else as_list_push_back(&t->waiters, &m->node);
    lua_pop(L, 1);
  }
  return 1;
}

/* set_deadline(seconds | nil): from now; nil removes it. */
static int waitset_set_deadline(lua_State *L) {
  as_waitset *ws = check_set(L);
  as_loop *loop = as__loop(L);
  if (lua_isnoneornil(L, 2)) {
    ws->deadline = AS_NEVER;
  } else {
    double seconds = luaL_checknumber(L, 2);
    uint64_t duration = as_clock_duration(seconds > 0 ? seconds : 0);
    ws->deadline = duration == AS_NEVER ? AS_NEVER : as__loop_now(loop) + duration;
  }
  return 0;
}

/* Unlinks every member: from its task, or from the done queue. O(n). */
static int waitset_close(lua_State *L) {
  as_waitset *ws = check_set(L);
  int32_t i;
  if (ws->closed) return 0;
  ws->closed = 1;
  luaL_unref(L, LUA_REGISTRYINDEX, ws->results_ref);
  ws->results_ref = LUA_NOREF;
  for (i = 0; i < ws->count; i++) as_list_remove(&ws->members[i].node);
  return 0;
}

/* Pushes the task of the oldest unread completion and forgets it. */
static void push_next_done(lua_State *L, as_waitset *ws) {
  as_list *n = as_list_first(&ws->done);
  member *m = as_container_of(n, member, node);
  as_list_remove(n);
  ws->handed_out++;
  lua_getiuservalue(L, 1, 1);
  lua_rawgeti(L, -1, (lua_Integer)(m - ws->members) + 1);
  lua_remove(L, -2);
}

static int deadline_passed(lua_State *L, const as_waitset *ws) {
  return ws->deadline != AS_NEVER && as__loop_now(as__loop(L)) >= ws->deadline;
}

/* Suspends the running task on the set until `wake_on` is met or the deadline. */
static int wait_on_set(lua_State *L, as_waitset *ws, int wake_on, lua_KFunction k) {
  as_loop *loop = as__loop(L);
  const char *label;
  as_task *t;
  lua_getiuservalue(L, 1, 3);
  label = lua_tostring(L, -1);
  t = as__task_check_current(L, loop, label);
  lua_pop(L, 1);
  if (ws->closed || ws->waiting) return luaL_error(L, "asched.%s: wait set in use", label);
  lua_settop(L, 2);
  ws->wake_on = (uint8_t)wake_on;
  ws->waiting = t;
  as__task_push(L, loop, t);
  lua_setiuservalue(L, 1, 2);
  t->wait_kind = AS_WAIT_SET;
  t->wait_on = ws;
  if (ws->deadline != AS_NEVER) {
    as_timer_wheel_insert(&loop->timers, &t->link.timer, ws->deadline, loop->timer_seq++);
    t->flags |= AS_TASK_IN_TIMERS;
  }
  return as__task_suspend(L, as__loop(L), t, k, (lua_KContext)t);
}

static void stop_waiting(lua_State *L, as_waitset *ws, as_task *t) {
  ws->waiting = NULL;
  lua_pushnil(L);
  lua_setiuservalue(L, 1, 2);
  as__task_check_raise(L, as__loop(L), t);
}

/* A completion next() may still return: one at or before the deadline, or
 * any while the deadline has not passed. Completions queue in order, so the
 * late ones are all at the back. */
static int has_next(lua_State *L, const as_waitset *ws) {
  if (as_list_empty(&ws->done)) return 0;
  return ws->handed_out < ws->on_time || as__loop_now(as__loop(L)) <= ws->deadline;
}

/* next() -> the next finished Task in completion order; false once the
 * deadline has passed (tasks finished by then are still returned first);
 * nil when every task has been returned. Suspends. */
static int next_result(lua_State *L, as_waitset *ws) {
  if (has_next(L, ws)) {
    push_next_done(L, ws);
    return 1;
  }
  if (deadline_passed(L, ws)) {
    lua_pushboolean(L, 0);
    return 1;
  }
  return 0;                                /* nothing left */
}

static int next_resumed(lua_State *L, int status, lua_KContext ctx) {
  (void)status;
  stop_waiting(L, check_set(L), (as_task *)ctx);
  return next_result(L, check_set(L));
}

static int waitset_next(lua_State *L) {
  as_waitset *ws = check_set(L);
  if (has_next(L, ws) || ws->remaining == 0 || deadline_passed(L, ws))
    return next_result(L, ws);
  return wait_on_set(L, ws, WAKE_ON_NEXT, next_resumed);
}

/* wait_all(stop_on) -> the list index of the first failed task (stop_on
 * "error": an error; "failure": an error or a cancellation); true when every
 * task is done; false when the deadline passed first. Suspends. */
static int all_result(lua_State *L, as_waitset *ws) {
  if (stop_condition_met(ws)) {
    lua_pushinteger(L, ws->stop_on == STOP_ON_ERROR ? ws->first_error : ws->first_failure);
    return 1;
  }
  lua_pushboolean(L, ws->remaining == 0);
  return 1;
}

static int all_resumed(lua_State *L, int status, lua_KContext ctx) {
  (void)status;
  stop_waiting(L, check_set(L), (as_task *)ctx);
  return all_result(L, check_set(L));
}

static int waitset_wait_all(lua_State *L) {
  static const char *const stops[] = {"never", "error", "failure", NULL};
  as_waitset *ws = check_set(L);
  ws->stop_on = (uint8_t)luaL_checkoption(L, 2, "never", stops);
  if (stop_condition_met(ws) || ws->remaining == 0 || deadline_passed(L, ws))
    return all_result(L, ws);
  return wait_on_set(L, ws, WAKE_ON_ALL, all_resumed);
}

static int is_task(lua_State *L) {
  lua_pushboolean(L, luaL_testudata(L, 1, AS_TASK_METATABLE) != NULL);
  return 1;
}

void as__waitset_push_description(lua_State *L, void *set) {
  as_waitset *ws = set;
  lua_pushfstring(L, "%d of %d tasks", (int)ws->remaining, (int)ws->count);
}

void as__open_waitset(lua_State *L) {
  static const luaL_Reg methods[] = {
    {"set_deadline", waitset_set_deadline},
    {"next", waitset_next},
    {"wait_all", waitset_wait_all},
    {"close", waitset_close},
    {NULL, NULL}
  };
  as__new_type(L, AS_WAITSET_METATABLE, methods, waitset_close);
  as__push_boxed(L, waitset_new);
  lua_setfield(L, -2, "waitset");
  lua_pushcfunction(L, is_task);
  lua_setfield(L, -2, "is_task");
}
