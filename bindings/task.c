/* task.c (bindings) -- the Lua type asched.Task: await, cancel, done, cancelled,
 * result, exception, traceback, add_done_callback, and the `name` field. */
#include <lauxlib.h>
#include <string.h>

#include "bindings.h"
#include "errors.h"
#include "loop.h"

as_task *as__check_task(lua_State *L, int arg) {
  return luaL_checkudata(L, arg, AS_TASK_METATABLE);
}

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

/* task:await() / asched.await(task) -> the task's results. Suspends. */
static int task_await(lua_State *L) {
  as_task *t = as__check_task(L, 1);
  as_task *self = as__task_check_current(L, as__loop(L), "await");
  lua_settop(L, 1);
  if (t == self) {
    as__task_push_name(L, 1, t);
    return as__error_raise(L, "RuntimeError", "%s cannot await itself", lua_tostring(L, -1));
  }
  if (t->state == AS_TASK_DONE) return as__task_push_results(L, 1, t);
  self->wait_kind = AS_WAIT_TASK;
  self->wait_on = t;
  self->link.waiter.kind = AS_WAITER_TASK;
  as_list_push_back(&t->waiters, &self->link.waiter.node);
  return as__task_suspend(L, as__loop(L), self, await_resumed, (lua_KContext)self);
}

/* ---- state ---- */

/* cancel([msg]) -> true if a cancellation was requested, false if already done. */
static int task_cancel(lua_State *L) {
  as_task *t = as__check_task(L, 1);
  const char *msg = luaL_optstring(L, 2, NULL);
  if (t->state == AS_TASK_DONE) {
    lua_pushboolean(L, 0);
    return 1;
  }
  if (msg) {
    as__error_push(L, "CancelledError", "%s", msg);
  } else {
    as__task_push_name(L, 1, t);
    as__error_push(L, "CancelledError", "%s was cancelled", lua_tostring(L, -1));
    lua_remove(L, -2);
  }
  lua_pushboolean(L, as__task_cancel(L, as__loop(L), t));
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
  lua_getiuservalue(L, 1, 1);
  if (t->outcome == AS_OUTCOME_CANCELLED) return lua_error(L);
  lua_pushboolean(L, 1);
  lua_setfield(L, -2, "retrieved");
  lua_getfield(L, -1, "error");
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
  as_loop *loop;
  as__check_callable(L, 2);
  lua_settop(L, 2);
  if (t->state == AS_TASK_DONE) {
    loop = as__loop(L);
    if (loop == NULL) return luaL_error(L, "add_done_callback: no running loop");
    as__loop_queue_callback(loop, L, 1);
    return 0;
  }
  as__loop_push_table(L, as__loop(L)->callbacks_ref);
  if (lua_rawgetp(L, -1, t) == LUA_TNIL) {
    lua_pop(L, 1);
    lua_newtable(L);
    lua_pushvalue(L, -1);
    lua_rawsetp(L, -3, t);
  }
  lua_pushvalue(L, 2);
  lua_rawseti(L, -2, (lua_Integer)lua_rawlen(L, -2) + 1);
  t->flags |= AS_TASK_HAS_CALLBACKS;
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

static int task_index(lua_State *L) {
  as_task *t = as__check_task(L, 1);
  const char *key = lua_tostring(L, 2);
  if (key && strcmp(key, "name") == 0) {
    as__task_push_name(L, 1, t);
    return 1;
  }
  lua_pushvalue(L, 2);
  lua_rawget(L, lua_upvalueindex(1));
  return 1;
}

static int task_newindex(lua_State *L) {
  as_task *t = as__check_task(L, 1);
  const char *key = lua_tostring(L, 2);
  if (key == NULL || strcmp(key, "name") != 0)
    return luaL_error(L, "cannot set field '%s' of a Task (only 'name' can be set)",
                      key ? key : luaL_typename(L, 2));
  luaL_checktype(L, 3, LUA_TSTRING);
  lua_getfield(L, LUA_REGISTRYINDEX, "asched.names");
  lua_pushvalue(L, 1);
  lua_pushvalue(L, 3);
  lua_rawset(L, -3);
  t->flags |= AS_TASK_HAS_NAME;
  return 0;
}

void as__open_task(lua_State *L) {
  static const luaL_Reg methods[] = {
    {"await", task_await},
    {"cancel", task_cancel},
    {"done", task_done},
    {"cancelled", task_cancelled},
    {"result", task_result},
    {"exception", task_exception},
    {"traceback", task_traceback},
    {"add_done_callback", task_add_done_callback},
    {NULL, NULL}
  };
  if (luaL_getsubtable(L, LUA_REGISTRYINDEX, "asched.names") == 0) {
    lua_createtable(L, 0, 1);
    lua_pushliteral(L, "k");
    lua_setfield(L, -2, "__mode");
    lua_setmetatable(L, -2);
  }
  lua_pop(L, 1);
  if (luaL_newmetatable(L, AS_TASK_METATABLE)) {
    lua_newtable(L);
    as__set_boxed(L, methods);
    lua_pushcclosure(L, task_index, 1);
    lua_setfield(L, -2, "__index");
    lua_pushcfunction(L, task_newindex);
    lua_setfield(L, -2, "__newindex");
    lua_pushcfunction(L, task_tostring);
    lua_setfield(L, -2, "__tostring");
  }
  lua_pop(L, 1);
  as__push_boxed(L, task_await);
  lua_setfield(L, -2, "await");
}
