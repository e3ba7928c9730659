/* waitset.c -- see waitset.h. A WaitSet registers one member (an as_waiter)
 * per task of its list; a finished task's member moves to the set's done
 * queue, so completions are read back in the order they happened, and the
 * waiting task is woken only when what it waits for has happened:
 *   next  the next completion, or the deadline;
 *   all   every task done, or the first failure that stops it, or the deadline.
 * Given a results table (gather), the set writes each task's outcome into it
 * the moment the task finishes, so gather needs to hold no finished task.
 * The deadline rides on the waiting task's own timer node. Members live in
 * the userdata, which unlinks them when closed (its __close and __gc). */
#include "waitset.h"

#include <lauxlib.h>
#include <string.h>

/* A userdata; user values: 1 the list of tasks, 2 the waiting Task while one
 * waits (so `waiting` stays valid). */
struct as_waitset {
  as_list done;           /* members whose task finished, in completion order */
  int32_t count, remaining;
  int32_t linked;         /* members 0..linked-1 are initialised */
  int32_t first_error, first_failure; /* 1-based member index, 0: none yet */
  int32_t on_time;        /* completions at or before the deadline */
  int32_t handed_out;     /* completions next() has returned */
  uint64_t deadline;      /* AS_NEVER: none */
  as_task *waiting;
  as_wait_site site;      /* where `waiting` waits */
  as_waiter_owner owner;  /* of every member: member_done */
  int results_ref;        /* registry reference of the results table, or LUA_NOREF */
  uint8_t mode, stop, closed;
  uint8_t keep_errors;    /* every error recorded counts as retrieved, not just the first failure */
  as_waiter members[];
};

static int stop_met(const as_waitset *ws, as_waitset_stop stop) {
  return (stop == AS_STOP_ON_ERROR && ws->first_error) ||
         (stop == AS_STOP_ON_FAILURE && ws->first_failure);
}

/* Writes the outcome of the done Task at `task` into results[index]. An
 * error counts as retrieved when gather will hand it on: every one when
 * keeping errors, else only the first failure, which gather raises through
 * its task: that slot keeps the task. */
static void record_outcome(lua_State *L, as_waitset *ws, int32_t index, const as_task *done, int task) {
  if (!ws->keep_errors && index == ws->first_failure) return;
  lua_rawgeti(L, LUA_REGISTRYINDEX, ws->results_ref);
  as__task_push_outcome(L, task, done, ws->keep_errors);
  lua_rawseti(L, -2, index);
  lua_pop(L, 1);
}

/* The task of member `m`, the Task at stack index `task` of L, is done. */
static void record_done(lua_State *L, as_loop *loop, as_waitset *ws, as_waiter *m, const as_task *done, int task) {
  int32_t index = (int32_t)(m - ws->members) + 1;
  m->owner = NULL;                         /* finished: see as__waitset_pending */
  as_list_push_back(&ws->done, &m->node);
  ws->remaining--;
  if (ws->deadline == AS_NEVER || as__loop_now(loop) <= ws->deadline) ws->on_time++;
  if (done->outcome == AS_OUTCOME_ERROR && !ws->first_error) ws->first_error = index;
  if (done->outcome != AS_OUTCOME_OK && !ws->first_failure) ws->first_failure = index;
  if (ws->results_ref != LUA_NOREF) record_outcome(L, ws, index, done, task);
}

/* A member's task finished; its owner is embedded in the set. */
static void member_done(lua_State *L, as_loop *loop, as_waiter *m, as_task *finished, int task) {
  as_waitset *ws = as_container_of(m->owner, as_waitset, owner);
  record_done(L, loop, ws, m, finished, task);
  if (ws->waiting == NULL) return;
  if (ws->mode == AS_WAITSET_NEXT || ws->remaining == 0 || stop_met(ws, ws->stop))
    as__task_wake(loop, ws->waiting);
}

static void describe(lua_State *L, as_loop *loop, const as_task *t) {
  const as_waitset *ws = as_container_of(t->wait, as_waitset, site);
  (void)loop;
  lua_pushfstring(L, "waiting on %d of %d tasks", (int)ws->remaining, (int)ws->count);
}

static const as_wait_type waitset_wait = {.timeline = "awaiting", .describe = describe};

as_waitset *as__waitset_new(lua_State *L, as_loop *loop, int tasks, int32_t n, int results, int keep_errors) {
  as_waitset *ws;
  int32_t i;
  tasks = lua_absindex(L, tasks);
  if (results) results = lua_absindex(L, results);
  ws = lua_newuserdatauv(L, sizeof *ws + sizeof(as_waiter) * (size_t)n, 2);
  memset(ws, 0, sizeof *ws);
  as_list_init(&ws->done);
  ws->count = ws->remaining = n;
  ws->deadline = AS_NEVER;
  ws->results_ref = LUA_NOREF;
  ws->keep_errors = (uint8_t)(keep_errors != 0);
  ws->site.type = &waitset_wait;
  ws->owner.done = member_done;
  lua_pushvalue(L, tasks);
  lua_setiuservalue(L, -2, 1);
  if (results) {
    lua_pushvalue(L, results);
    ws->results_ref = luaL_ref(L, LUA_REGISTRYINDEX);
  }
  luaL_setmetatable(L, AS_WAITSET_METATABLE);
  /* Linking: nothing below raises, and __gc unlinks only what is linked. */
  for (i = 0; i < n; i++) {
    as_waiter *m = &ws->members[i];
    as_task *t;
    lua_rawgeti(L, tasks, i + 1);
    t = lua_touserdata(L, -1);
    m->owner = &ws->owner;
    as_list_init(&m->node);
    ws->linked = i + 1;
    if (t->state == AS_TASK_DONE) record_done(L, loop, ws, m, t, lua_gettop(L));
    else as_list_push_back(&t->waiters, &m->node);
    lua_pop(L, 1);
  }
  return ws;
}

void as__waitset_set_deadline(as_waitset *ws, uint64_t deadline) { ws->deadline = deadline; }

void as__waitset_close(lua_State *L, as_waitset *ws) {
  int32_t i;
  if (ws->closed) return;
  ws->closed = 1;
  luaL_unref(L, LUA_REGISTRYINDEX, ws->results_ref);
  ws->results_ref = LUA_NOREF;
  for (i = 0; i < ws->linked; i++) as_list_remove(&ws->members[i].node);
}

int as__waitset_closed(const as_waitset *ws) { return ws->closed; }

int as__waitset_pending(const as_waitset *ws, int32_t i) {
  return i >= 1 && i <= ws->linked && ws->members[i - 1].owner != NULL;
}

static int deadline_passed(as_loop *loop, const as_waitset *ws) {
  return ws->deadline != AS_NEVER && as__loop_now(loop) >= ws->deadline;
}

/* A completion next() may still return: one at or before the deadline, or
 * any while the deadline has not passed. Completions queue in order, so the
 * late ones are all at the back. */
static int has_next(as_loop *loop, const as_waitset *ws) {
  if (as_list_empty(&ws->done)) return 0;
  return ws->handed_out < ws->on_time || as__loop_now(loop) <= ws->deadline;
}

int as__waitset_ready(as_loop *loop, const as_waitset *ws, as_waitset_mode mode, as_waitset_stop stop) {
  if (ws->remaining == 0 || deadline_passed(loop, ws)) return 1;
  return mode == AS_WAITSET_NEXT ? has_next(loop, ws) : stop_met(ws, stop);
}

int as__waitset_wait(lua_State *L, as_loop *loop, as_waitset *ws, int self, as_task *t,
                     as_waitset_mode mode, as_waitset_stop stop, lua_KFunction k, lua_KContext ctx) {
  ws->mode = (uint8_t)mode;
  ws->stop = (uint8_t)stop;
  ws->waiting = t;
  as__task_push(L, loop, t);
  lua_setiuservalue(L, self, 2);
  as__task_set_wait(t, &ws->site);
  if (ws->deadline != AS_NEVER) as__task_set_timer(loop, t, ws->deadline);
  return as__task_suspend(L, loop, t, k, ctx);
}

int as__waitset_resumed(lua_State *L, as_loop *loop, as_waitset *ws, int self, as_task *t) {
  ws->waiting = NULL;
  lua_pushnil(L);
  lua_setiuservalue(L, self, 2);
  return as__task_take_raise(L, loop, t);
}

int as__waitset_next(lua_State *L, as_loop *loop, as_waitset *ws, int self) {
  as_list *n;
  as_waiter *m;
  if (!has_next(loop, ws)) {
    if (ws->remaining == 0 && as_list_empty(&ws->done)) return 0;   /* all returned */
    return -1;                             /* only late ones, or none, left */
  }
  n = as_list_first(&ws->done);
  m = as_container_of(n, as_waiter, node);
  as_list_remove(n);
  ws->handed_out++;
  lua_getiuservalue(L, self, 1);
  lua_rawgeti(L, -1, (lua_Integer)(m - ws->members) + 1);
  lua_remove(L, -2);
  return 1;
}

int32_t as__waitset_all_result(as_loop *loop, const as_waitset *ws, as_waitset_stop stop) {
  (void)loop;
  if (stop_met(ws, stop)) return stop == AS_STOP_ON_ERROR ? ws->first_error : ws->first_failure;
  return ws->remaining == 0 ? 0 : -1;
}
