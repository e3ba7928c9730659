/* combine.c -- gather, as_completed, wait, wait_for, timeout and shield: the
 * Lua face of the wait set and of timeout scopes (sync/). Each reads all of
 * its arguments -- a list once, through __len and __index, into a checked
 * copy -- before it spawns, allocates or links anything. A wait set or a
 * scope is a to-be-closed slot of the frame that made it, so it is closed
 * however that frame ends: returning, raising, or its task being reset. */
#include <stdio.h>
#include <string.h>

#include "bindings.h"
#include "errors.h"
#include "scope.h"
#include "waitset.h"

/* ---- reading lists of tasks and functions ---- */

static int is_task_or_function(lua_State *L, int idx) {
  return as__to_task(L, idx) != NULL || as__is_callable(L, idx);
}

/* Reads the list at argument 1 into a checked copy on top; returns its length. */
static int32_t read_items(lua_State *L) {
  return as__check_list(L, 1, "table of tasks or functions", is_task_or_function, NULL, "a task or a function");
}

/* In the checked copy at `list`, spawns every function as a task. */
static void spawn_functions(lua_State *L, as_loop *loop, int list, int32_t n) {
  int32_t i;
  for (i = 1; i <= n; i++) {
    lua_rawgeti(L, list, i);
    if (as__to_task(L, -1) != NULL) {
      lua_pop(L, 1);
      continue;
    }
    as__task_spawn(L, loop, -1, 0);          /* the Task takes the function's place */
    lua_rawseti(L, list, i);
  }
}

/* Keeps each task of the call's own list at `list` once, at its first
 * place, compacting it in place; returns the new length. O(n), no memory:
 * a task is marked while the list is walked, and unmarked after. */
static int32_t dedupe(lua_State *L, int list, int32_t n) {
  int32_t i, kept = 0;
  for (i = 1; i <= n; i++) {
    as_task *t;
    lua_rawgeti(L, list, i);
    t = lua_touserdata(L, -1);
    if (t->flags & AS_TASK_MARKED) {
      lua_pop(L, 1);
      continue;
    }
    t->flags |= AS_TASK_MARKED;
    lua_rawseti(L, list, ++kept);
  }
  for (i = n; i > kept; i--) {
    lua_pushnil(L);
    lua_rawseti(L, list, i);
  }
  for (i = 1; i <= kept; i++) {
    lua_rawgeti(L, list, i);
    ((as_task *)lua_touserdata(L, -1))->flags &= ~AS_TASK_MARKED;
    lua_pop(L, 1);
  }
  return kept;
}

/* A deadline `seconds` from now (<= 0: now); AS_NEVER when too far. */
static uint64_t deadline_in(as_loop *loop, lua_Number seconds) {
  uint64_t duration = as_clock_duration(seconds > 0 ? seconds : 0);
  return duration == AS_NEVER ? AS_NEVER : as__loop_now(loop) + duration;
}

static int raise_timeout(lua_State *L, lua_Number seconds) {
  char text[32];
  snprintf(text, sizeof text, "%g", (double)seconds);
  return as__error_raise(L, "TimeoutError", "timed out after %s s", text);
}

/* The TimeoutError of scope `s`: after its duration, or at its deadline. */
static int raise_scope_timeout(lua_State *L, const as_scope *s) {
  char text[32];
  if (!s->at) return raise_timeout(L, s->seconds);
  snprintf(text, sizeof text, "%g", (double)s->seconds);
  return as__error_raise(L, "TimeoutError", "timed out at the deadline %s s", text);
}


/* The wait set at `set`: the one of this frame. */
static as_waitset *set_at(lua_State *L, int set) { return lua_touserdata(L, set); }

/* ---- gather(list [, {return_exceptions = bool}]) -> {n = #list, first values} ---- */

/* Stack of gather's frame. The copy of the list is also the results: the
 * wait set writes each item's outcome over its task as it finishes (a
 * million-task gather holds one table, not two). The slot of the failure
 * that stops it keeps its task, through which that error is raised. */
enum { GATHER_TASKS = 3, GATHER_SET };

static int gather_done(lua_State *L, as_loop *loop, as_waitset_stop stop) {
  int32_t failed = as__waitset_all_result(loop, set_at(L, GATHER_SET), stop);
  lua_closeslot(L, GATHER_SET);
  if (failed > 0) {
    /* The first failure, raised at once, unchanged (through the task's
     * results, so a traceback can say which task raised it); the siblings
     * keep running. */
    lua_rawgeti(L, GATHER_TASKS, failed);
    return as__task_push_results(L, -1, lua_touserdata(L, -1));
  }
  lua_pushvalue(L, GATHER_TASKS);            /* the results */
  return 1;
}

/* The caller was cancelled: so is every item still running. */
static void cancel_pending(lua_State *L, as_loop *loop, as_waitset *ws) {
  int32_t i, n = (int32_t)lua_rawlen(L, GATHER_TASKS);
  for (i = 1; i <= n; i++) {
    if (!as__waitset_pending(ws, i)) continue;   /* its slot holds a result now */
    lua_rawgeti(L, GATHER_TASKS, i);
    as__cancel_task(L, loop, -1);
    lua_pop(L, 1);
  }
}

static int gather_resumed(lua_State *L, int status, lua_KContext ctx) {
  as_loop *loop = as__loop(L);
  (void)status;
  if (as__waitset_resumed(L, loop, set_at(L, GATHER_SET), GATHER_SET, loop->current)) {
    cancel_pending(L, loop, set_at(L, GATHER_SET));
    return lua_error(L);
  }
  return gather_done(L, loop, (as_waitset_stop)ctx);
}

static int l_gather(lua_State *L) {
  static const char *const known[] = {"return_exceptions", NULL};
  as_loop *loop = as__loop(L);
  as_task *t = as__current_task(L);
  int32_t n;
  int keep;
  as_waitset_stop stop;
  as_waitset *ws;
  lua_settop(L, 2);
  n = read_items(L);                         /* GATHER_TASKS */
  as__check_options(L, 2, known);
  keep = as__option_boolean(L, 2, "return_exceptions", 0);
  spawn_functions(L, loop, GATHER_TASKS, n);
  lua_pushinteger(L, n);
  lua_setfield(L, GATHER_TASKS, "n");
  if (n == 0) return 1;
  ws = as__waitset_new(L, loop, GATHER_TASKS, n, GATHER_TASKS, keep);
  lua_toclose(L, GATHER_SET);
  stop = keep ? AS_STOP_NEVER : AS_STOP_ON_FAILURE;
  if (as__waitset_ready(loop, ws, AS_WAITSET_ALL, stop)) return gather_done(L, loop, stop);
  return as__waitset_wait(L, loop, ws, GATHER_SET, t, AS_WAITSET_ALL, stop, gather_resumed, stop);
}

/* ---- as_completed(list [, {timeout = s}]) -> iterator of tasks in completion order ---- */

/* The iterator's upvalues: 1 box, 2 name, 3 the wait set, 4 the timeout. */
#define ITER_SET lua_upvalueindex(3)
#define ITER_TIMEOUT lua_upvalueindex(4)

static int next_result(lua_State *L, as_loop *loop, as_waitset *ws) {
  switch (as__waitset_next(L, loop, ws, 1)) {
    case 1: return 1;
    case 0:
      as__waitset_close(L, ws);
      return 0;
    default:
      as__waitset_close(L, ws);
      return raise_timeout(L, lua_tonumber(L, ITER_TIMEOUT));
  }
}

static int next_resumed(lua_State *L, int status, lua_KContext ctx) {
  as_loop *loop = as__loop(L);
  as_waitset *ws = lua_touserdata(L, 1);
  (void)status;
  (void)ctx;
  if (as__waitset_resumed(L, loop, ws, 1, loop->current)) return lua_error(L);
  return next_result(L, loop, ws);
}

/* The iterator: the next task to finish; nil when all have been returned. */
static int next_completed(lua_State *L) {
  as_loop *loop = as__loop(L);
  as_task *t = as__current_task(L);
  as_waitset *ws = lua_touserdata(L, ITER_SET);
  lua_settop(L, 0);
  lua_pushvalue(L, ITER_SET);
  if (as__waitset_closed(ws)) return 0;
  if (as__waitset_ready(loop, ws, AS_WAITSET_NEXT, AS_STOP_NEVER)) return next_result(L, loop, ws);
  return as__waitset_wait(L, loop, ws, 1, t, AS_WAITSET_NEXT, AS_STOP_NEVER, next_resumed, 0);
}

static int l_as_completed(lua_State *L) {
  static const char *const known[] = {"timeout", NULL};
  as_loop *loop = as__running_loop(L);
  lua_Number timeout;
  int32_t n;
  int has_timeout;
  as_waitset *ws;
  lua_settop(L, 2);
  n = read_items(L);                         /* 3 */
  as__check_options(L, 2, known);
  timeout = as__option_seconds(L, 2, "timeout", &has_timeout);
  spawn_functions(L, loop, 3, n);
  n = dedupe(L, 3, n);                       /* an item listed twice is reported once */
  ws = as__waitset_new(L, loop, 3, n, 0, 0); /* 4 */
  if (has_timeout) as__waitset_set_deadline(ws, deadline_in(loop, timeout));
  as__push_box(L);
  lua_pushliteral(L, "as_completed");
  lua_pushvalue(L, 4);
  lua_pushnumber(L, timeout);
  lua_pushcclosure(L, next_completed, 4);
  lua_pushnil(L);
  lua_pushnil(L);
  lua_pushvalue(L, 4);                       /* closes the set when a generic for ends */
  return 4;
}

/* ---- wait(list [, {timeout = s, return_when = ...}]) -> done, pending ---- */

enum { WAIT_TASKS = 3, WAIT_SET };

static int wait_done(lua_State *L) {
  int32_t i, n = (int32_t)lua_rawlen(L, WAIT_TASKS);
  int done, pending, seen;
  lua_closeslot(L, WAIT_SET);
  lua_newtable(L);
  done = lua_gettop(L);
  lua_newtable(L);
  pending = lua_gettop(L);
  lua_newtable(L);
  seen = lua_gettop(L);
  for (i = 1; i <= n; i++) {
    as_task *t;
    lua_rawgeti(L, WAIT_TASKS, i);
    if (lua_rawget(L, seen) == LUA_TNIL) {   /* a task listed twice appears once */
      lua_pop(L, 1);
      lua_rawgeti(L, WAIT_TASKS, i);
      lua_pushboolean(L, 1);
      lua_rawset(L, seen);
      lua_rawgeti(L, WAIT_TASKS, i);
      t = lua_touserdata(L, -1);
      lua_rawseti(L, t->state == AS_TASK_DONE ? done : pending,
                  (lua_Integer)lua_rawlen(L, t->state == AS_TASK_DONE ? done : pending) + 1);
    } else {
      lua_pop(L, 1);
    }
  }
  lua_pop(L, 1);
  return 2;
}

static int wait_resumed(lua_State *L, int status, lua_KContext ctx) {
  as_loop *loop = as__loop(L);
  (void)status;
  (void)ctx;
  if (as__waitset_resumed(L, loop, set_at(L, WAIT_SET), WAIT_SET, loop->current)) return lua_error(L);
  return wait_done(L);
}

static int l_wait(lua_State *L) {
  static const char *const known[] = {"timeout", "return_when", NULL};
  static const char *const modes[] = {"all_completed", "first_completed", "first_exception", NULL};
  as_loop *loop = as__loop(L);
  as_task *t = as__current_task(L);
  lua_Number timeout;
  int32_t n;
  int has_timeout, mode = 0;
  const char *return_when;
  as_waitset *ws;
  as_waitset_mode wait_mode;
  as_waitset_stop stop;
  lua_settop(L, 2);
  n = read_items(L);                         /* WAIT_TASKS */
  as__check_options(L, 2, known);
  timeout = as__option_seconds(L, 2, "timeout", &has_timeout);
  return_when = as__option_string(L, 2, "return_when", NULL);
  if (return_when) {
    while (modes[mode] && strcmp(modes[mode], return_when) != 0) mode++;
    if (modes[mode] == NULL)
      as__arg_error(L, 2, lua_pushfstring(L, "unknown return_when '%s' (all_completed, first_completed or "
                                          "first_exception)", return_when));
  }
  if (n == 0) return as__arg_error(L, 1, "the list of tasks is empty");
  spawn_functions(L, loop, WAIT_TASKS, n);
  ws = as__waitset_new(L, loop, WAIT_TASKS, n, 0, 0);
  lua_toclose(L, WAIT_SET);
  if (has_timeout) as__waitset_set_deadline(ws, deadline_in(loop, timeout));
  wait_mode = mode == 1 ? AS_WAITSET_NEXT : AS_WAITSET_ALL;
  stop = mode == 2 ? AS_STOP_ON_ERROR : AS_STOP_NEVER;
  if (as__waitset_ready(loop, ws, wait_mode, stop)) return wait_done(L);
  return as__waitset_wait(L, loop, ws, WAIT_SET, t, wait_mode, stop, wait_resumed, 0);
}

/* ---- wait_for(task_or_fn, timeout) -> the item's values ---- */

/* Stack of wait_for's frame for a task: [task timeout list set]. */
enum { WF_TASK = 1, WF_TIMEOUT, WF_LIST, WF_SET };
enum { WF_WAITING, WF_CANCELLING };

static int wait_for_resumed(lua_State *L, int status, lua_KContext ctx);

/* The item is done (or was cancelled for the deadline): its values, or
 * TimeoutError when the cancellation took. */
static int wait_for_result(lua_State *L, int timed_out) {
  as_task *task = lua_touserdata(L, WF_TASK);
  lua_closeslot(L, WF_SET);
  if (timed_out && task->outcome == AS_OUTCOME_CANCELLED) return raise_timeout(L, lua_tonumber(L, WF_TIMEOUT));
  return as__task_push_results(L, WF_TASK, task);
}

/* The deadline passed (or timeout <= 0): cancel the task and wait until it
 * has finished -- a cancellation of the caller meanwhile propagates -- then
 * TimeoutError, unless the task swallowed the cancellation and returned (its
 * values) or raised another error (that error). */
static int cancel_and_wait(lua_State *L, as_loop *loop, as_waitset *ws) {
  as__cancel_task(L, loop, WF_TASK);
  as__waitset_set_deadline(ws, AS_NEVER);
  if (as__waitset_ready(loop, ws, AS_WAITSET_NEXT, AS_STOP_NEVER)) return wait_for_result(L, 1);
  return as__waitset_wait(L, loop, ws, WF_SET, loop->current, AS_WAITSET_NEXT, AS_STOP_NEVER,
                          wait_for_resumed, WF_CANCELLING);
}

static int wait_for_resumed(lua_State *L, int status, lua_KContext ctx) {
  as_loop *loop = as__loop(L);
  as_waitset *ws = set_at(L, WF_SET);
  (void)status;
  if (as__waitset_resumed(L, loop, ws, WF_SET, loop->current)) {
    if (ctx == WF_WAITING) as__cancel_task(L, loop, WF_TASK);   /* the caller was cancelled: so is the item */
    return lua_error(L);
  }
  if (ctx == WF_CANCELLING) return wait_for_result(L, 1);
  /* Done in time -- or at the deadline's own step: its result wins. */
  if (((as_task *)lua_touserdata(L, WF_TASK))->state == AS_TASK_DONE) return wait_for_result(L, 0);
  return cancel_and_wait(L, loop, ws);
}

static int wait_for_task(lua_State *L, as_loop *loop, as_task *self, as_task *task, int has_timeout,
                         lua_Number timeout) {
  as_waitset *ws;
  if (!has_timeout) {                        /* as task:await() */
    lua_settop(L, 1);
    return as__await(L, loop, self);
  }
  lua_settop(L, 2);
  lua_createtable(L, 1, 0);                  /* WF_LIST */
  lua_pushvalue(L, WF_TASK);
  lua_rawseti(L, -2, 1);
  ws = as__waitset_new(L, loop, WF_LIST, 1, 0, 0);
  lua_toclose(L, WF_SET);
  if (timeout <= 0) {
    if (task->state == AS_TASK_DONE) return wait_for_result(L, 0);
    return cancel_and_wait(L, loop, ws);
  }
  as__waitset_set_deadline(ws, deadline_in(loop, timeout));
  if (as__waitset_ready(loop, ws, AS_WAITSET_NEXT, AS_STOP_NEVER))
    return task->state == AS_TASK_DONE ? wait_for_result(L, 0) : cancel_and_wait(L, loop, ws);
  return as__waitset_wait(L, loop, ws, WF_SET, self, AS_WAITSET_NEXT, AS_STOP_NEVER, wait_for_resumed, WF_WAITING);
}

/* A function runs in the caller's own task under a scope armed in this
 * step; its values come back after the to-be-closed scope at `scope`. */
static int scoped_call_done(lua_State *L, int status, lua_KContext scope) {
  (void)status;
  lua_closeslot(L, (int)scope);
  return lua_gettop(L) - (int)scope;
}

/* Opens a scope for `t` with `deadline`, remembering how to word its
 * TimeoutError, and pushes it. */
static as_scope *open_scope(lua_State *L, as_loop *loop, as_task *t, uint64_t deadline, lua_Number seconds, int at) {
  as_scope *s = as__scope_open(L, loop, t, deadline);
  s->seconds = seconds;
  s->at = (uint8_t)at;
  return s;
}

/* Calls the function just above the slot `scope`, with the values above it,
 * under a new scope put in that slot. */
static int scoped_call(lua_State *L, as_loop *loop, as_task *t, int scope, uint64_t deadline, lua_Number seconds,
                       int at) {
  open_scope(L, loop, t, deadline, seconds, at);
  lua_replace(L, scope);
  lua_toclose(L, scope);
  lua_callk(L, lua_gettop(L) - scope - 1, LUA_MULTRET, scope, scoped_call_done);
  return scoped_call_done(L, LUA_OK, scope);
}

/* Calls the function at `fn` with the values above it; returns its values. */
static int plain_call_done(lua_State *L, int status, lua_KContext fn) {
  (void)status;
  return lua_gettop(L) - (int)fn + 1;
}

static int plain_call(lua_State *L, int fn) {
  lua_callk(L, lua_gettop(L) - fn, LUA_MULTRET, fn, plain_call_done);
  return plain_call_done(L, LUA_OK, fn);
}

static int l_wait_for(lua_State *L) {
  as_loop *loop = as__loop(L);
  as_task *self = as__current_task(L), *task = as__to_task(L, 1);
  int has_timeout;
  lua_Number timeout;
  if (task == NULL && !as__is_callable(L, 1)) as__type_error(L, 1, "task or function");
  timeout = as__check_seconds(L, 2, 1, &has_timeout);
  if (task) return wait_for_task(L, loop, self, task, has_timeout, timeout);
  lua_settop(L, 2);
  if (!has_timeout) {
    lua_settop(L, 1);
    return plain_call(L, 1);
  }
  if (timeout <= 0) return raise_timeout(L, timeout);   /* the function is never called */
  lua_pushvalue(L, 1);                       /* [fn timeout fn] -> [fn scope fn] */
  return scoped_call(L, loop, self, 2, deadline_in(loop, timeout), timeout, 0);
}

/* ---- timeout(seconds, fn, ...), timeout_at(when, fn, ...) -> fn's values ---- */

/* `at`: the number is a point on the loop clock, not a duration. */
static int deadline_call(lua_State *L, int at) {
  as_loop *loop = as__loop(L);
  as_task *t = as__current_task(L);
  int has_deadline;
  lua_Number n = as__check_seconds(L, 1, 1, &has_deadline);
  as__check_callable(L, 2);
  if (!has_deadline) return plain_call(L, 2);
  return scoped_call(L, loop, t, 1, at ? as_clock_point(n) : deadline_in(loop, n), n, at); /* [scope fn args...] */
}

static int l_timeout(lua_State *L) { return deadline_call(L, 0); }
static int l_timeout_at(lua_State *L) { return deadline_call(L, 1); }

/* ---- move_on_after(seconds, fn, ...) -> true, fn's values | false ---- */

/* fn has ended: [scope fn's values] or [scope error]. Only this scope's own
 * expiry becomes `false`; any other error, a cancellation from outside
 * included, goes on. */
static int move_on_done(lua_State *L, int status, lua_KContext ctx) {
  int ok = status == LUA_OK || status == LUA_YIELD, timed_out;
  (void)ctx;
  timed_out = as__scope_close(L, as__loop(L), 1, ok ? 0 : lua_gettop(L));
  lua_closeslot(L, 1);                       /* closed already: nothing more happens */
  if (timed_out) {
    lua_pushboolean(L, 0);
    return 1;
  }
  if (!ok) return lua_error(L);
  lua_pushboolean(L, 1);
  lua_replace(L, 1);
  return lua_gettop(L);
}

static int l_move_on_after(lua_State *L) {
  as_loop *loop = as__loop(L);
  as_task *t = as__current_task(L);
  int has_deadline;
  lua_Number seconds = as__check_seconds(L, 1, 1, &has_deadline);
  as__check_callable(L, 2);
  open_scope(L, loop, t, has_deadline ? deadline_in(loop, seconds) : AS_NEVER, seconds, 0);
  lua_replace(L, 1);                         /* [scope fn args...] */
  lua_toclose(L, 1);                         /* closed however the frame ends */
  lua_pcallk(L, lua_gettop(L) - 2, LUA_MULTRET, 0, 0, move_on_done);
  return move_on_done(L, LUA_OK, 0);
}

/* ---- shield(task_or_fn) -> the item's values; the caller's cancellation stops at it ---- */

enum { SHIELD_TASK = 1, SHIELD_LIST, SHIELD_SET };

static int shield_resumed(lua_State *L, int status, lua_KContext ctx) {
  as_loop *loop = as__loop(L);
  (void)status;
  (void)ctx;
  /* Cancelling the caller raises here, and only here: the item runs on. */
  if (as__waitset_resumed(L, loop, set_at(L, SHIELD_SET), SHIELD_SET, loop->current)) return lua_error(L);
  lua_closeslot(L, SHIELD_SET);
  return as__task_push_results(L, SHIELD_TASK, lua_touserdata(L, SHIELD_TASK));
}

static int l_shield(lua_State *L) {
  as_loop *loop = as__loop(L);
  as_task *self = as__current_task(L), *task = as__to_task(L, 1);
  as_waitset *ws;
  if (task == NULL && !as__is_callable(L, 1)) as__type_error(L, 1, "task or function");
  lua_settop(L, 1);
  if (task == NULL) task = as__task_spawn(L, loop, 1, 0);   /* the Task takes the function's place */
  if (task->state == AS_TASK_DONE) return as__task_push_results(L, SHIELD_TASK, task);
  lua_createtable(L, 1, 0);                  /* SHIELD_LIST */
  lua_pushvalue(L, SHIELD_TASK);
  lua_rawseti(L, -2, 1);
  ws = as__waitset_new(L, loop, SHIELD_LIST, 1, 0, 0);
  lua_toclose(L, SHIELD_SET);
  return as__waitset_wait(L, loop, ws, SHIELD_SET, self, AS_WAITSET_NEXT, AS_STOP_NEVER, shield_resumed, 0);
}

/* ---- the metatables of what these leave in frames ---- */

static int waitset_close(lua_State *L) {
  as__waitset_close(L, lua_touserdata(L, 1));
  return 0;
}

/* A scope's frame ends, with the error it ends with (or nil): only its own
 * expired cancellation becomes a TimeoutError. */
static int scope_close(lua_State *L) {
  as_scope *s = lua_touserdata(L, 1);
  if (as__scope_close(L, as__loop(L), 1, lua_isnil(L, 2) ? 0 : 2)) return raise_scope_timeout(L, s);
  return 0;
}

void as__open_combine(lua_State *L) {
  static const luaL_Reg waitset_meta[] = {{"__close", waitset_close}, {"__gc", waitset_close}, {NULL, NULL}};
  static const luaL_Reg scope_meta[] = {{"__close", scope_close}, {NULL, NULL}};
  static const luaL_Reg functions[] = {
    {"gather", l_gather},
    {"as_completed", l_as_completed},
    {"wait", l_wait},
    {"wait_for", l_wait_for},
    {"timeout", l_timeout},
    {"timeout_at", l_timeout_at},
    {"move_on_after", l_move_on_after},
    {"shield", l_shield},
    {NULL, NULL}
  };
  as__register_type(L, AS_WAITSET_METATABLE, NULL, waitset_meta);
  as__register_type(L, AS_SCOPE_METATABLE, NULL, scope_meta);
  as__register(L, functions);
}
