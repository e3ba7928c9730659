/* run.h -- running a loop with what a run's options ask for (run.c): the
 * module's asched.run and the asched program both start runs here. */
#ifndef ASCHED_RUN_H
#define ASCHED_RUN_H

#include <lua.h>
#include <stdint.h>

#include "loop.h"

typedef struct as_run_options {
  int virtual_time;     /* --virtual-time */
  int seeded;           /* --seed N */
  uint64_t seed;
  int debug;            /* --debug */
  const char *timeline; /* --timeline[=FILE.svg]: "" for stderr, or a path */
  const char *trace;    /* --trace FILE: Chrome Trace Event JSON */
  int record_timeline;  /* the REPL: record (bounded) for :timeline, draw nothing */
  const char *record;   /* --record FILE: the scheduling decisions as JSON lines */
  const char *replay;   /* --replay FILE: force the decisions recorded there */
  const char *script;   /* the script's path, named in a record's header */
  int step;             /* --step: stop after each scheduler step for a key */
  /* --step's `q`: cancels the main task as the host's Ctrl-C does. */
  void (*step_quit)(lua_State *L, as_loop *loop);
  /* The host's own set-up (its SIGINT handling), after the run's; may raise. */
  void (*host_setup)(lua_State *L, as_loop *loop, void *ud);
  void *host_ud;
} as_run_options;

/* As as__run (scheduler.h), with the observers the options ask for: task
 * descriptions and the deadlock report always; the timeline, the trace and
 * the slow-task watchdog when asked. */
int as_run(lua_State *L, int nargs, const as_run_options *opts, int *nresults);

/* Turns debug mode on or off for the running loop, if any, and the runs that
 * follow in this state; returns whether it was on. */
int as__set_debug(lua_State *L, int on);

#endif
