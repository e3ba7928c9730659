/* scope.c -- timeout scopes (see scope.h). Each scope raises its own
 * CancelledError object, so one still undelivered when its scope closes can
 * be withdrawn by identity. Precedence when several want to cancel the task
 * before it runs again: an external cancel, then the outermost expired scope
 * -- but every expiry counts its request, and whether a CancelledError
 * becomes a TimeoutError is decided by the count, as in asyncio 3.11. */
#include "scope.h"

#include <lauxlib.h>
#include <string.h>

#include "errors.h"

static const char scopes_key = 'S';  /* registry: task -> its innermost open scope */

/* Pushes the state's scope table. */
static void push_scopes(lua_State *L) {
  if (lua_rawgetp(L, LUA_REGISTRYINDEX, &scopes_key) != LUA_TNIL) return;
  lua_pop(L, 1);
  lua_newtable(L);
  lua_pushvalue(L, -1);
  lua_rawsetp(L, LUA_REGISTRYINDEX, &scopes_key);
}

/* Pushes the task's innermost open scope (or nil) and returns it. */
static as_scope *push_innermost(lua_State *L, as_task *t) {
  push_scopes(L);
  lua_rawgetp(L, -1, t);
  lua_remove(L, -2);
  return lua_touserdata(L, -1);
}

/* Makes the value on top (popped: a scope or nil) the task's innermost. */
static void set_innermost(lua_State *L, as_task *t) {
  push_scopes(L);
  lua_insert(L, -2);
  lua_rawsetp(L, -2, t);
  lua_pop(L, 1);
}

/* The alarm rang: cancel the task unless an outer scope's or an external
 * cancellation is already on its way. */
static void expire(as_alarm *a, lua_State *L, as_loop *loop) {
  as_scope *s = as_container_of(a, as_scope, alarm), *cur;
  as_task *t = s->task;
  int top = lua_gettop(L), pending = 0, raise;
  s->expired = 1;
  if (t->state == AS_TASK_DONE) return;
  raise = !(t->flags & AS_TASK_PENDING_RAISE);
  if (!raise) {
    as__task_push_pending_raise(L, loop, t);
    pending = lua_gettop(L);               /* the error already on its way */
  }
  /* Walk from the innermost scope out to `s`: a pending error raised by a
   * scope nested inside `s` gives way to ours; any other one stands. */
  for (cur = push_innermost(L, t); cur != s; cur = lua_touserdata(L, -1)) {
    if (cur == NULL) {                     /* `s` is no longer open */
      lua_settop(L, top);
      return;
    }
    if (!raise) {
      lua_getiuservalue(L, -1, 1);
      raise = lua_rawequal(L, -1, pending);
      lua_pop(L, 1);
    }
    lua_getiuservalue(L, -1, 2);
    lua_remove(L, -2);
  }
  if (raise) {
    as__error_push(L, "CancelledError", "the deadline of a timeout scope passed");
    lua_pushvalue(L, -1);
    lua_setiuservalue(L, -3, 1);           /* created only now: most scopes never expire */
    as__task_cancel(L, loop, t);           /* as a cancel would: the awaited task too */
  } else {
    as__task_count_cancel(L, loop, t);     /* the error on its way stands, but this is a request */
  }
  lua_settop(L, top);
}

as_scope *as__scope_open(lua_State *L, as_loop *loop, as_task *t, uint64_t deadline) {
  as_scope *s = lua_newuserdatauv(L, sizeof *s, 2);
  memset(s, 0, sizeof *s);
  luaL_setmetatable(L, AS_SCOPE_METATABLE);
  s->outer = push_innermost(L, t);
  lua_setiuservalue(L, -2, 2);
  lua_pushvalue(L, -1);
  set_innermost(L, t);
  s->task = t;
  s->open = 1;
  s->cancelling = as__task_cancelling(L, loop, t);
  s->alarm.fire = expire;
  t->flags |= AS_TASK_TRACE_CANCEL;
  if (deadline == AS_NEVER) return s;
  if (deadline > as__loop_now(loop)) {
    as__alarm_start(loop, &s->alarm, deadline);
  } else {
    /* Already passed: the task is cancelled at its first suspension point. */
    expire(&s->alarm, L, loop);
  }
  return s;
}

int as__scope_close(lua_State *L, as_loop *loop, int idx, int err) {
  as_scope *s = lua_touserdata(L, idx);
  as_task *t = s->task;
  int timed_out = 0;
  idx = lua_absindex(L, idx);
  if (err) err = lua_absindex(L, err);
  if (!s->open) return 0;
  s->open = 0;
  as__alarm_stop(loop, &s->alarm);
  lua_getiuservalue(L, idx, 2);
  set_innermost(L, t);
  if (s->outer == NULL) t->flags &= ~AS_TASK_TRACE_CANCEL;
  if (s->expired) {
    lua_getiuservalue(L, idx, 1);          /* the scope's CancelledError, or nil */
    /* Never delivered (the body ended first): withdraw it. */
    if (!lua_isnil(L, -1)) as__task_withdraw_raise(L, loop, t, -1);
    lua_pop(L, 1);
    timed_out = as__task_uncancel(L, loop, t) <= s->cancelling && err != 0 &&
                as__error_is(L, err, "CancelledError");
  }
  return timed_out;
}
