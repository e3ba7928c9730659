/* slow_task.c -- debug mode's watchdog for tasks that do not suspend (see
 * slow_task.h). Owns its watch: an attachment of the loop that is also its
 * observer. */
#include "slow_task.h"

#include <lauxlib.h>
#include <stdlib.h>
#include <uv.h>

#include "task.h"

/* Instructions between two looks at the clock: ~10 us of Lua code. */
#define HOOK_COUNT 1000
#define LIMIT_NS ((uint64_t)AS_SLOW_TASK_MS * 1000000u)

/* The slice of the task being resumed. */
typedef struct slow_watch {
  as_attachment attachment;
  as_observer observer;
  uint64_t start_ns;  /* uv_hrtime() when the resume began */
  int watching;       /* this resume is being watched */
  int reported;       /* this slice has been reported once */
} slow_watch;

static const char watch_key = 'D';

static uint64_t elapsed_ms(const slow_watch *w) {
  return (uv_hrtime() - w->start_ns) / 1000000u;
}

static void report(lua_State *co, as_loop *loop, as_task *t, const char *what,
                   const char *traceback) {
  as__task_push_pending_name(co, loop, t);
  as__report(lua_pushfstring(co, "warning: %s %s (every other task waits meanwhile)",
                             lua_tostring(co, -1), what), traceback);
  lua_pop(co, 2);
}

/* The count hook: the task is still running; past the limit, say where. */
static void slow_task_hook(lua_State *co, lua_Debug *ar) {
  as_loop *loop = as_loop_of(co);
  slow_watch *w;
  (void)ar;
  if (loop == NULL || loop->current_co != co) return;
  w = (slow_watch *)as__loop_attachment(loop, &watch_key);
  if (w == NULL) return;
  if (!loop->debug || !w->watching || w->reported || uv_hrtime() - w->start_ns <= LIMIT_NS) return;
  w->reported = 1;
  as__task_push_where(co, co);
  lua_pushfstring(co, "has run %d ms without suspending, now at %s",
                  (int)elapsed_ms(w), lua_tostring(co, -1));
  luaL_traceback(co, co, NULL, 0);
  report(co, loop, loop->current, lua_tostring(co, -2), lua_tostring(co, -1));
  lua_pop(co, 3);
}

/* as_observer.resume: starts the clock and sets the count hook. */
static void begin(as_observer *o, as_loop *loop, as_task *t) {
  slow_watch *w = as_container_of(o, slow_watch, observer);
  if (!loop->debug) return;
  w->start_ns = uv_hrtime();
  w->watching = 1;
  w->reported = 0;
  lua_sethook(t->co, slow_task_hook, LUA_MASKCOUNT, HOOK_COUNT);
}

/* as_observer.resumed: reports a slice that ran over the limit without the
 * hook seeing it (time spent inside a C call such as os.execute). */
static void end(as_observer *o, as_loop *loop, as_task *t, int status) {
  slow_watch *w = as_container_of(o, slow_watch, observer);
  lua_State *co = t->co;
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

void as__slow_task_attach(as_loop *loop) {
  int made;
  slow_watch *w = (slow_watch *)as__loop_attachment_make(loop, &watch_key, sizeof *w, NULL, NULL, &made);
  if (!made) return;
  w->observer.resume = begin;
  w->observer.resumed = end;
  as__loop_observe(loop, &w->observer);
}
