/* time.c -- asched.sleep and asched.now: the Lua face of the loop clock and
 * the task timers. */
#include "bindings.h"

static int sleep_resumed(lua_State *L, int status, lua_KContext ctx) {
  (void)status;
  as__task_check_raise(L, as__loop(L), (as_task *)ctx);
  return 1;
}

/* sleep(seconds [, value]) -> value. Suspends; sleep(0) only yields its turn. */
static int l_sleep(lua_State *L) {
  lua_Number seconds = as__check_seconds(L, 1, 0, NULL);
  as_loop *loop = as__loop(L);
  as_task *t = as__current_task_in(L, loop);
  lua_settop(L, 2);
  if (seconds <= 0) return as__task_yield(L, loop, t, sleep_resumed, (lua_KContext)t);
  return as__task_sleep(L, loop, t, as_clock_duration(seconds), sleep_resumed, (lua_KContext)t);
}

static int l_now(lua_State *L) {
  lua_pushnumber(L, (lua_Number)as__loop_now(as__running_loop(L)) / 1e9);
  return 1;
}

void as__open_time(lua_State *L) {
  static const luaL_Reg functions[] = {
    {"sleep", l_sleep},
    {"now", l_now},
    {NULL, NULL}
  };
  as__register(L, functions);
}
