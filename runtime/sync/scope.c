/* scope.c -- timeout scopes (see scope.h). The decision of which scope a
 * cancellation belongs to is made by identity: each scope raises its own
 * CancelledError object, and only that object becomes its TimeoutError.
 * Precedence when several want to cancel the task before it runs again: an
 * external cancel, then the outermost expired scope. */
#include "scope.h"

#include <lauxlib.h>
#include <stdio.h>
#include <string.h>

#include "errors.h"
#include "loop.h"

static void disarm(as_loop *loop, as_scope *s) {
  if (!s->armed) return;
  as_timer_wheel_remove(&loop->scope_timers, &s->timer);
  s->armed = 0;
}

/* Pushes the task's innermost open scope (or nil) and returns it. */
static as_scope *push_innermost(lua_State *L, as_loop *loop, as_task *t) {
  as__loop_push_table(L, loop->scopes_ref);
  lua_rawgetp(L, -1, t);
  lua_remove(L, -2);
  return lua_touserdata(L, -1);
}

static void set_innermost(lua_State *L, as_loop *loop, as_task *t) {
  as__loop_push_table(L, loop->scopes_ref);
  lua_insert(L, -2);
  lua_rawsetp(L, -2, t);
  lua_pop(L, 1);
}

as_scope *as__scope_open(lua_State *L, as_loop *loop, as_task *t, uint64_t duration) {
  as_scope *s = lua_newuserdatauv(L, sizeof *s, 2);
  memset(s, 0, sizeof *s);
  luaL_setmetatable(L, AS_SCOPE_METATABLE);
  s->outer = push_innermost(L, loop, t);
  lua_setiuservalue(L, -2, 2);
  lua_pushvalue(L, -1);
  set_innermost(L, loop, t);
  s->task = t;
  s->active = 1;
  t->flags |= AS_TASK_IN_SCOPE;
  if (duration != AS_NEVER) {
    as_timer_wheel_insert(&loop->scope_timers, &s->timer, as__loop_now(loop) + duration,
                         loop->timer_seq++);
    s->armed = 1;
  }
  return s;
}

int as__scope_close(lua_State *L, as_loop *loop, int idx, int err) {
  as_scope *s = luaL_checkudata(L, idx, AS_SCOPE_METATABLE);
  as_task *t = s->task;
  int timed_out = 0;
  idx = lua_absindex(L, idx);
  if (err) err = lua_absindex(L, err);
  if (!s->active) return luaL_error(L, "timeout scope closed twice");
  if (push_innermost(L, loop, t) != s) return luaL_error(L, "timeout scopes closed out of order");
  lua_pop(L, 1);
  disarm(loop, s);
  s->active = 0;
  lua_getiuservalue(L, idx, 2);
  set_innermost(L, loop, t);
  if (s->outer == NULL) t->flags &= ~AS_TASK_IN_SCOPE;
  lua_getiuservalue(L, idx, 1);            /* the scope's CancelledError */
  if (s->expired) {
    /* Its cancellation was never delivered (the body ended first): withdraw it. */
    if (t->flags & AS_TASK_PENDING_RAISE) {
      as__loop_push_table(L, loop->raises_ref);
      lua_rawgetp(L, -1, t);
      if (lua_rawequal(L, -1, -3)) {
        lua_pushnil(L);
        lua_rawsetp(L, -3, t);
        t->flags &= ~(AS_TASK_PENDING_RAISE | AS_TASK_CANCEL_REQUESTED);
      }
      lua_pop(L, 2);
    }
    timed_out = err != 0 && lua_rawequal(L, -1, err);
  }
  lua_pop(L, 1);
  return timed_out;
}

void as__scope_expire(lua_State *L, as_loop *loop, as_scope *s) {
  as_task *t = s->task;
  as_scope *cur;
  int top = lua_gettop(L), pending = 0, raise;
  s->armed = 0;
  s->expired = 1;
  if (t->state == AS_TASK_DONE) return;
  raise = !(t->flags & AS_TASK_PENDING_RAISE);
  if (!raise) {
    as__loop_push_table(L, loop->raises_ref);
    lua_rawgetp(L, -1, t);
    pending = lua_gettop(L);               /* the error already on its way */
  }
  /* Walk from the innermost scope out to `s`: a pending error raised by a
   * scope nested inside `s` gives way to ours; any other one stands. */
  for (cur = push_innermost(L, loop, t); cur != s; cur = lua_touserdata(L, -1)) {
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
  }
  lua_settop(L, top);
}

void as__scope_task_done(lua_State *L, as_loop *loop, as_task *t) {
  as_scope *cur = push_innermost(L, loop, t);
  while (cur != NULL) {
    disarm(loop, cur);
    cur->active = 0;
    lua_getiuservalue(L, -1, 2);
    lua_remove(L, -2);
    cur = lua_touserdata(L, -1);
  }
  set_innermost(L, loop, t);               /* nil */
  t->flags &= ~AS_TASK_IN_SCOPE;
}

/* scope_open(label, seconds) -> scope, for the running task. */
static int scope_open(lua_State *L) {
  const char *label = luaL_checkstring(L, 1);
  double seconds = luaL_checknumber(L, 2);
  as_loop *loop = as__loop(L);
  as_task *t = as__task_check_current(L, loop, label);
  as_scope *s = as__scope_open(L, loop, t, as_clock_duration(seconds > 0 ? seconds : 0));
  s->seconds = seconds;
  return 1;
}

/* scope_close(scope, ok, ...) -> ... when ok; else raises the error, or a
 * TimeoutError when it is the scope's own expired cancellation. */
static int scope_close(lua_State *L) {
  int ok = lua_toboolean(L, 2);
  as_scope *s = luaL_checkudata(L, 1, AS_SCOPE_METATABLE);
  if (as__scope_close(L, as__loop(L), 1, ok ? 0 : 3)) {
    char seconds[32];
    snprintf(seconds, sizeof seconds, "%g", s->seconds);   /* as combine.lua writes it */
    return as__error_raise(L, "TimeoutError", "timed out after %s s", seconds);
  }
  if (!ok) {
    lua_settop(L, 3);
    return lua_error(L);
  }
  return lua_gettop(L) - 2;
}

void as__open_scope(lua_State *L) {
  luaL_newmetatable(L, AS_SCOPE_METATABLE);
  lua_pop(L, 1);
  as__push_boxed(L, scope_open);
  lua_setfield(L, -2, "scope_open");
  as__push_boxed(L, scope_close);
  lua_setfield(L, -2, "scope_close");
}
