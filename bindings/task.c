/* task.c (bindings) -- the Lua type asched.Task: await, cancel, done,
 * cancelled, result, exception, traceback, add_done_callback, the `name`
 * field and tostring; and asched.await. The lifecycle itself is core/task.c. */
#include <string.h>

#include "bindings.h"
#include "errors.h"

static void raise_not_done(lua_State *L, as_task *t) {
  as__task_push_name(L, 1, t);
  as__error_raise(L, "InvalidStateError", "%s is not done yet", lua_tostring(L, -1));
}

/* ---- await ---- */

static int await_resumed(lua_State *L, int status, lua_KContext ctx) {
  (void)status;
  as__task_check_raise(L, as__loop(L), (as_task *)ctx);
  return as__task_push_results(L, 1, lua_touserdata(L, 1));
}

int as__await(lua_State *L, as_loop *loop, as_task *self) {
  as_task *t = lua_touserdata(L, 1);
  if (t == self) {
    as__task_push_name(L, 1, t);
    return as__error_raise(L, "RuntimeError", "%s cannot await itself", lua_tostring(L, -1));
  }
  if (t->state == AS_TASK_DONE) return as__task_push_results(L, 1, t);
  return as__task_await(L, loop, self, t, await_resumed, (lua_KContext)self);
}

/* task:await() / asched.await(task) -> the task's results. Suspends. */
static int task_await(lua_State *L) {
  as_loop *loop = as__loop(L);
  as__check_task(L, 1);
  lua_settop(L, 1);
  return as__await(L, loop, as__current_task_in(L, loop));
}

/* ---- state ---- */

int as__cancel_task(lua_State *L, as_loop *loop, int idx) {
  as_task *t = lua_touserdata(L, idx);
  if (t->state == AS_TASK_DONE) return 0;
  as__task_push_name(L, idx, t);
  as__error_push(L, "CancelledError", "%s was cancelled", lua_tostring(L, -1));
  lua_remove(L, -2);
  return as__task_cancel(L, loop, t);
}

/* cancel([msg]) -> true if a cancellation was requested, false if already done. */
static int task_cancel(lua_State *L) {
  as_task *t = as__check_task(L, 1);
  const char *msg = as__opt_string(L, 2, NULL);
  if (t->state == AS_TASK_DONE) {
    lua_pushboolean(L, 0);
    return 1;
  }
  if (msg == NULL) {
    lua_pushboolean(L, as__cancel_task(L, as__loop(L), 1));
    return 1;
  }
  as__error_push(L, "CancelledError", "%s", msg);
  lua_pushboolean(L, as__task_cancel(L, as__loop(L), t));
  return 1;
}

/* cancelling() -> the number of cancellation requests not taken back. */
static int task_cancelling(lua_State *L) {
  as_task *t = as__check_task(L, 1);
  as_loop *loop = as__loop(L);
  lua_pushinteger(L, loop ? as__task_cancelling(L, loop, t) : 0);
  return 1;
}

/* uncancel() -> takes one back, and returns how many are left. */
static int task_uncancel(lua_State *L) {
  as_task *t = as__check_task(L, 1);
  as_loop *loop = as__loop(L);
  lua_pushinteger(L, loop ? as__task_uncancel(L, loop, t) : 0);
  return 1;
}

static int task_done(lua_State *L) {
  lua_pushboolean(L, as__check_task(L, 1)->state == AS_TASK_DONE);
  return 1;
}

static int task_cancelled(lua_State *L) {
  lua_pushboolean(L, as__check_task(L, 1)->outcome == AS_OUTCOME_CANCELLED);
  return 1;
}

/* result() -> the values; raises if not done, failed or cancelled. */
static int task_result(lua_State *L) {
  as_task *t = as__check_task(L, 1);
  lua_settop(L, 1);
  if (t->state != AS_TASK_DONE) raise_not_done(L, t);
  return as__task_push_results(L, 1, t);
}

/* exception() -> the error value or nil; raises if not done or cancelled. */
static int task_exception(lua_State *L) {
  as_task *t = as__check_task(L, 1);
  lua_settop(L, 1);
  if (t->state != AS_TASK_DONE) raise_not_done(L, t);
  if (t->outcome == AS_OUTCOME_OK) return 0;
  if (t->outcome == AS_OUTCOME_CANCELLED) return as__task_push_results(L, 1, t);   /* raises */
  as__task_push_outcome(L, 1, t, 1);
  return 1;
}

/* traceback() -> where the task's error was raised, or nil. */
static int task_traceback(lua_State *L) {
  as_task *t = as__check_task(L, 1);
  if (t->outcome != AS_OUTCOME_ERROR) return 0;
  lua_getiuservalue(L, 1, 1);
  lua_getfield(L, -1, "traceback");
  return 1;
}

/* add_done_callback(fn): fn(task) runs in the loop soon after the task is done. */
static int task_add_done_callback(lua_State *L) {
  as_task *t = as__check_task(L, 1);
  as__check_callable(L, 2);
  as__task_add_done_callback(L, as__running_loop(L), t, 1, 2);
  return 0;
}

/* ---- fields and printing ---- */

static const char *state_name(as_task *t) {
  if (t->state != AS_TASK_DONE) return "pending";
  switch (t->outcome) {
    case AS_OUTCOME_OK: return "finished";
    case AS_OUTCOME_ERROR: return "failed";
    default: return "cancelled";
  }
}

static int task_tostring(lua_State *L) {
  as_task *t = as__check_task(L, 1);
  as__task_push_name(L, 1, t);
  lua_pushfstring(L, "Task %s (%s)", lua_tostring(L, -1), state_name(t));
  return 1;
}

/* task.name, and the methods. */
static int task_index(lua_State *L) {
  as_task *t = as__check_task(L, 1);
  const char *key = lua_tostring(L, 2);
  if (key && strcmp(key, "name") == 0) {
    as__task_push_name(L, 1, t);
    return 1;
  }
  return as__index_method(L);
}

/* Only `name` can be set, to a string. */
static int task_newindex(lua_State *L) {
  as_task *t = as__check_task(L, 1);
  const char *key = lua_tostring(L, 2);
  if (key == NULL || strcmp(key, "name") != 0)
    return luaL_error(L, "cannot set field '%s' of a Task (only 'name' can be set)",
                      key ? key : luaL_typename(L, 2));
  if (lua_type(L, 3) != LUA_TSTRING) return luaL_error(L, "a Task's name must be a string");
  lua_settop(L, 3);
  as__task_set_name(L, 1, t);
  return 0;
}

void as__open_task(lua_State *L) {
  static const luaL_Reg methods[] = {
    {"await", task_await},
    {"cancel", task_cancel},
    {"cancelling", task_cancelling},
    {"uncancel", task_uncancel},
    {"done", task_done},
    {"cancelled", task_cancelled},
    {"result", task_result},
    {"exception", task_exception},
    {"traceback", task_traceback},
    {"add_done_callback", task_add_done_callback},
    {NULL, NULL}
  };
  static const luaL_Reg metamethods[] = {
    {"__index", task_index},
    {"__newindex", task_newindex},
    {"__tostring", task_tostring},
    {NULL, NULL}
  };
  static const luaL_Reg functions[] = {{"await", task_await}, {NULL, NULL}};
  as__register_type(L, AS_TASK_METATABLE, methods, metamethods);
  luaL_getmetatable(L, AS_TASK_METATABLE);
  as__box(L)->task_metatable = lua_topointer(L, -1);
  lua_pop(L, 1);
  as__register(L, functions);
}
