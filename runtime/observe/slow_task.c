/* slow_task.c -- debug mode's watchdog for tasks that do not suspend. */
#include "slow_task.h"

#include <lauxlib.h>
#include <uv.h>

#include "loop.h"

/* Instructions between two looks at the clock: ~10 us of Lua code. */
#define HOOK_COUNT 1000
#define LIMIT_NS ((uint64_t)AS_SLOW_TASK_MS * 1000000u)

static uint64_t elapsed_ms(const as_slow_watch *w) {
  return (uv_hrtime() - w->start_ns) / 1000000u;
}

static void report(lua_State *co, as_loop *loop, as_task *t, const char *what,
                   const char *traceback) {
  as__task_push(co, loop, t);
  as__task_push_name(co, -1, t);
  as__report(lua_pushfstring(co, "warning: %s %s (every other task waits meanwhile)",
                             lua_tostring(co, -1), what), traceback);
  lua_pop(co, 3);
}

/* The count hook: the task is still running; past the limit, say where. */
static void slow_task_hook(lua_State *co, lua_Debug *ar) {
  as_loop *loop = as_loop_of(co);
  as_slow_watch *w;
  (void)ar;
  if (loop == NULL || loop->current_co != co) return;
  w = &loop->slow_watch;
  if (!loop->debug || !w->watching || w->reported || uv_hrtime() - w->start_ns <= LIMIT_NS) return;
  w->reported = 1;
  as__task_push_where(co, co);
  lua_pushfstring(co, "has run %d ms without suspending, now at %s",
                  (int)elapsed_ms(w), lua_tostring(co, -1));
  luaL_traceback(co, co, NULL, 0);
  report(co, loop, loop->current, lua_tostring(co, -2), lua_tostring(co, -1));
  lua_pop(co, 3);
}

void as__slow_task_begin(as_loop *loop, lua_State *co) {
  as_slow_watch *w = &loop->slow_watch;
  w->start_ns = uv_hrtime();
  w->watching = 1;
  w->reported = 0;
  lua_sethook(co, slow_task_hook, LUA_MASKCOUNT, HOOK_COUNT);
}

void as__slow_task_end(as_loop *loop, as_task *t, lua_State *co, int status) {
  as_slow_watch *w = &loop->slow_watch;
  if (!w->watching) return;
  w->watching = 0;
  lua_sethook(co, NULL, 0, 0);
  if (!loop->debug || w->reported || uv_hrtime() - w->start_ns <= LIMIT_NS) return;
  if (!lua_checkstack(co, 4)) return;
  if (status == LUA_OK) {
    lua_pushfstring(co, "ran %d ms without suspending until it returned", (int)elapsed_ms(w));
  } else {
    as__task_push_where(co, co);
    lua_pushfstring(co, "ran %d ms without suspending, until %s at %s",
                    (int)elapsed_ms(w), status == LUA_YIELD ? "it suspended" : "it failed",
                    lua_tostring(co, -1));
  }
  report(co, loop, t, lua_tostring(co, -1), NULL);
  lua_pop(co, status == LUA_OK ? 1 : 2);
}
