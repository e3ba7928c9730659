/* group.c (bindings) -- asched.task_group and the TaskGroup type (spawn,
 * cancel): runs the body in the caller's task, waits for the children, and
 * decides, as asyncio 3.12's TaskGroup does, what the call returns or raises.
 * The state machine is sync/group.c. */
#include "bindings.h"
#include "errors.h"
#include "group.h"

#define TASK_GROUP "asched.TaskGroup"

/* The frame of task_group: [group (to be closed), message handler, fn's
 * values...]. The group is also the `tg` the body gets. */
enum { GROUP = 1, HANDLER };

/* The body's message handler (upvalue: the group): keeps where an error was
 * raised -- the body's traceback, in the group's errors -- and hands the
 * error on unchanged. */
static int body_handler(lua_State *L) {
  as_group *g = lua_touserdata(L, lua_upvalueindex(1));
  if (g->ref != LUA_NOREF && !as__error_is(L, 1, "CancelledError")) {
    as__group_push_table(L, g);
    luaL_traceback(L, L, as__error_message(L, 1), 1);
    lua_setfield(L, -3, "body_traceback");
    lua_pop(L, 2);
  }
  lua_settop(L, 1);
  return 1;
}

/* Withdraws the group's own cancellation of its caller if it is still
 * waiting to be delivered (the body ended first). */
static void withdraw_own_cancel(lua_State *L, as_loop *loop, as_group *g, as_task *t) {
  as__group_push_table(L, g);
  if (lua_getfield(L, -1, "cancel") != LUA_TNIL) as__task_withdraw_raise(L, loop, t, -1);
  lua_pop(L, 2);
}

/* An error reached the caller (on top, popped) from outside the group: a
 * cancellation, or the loop's DeadlockError. Remember it as `field` and
 * stop everything, as asyncio does for any error leaving the body. */
static void saw_outside_error(lua_State *L, as_loop *loop, as_group *g, const char *field) {
  as__group_push_table(L, g);
  lua_insert(L, -2);
  lua_setfield(L, -2, field);
  lua_pop(L, 1);
  as__group_abort(L, loop, g);
}

/* The error on top (popped), from the caller's wait or the body: a
 * cancellation is remembered, as is a deadlock (the loop's verdict on the
 * whole run, raised unchanged once the children are done); any other is one
 * of the group's errors, with the traceback below it (popped). */
static void caller_error(lua_State *L, as_loop *loop, as_group *g) {
  if (as__error_is(L, -1, "CancelledError") || as__error_is(L, -1, "DeadlockError")) {
    saw_outside_error(L, loop, g, as__error_is(L, -1, "CancelledError") ? "seen" : "deadlock");
    lua_pop(L, 1);
  } else {
    as__group_record_error(L, loop, g);
  }
}

/* The group's error: every error in the order raised, with their tracebacks.
 * (A nil error leaves a hole in `errors`: the message counts it all the same.) */
static int raise_group_error(lua_State *L, int table, int32_t count) {
  lua_getfield(L, table, "errors");
  lua_rawgeti(L, -1, 1);
  as__error_push(L, "TaskGroupError", "%d error%s in a task group, the first: %s", (int)count,
                 count == 1 ? "" : "s", as__error_message(L, -1));
  lua_pushvalue(L, -4);                    /* [errors first message error] */
  lua_setfield(L, -2, "errors");
  lua_getfield(L, table, "tracebacks");
  if (lua_isnil(L, -1)) {
    lua_pop(L, 1);
    lua_newtable(L);
  }
  lua_setfield(L, -2, "tracebacks");
  return lua_error(L);
}

/* Every child is done: what the call returns or raises. `nresults` values of
 * the body are at the top. */
static int finish(lua_State *L, as_loop *loop, as_group *g, as_task *t, int nresults) {
  int table, propagate;
  int32_t errors = g->errors;
  g->state = AS_GROUP_DONE;
  as__group_push_table(L, g);
  table = lua_gettop(L);
  lua_getfield(L, table, "seen");
  propagate = !lua_isnil(L, -1);
  /* The caller's own cancellation requests decide, as in asyncio: the
   * group takes back the one it made; any left came from outside. */
  if (g->parent_cancelled && as__task_uncancel(L, loop, t) == 0) propagate = 0;
  lua_closeslot(L, GROUP);                 /* releases the group's table */
  if (lua_getfield(L, table, "deadlock") != LUA_TNIL) return lua_error(L);
  lua_pop(L, 1);
  if (errors > 0) {
    /* An outside cancellation stays requested: delivered at the caller's
     * next suspension point (Python 3.13). */
    if (propagate) {
      lua_pushvalue(L, -1);
      as__task_raise(L, loop, t);
    }
    return raise_group_error(L, table, errors);
  }
  if (propagate) return lua_error(L);      /* the CancelledError seen */
  if (g->user_cancelled) return 0;         /* tg:cancel(): no values */
  lua_settop(L, table - 1);
  return nresults;
}

static int children_done(lua_State *L, int status, lua_KContext nresults);

/* Waits until every child is done, then finishes. */
static int wait_children(lua_State *L, as_loop *loop, as_group *g, as_task *t, int nresults) {
  if (g->pending > 0) return as__group_wait(L, loop, g, t, children_done, nresults);
  return finish(L, loop, g, t, nresults);
}

static int children_done(lua_State *L, int status, lua_KContext nresults) {
  as_loop *loop = as__loop(L);
  as_group *g = lua_touserdata(L, GROUP);
  as_task *t = loop->current;
  (void)status;
  if (as__group_resumed(L, loop, g, t)) {
    lua_pushnil(L);                        /* no traceback: raised into the wait */
    lua_insert(L, -2);
    caller_error(L, loop, g);              /* and keep waiting */
  }
  return wait_children(L, loop, g, t, (int)nresults);
}

/* The body returned, or raised: [group handler values...] or [group handler error]. */
static int body_done(lua_State *L, int status, lua_KContext ctx) {
  as_loop *loop = as__loop(L);
  as_group *g = lua_touserdata(L, GROUP);
  as_task *t = loop->current;
  int nresults = 0;
  (void)ctx;
  if (status == LUA_OK || status == LUA_YIELD) {
    nresults = lua_gettop(L) - HANDLER;
  } else {
    as__group_push_table(L, g);
    lua_getfield(L, -1, "body_traceback");
    lua_remove(L, -2);
    lua_insert(L, -2);                     /* [traceback error] */
    caller_error(L, loop, g);
  }
  withdraw_own_cancel(L, loop, g, t);
  g->state = AS_GROUP_WAITING;
  return wait_children(L, loop, g, t, nresults);
}

/* task_group(fn, ...) -> fn(tg, ...)'s values. Suspends. */
static int l_task_group(lua_State *L) {
  as_task *t;
  as_group *g;
  int nargs = lua_gettop(L) - 1;
  as__check_callable(L, 1);
  t = as__current_task(L);
  g = lua_newuserdatauv(L, sizeof *g, 0);  /* [fn args... group] */
  luaL_setmetatable(L, TASK_GROUP);
  as__group_init(L, g, t);
  lua_insert(L, GROUP);
  lua_toclose(L, GROUP);
  lua_pushvalue(L, GROUP);
  lua_pushcclosure(L, body_handler, 1);
  lua_insert(L, HANDLER);                  /* [group handler fn args...] */
  lua_pushvalue(L, GROUP);
  lua_insert(L, HANDLER + 2);              /* [group handler fn tg args...] */
  lua_pcallk(L, nargs + 1, LUA_MULTRET, HANDLER, 0, body_done);
  return body_done(L, LUA_OK, 0);
}

/* ---- the TaskGroup type ---- */

/* tg:spawn(fn, ...) -> Task, a child of the group. */
static int group_spawn(lua_State *L) {
  as_group *g = as__check_self(L, 1);
  as_loop *loop;
  as__check_callable(L, 2);
  loop = as__running_loop(L);
  if (g->state == AS_GROUP_DONE || g->ref == LUA_NOREF)
    return as__error_raise(L, "RuntimeError", "spawn: the task group has finished");
  if (g->aborting) return as__error_raise(L, "RuntimeError", "spawn: the task group is being cancelled");
  as__group_spawn(L, loop, g, 2, lua_gettop(L) - 2);
  return 1;
}

/* tg:cancel(): cancels the body and every child; task_group then returns
 * normally with no values. */
static int group_cancel(lua_State *L) {
  as_group *g = as__check_self(L, 1);
  if (g->state == AS_GROUP_DONE) return 0;
  g->user_cancelled = 1;
  as__group_abort(L, as__loop(L), g);
  return 0;
}

/* The frame of task_group closes: normally at its end, or because its
 * task was reset first. */
static int group_close(lua_State *L) {
  as__group_close(L, as__loop(L), lua_touserdata(L, 1));
  return 0;
}

static int group_tostring(lua_State *L) {
  as_group *g = as__check_self(L, 1);
  static const char *const states[] = {"running", "waiting for its children", "done"};
  lua_pushfstring(L, "TaskGroup (%s, %d children running)", states[g->state], (int)g->pending);
  return 1;
}

void as__open_group(lua_State *L) {
  static const luaL_Reg methods[] = {{"spawn", group_spawn}, {"cancel", group_cancel}, {NULL, NULL}};
  static const luaL_Reg meta[] = {{"__close", group_close}, {"__tostring", group_tostring}, {NULL, NULL}};
  static const luaL_Reg functions[] = {{"task_group", l_task_group}, {NULL, NULL}};
  as__register_type(L, TASK_GROUP, methods, meta);
  as__register(L, functions);
}
