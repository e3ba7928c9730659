/* time.c -- asched.sleep and asched.now: the Lua face of the loop clock and
 * the timer wheel. */
#include <lauxlib.h>

#include "bindings.h"
#include "loop.h"

static int sleep_resumed(lua_State *L, int status, lua_KContext ctx) {
  (void)status;
  as__task_check_raise(L, as__loop(L), (as_task *)ctx);
  return 1;
}

/* sleep(seconds [, value]) -> value. Suspends; sleep(0) only yields its turn. */
static int l_sleep(lua_State *L) {
  double seconds = luaL_checknumber(L, 1);
  as_loop *loop;
  as_task *t;
  luaL_argcheck(L, seconds == seconds, 1, "number is NaN");
  loop = as__loop(L);
  t = as__task_check_current(L, loop, "sleep");
  lua_settop(L, 2);
  if (seconds <= 0) {
    t->wait_kind = AS_WAIT_YIELD;
    as__loop_push_ready(loop, t);
  } else {
    uint64_t duration = as_clock_duration(seconds);
    if (duration == AS_NEVER) {
      t->wait_kind = AS_WAIT_FOREVER;   /* only a cancellation ends it */
    } else {
      as_timer_wheel_insert(&loop->timers, &t->link.timer, as__loop_now(loop) + duration,
                           loop->timer_seq++);
      t->flags |= AS_TASK_IN_TIMERS;
      t->wait_kind = AS_WAIT_SLEEP;
    }
  }
  return as__task_suspend(L, as__loop(L), t, sleep_resumed, (lua_KContext)t);
}

static int l_now(lua_State *L) {
  as_loop *loop = as__loop(L);
  if (loop == NULL) return luaL_error(L, "asched.now: no running loop");
  lua_pushnumber(L, (lua_Number)as__loop_now(loop) / 1e9);
  return 1;
}

void as__open_time(lua_State *L) {
  static const luaL_Reg functions[] = {
    {"sleep", l_sleep},
    {"now", l_now},
    {NULL, NULL}
  };
  as__set_boxed(L, functions);
}
