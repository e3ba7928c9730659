/* run.c -- a run with its observers (see run.h). The only place that knows
 * which observe/ parts a run may want. */
#include "run.h"

#include <lauxlib.h>
#include <math.h>
#include <stdlib.h>

#include "deadlock.h"
#include "describe.h"
#include "record.h"
#include "scheduler.h"
#include "slow_task.h"
#include "stepper.h"
#include "timeline.h"

static void setup(lua_State *L, as_loop *loop, void *ud) {
  const as_run_options *opts = ud;
  if (opts->timeline || opts->trace) as__timeline_attach(L, loop, opts->timeline, opts->trace, 0);
  else if (opts->record_timeline) as__timeline_attach(L, loop, NULL, NULL, 1);
  if (loop->debug) as__slow_task_attach(loop);
  if (opts->record || opts->replay) as__record_attach(L, loop, opts->record, opts->replay, opts->script);
  if (opts->step) as__stepper_attach(L, loop, opts->step_quit);   /* wraps the recorder's hook */
  if (opts->host_setup) opts->host_setup(L, loop, opts->host_ud);
}

/* Virtual time's autojump threshold in ms: ASCHED_AUTOJUMP (seconds) or 0.05 s. */
static uint64_t autojump_ms(lua_State *L) {
  const char *text = getenv("ASCHED_AUTOJUMP");
  char *end;
  double seconds;
  if (text == NULL) return 50;
  seconds = strtod(text, &end);
  if (end == text || *end != '\0' || !(seconds >= 0) || seconds > 86400)
    luaL_error(L, "ASCHED_AUTOJUMP must be a number of seconds from 0 to 86400, got '%s'", text);
  return (uint64_t)ceil(seconds * 1000);
}

int as_run(lua_State *L, int nargs, const as_run_options *opts, int *nresults) {
  as_loop_options loop_options = {0};
  loop_options.virtual_time = opts->virtual_time;
  loop_options.autojump_ms = opts->virtual_time ? autojump_ms(L) : 0;
  loop_options.seeded = opts->seeded;
  loop_options.seed = opts->seed;
  loop_options.debug = opts->debug;
  loop_options.push_task_line = as__describe_task_line;
  loop_options.push_deadlock_report = as__deadlock_push_report;
  loop_options.setup = setup;
  loop_options.setup_ud = (void *)opts;
  return as__run(L, nargs, &loop_options, nresults);
}

int as__set_debug(lua_State *L, int on) {
  as_box *box = as__box(L);
  int was_on = box->loop ? box->loop->debug : box->debug;
  box->debug = on;
  if (box->loop) {
    box->loop->debug = on;
    if (on) as__slow_task_attach(box->loop);
  }
  return was_on;
}
