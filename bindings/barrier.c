/* barrier.c (bindings) -- asched.barrier and the Barrier type: wait, reset,
 * abort, n_waiting, broken, and the field `parties`. The state machine is
 * sync/barrier.c; what is wrong with a call is said here. */
#include <string.h>

#include "barrier.h"
#include "bindings.h"
#include "errors.h"

#define BARRIER "asched.Barrier"

/* barrier(parties): parties is a positive integer. */
static int l_barrier(lua_State *L) {
  lua_Integer parties;
  as_barrier *b;
  int is_integer;
  parties = lua_tointegerx(L, 1, &is_integer);
  if (!is_integer || parties < 1) {
    const char *got = lua_type(L, 1) == LUA_TNUMBER ? lua_tostring(L, 1) : as__push_type_name(L, 1);
    return as__arg_error(L, 1, lua_pushfstring(L, "positive integer expected, got %s", got));
  }
  b = lua_newuserdatauv(L, sizeof *b, 0);
  as__barrier_init(b, parties);
  luaL_setmetatable(L, BARRIER);
  return 1;
}

static int broken_error(lua_State *L) {
  return as__error_raise(L, "BrokenBarrierError", "the barrier is broken");
}

/* Granted: the index, or false when the round was broken. */
static int wait_resumed(lua_State *L, int status, lua_KContext ctx) {
  as_loop *loop = as__loop(L);
  (void)status;
  (void)ctx;
  as__waitq_resume(L, loop, &((as_barrier *)lua_touserdata(L, 1))->waiters, loop->current, 1);
  if (lua_toboolean(L, -1)) return 1;
  return broken_error(L);
}

/* wait() -> this task's index in its round, 0 .. parties-1. Suspends. */
static int barrier_wait(lua_State *L) {
  as_barrier *b = as__check_self(L, 1);
  as_task *t = as__current_task(L);
  as_loop *loop = as__loop(L);
  lua_Integer index;
  lua_settop(L, 1);
  if (b->broken) return broken_error(L);
  index = as__barrier_arrive(L, loop, b);
  if (index < 0) return as__waitq_wait(L, loop, &b->waiters, t, wait_resumed, 0);
  lua_pushinteger(L, index);
  return 1;
}

/* reset(): the waiters of this round raise BrokenBarrierError; the barrier
 * is whole and empty again. */
static int barrier_reset(lua_State *L) {
  as__barrier_break(L, as__loop(L), as__check_self(L, 1), 0);
  return 0;
}

/* abort(): as reset, but the barrier stays broken until reset(). */
static int barrier_abort(lua_State *L) {
  as__barrier_break(L, as__loop(L), as__check_self(L, 1), 1);
  return 0;
}

static int barrier_n_waiting(lua_State *L) {
  lua_pushinteger(L, ((as_barrier *)as__check_self(L, 1))->arrived);
  return 1;
}

static int barrier_broken(lua_State *L) {
  lua_pushboolean(L, ((as_barrier *)as__check_self(L, 1))->broken);
  return 1;
}

/* barrier.parties, and the methods. */
static int barrier_index(lua_State *L) {
  as_barrier *b = as__check_self(L, 1);
  const char *key = lua_tostring(L, 2);
  if (key && strcmp(key, "parties") == 0) {
    lua_pushinteger(L, b->parties);
    return 1;
  }
  return as__index_method(L);
}

static int barrier_tostring(lua_State *L) {
  as_barrier *b = as__check_self(L, 1);
  lua_pushfstring(L, "Barrier (%d of %d waiting%s)", (int)b->arrived, (int)b->parties,
                  b->broken ? ", broken" : "");
  return 1;
}

void as__open_barrier(lua_State *L) {
  static const luaL_Reg methods[] = {
    {"wait", barrier_wait}, {"reset", barrier_reset}, {"abort", barrier_abort},
    {"n_waiting", barrier_n_waiting}, {"broken", barrier_broken}, {NULL, NULL}
  };
  static const luaL_Reg meta[] = {{"__index", barrier_index}, {"__tostring", barrier_tostring}, {NULL, NULL}};
  static const luaL_Reg functions[] = {{"barrier", l_barrier}, {NULL, NULL}};
  as__register_type(L, BARRIER, methods, meta);
  as__register(L, functions);
}
