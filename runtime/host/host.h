/* host.h -- what the asched program's files share: running a chunk as the
 * main task and reporting its failure the way lua.c does. */
#ifndef ASCHED_HOST_H
#define ASCHED_HOST_H

#include <lua.h>

#include "run.h"

extern const char *as_progname;
extern as_run_options as_host_options;

/* Runs the function below `nargs` arguments as the main task; prints an
 * uncaught error as "asched: msg" with the traceback. Returns LUA_OK or not.
 * With `keep_results`, leaves the results on the stack (for the REPL). */
int as_host_run(lua_State *L, int nargs, int keep_results);

/* Prints "asched: msg" on stderr. */
void as_host_message(const char *msg);

/* The REPL, as the main task of a run; with `script` (a stack index, 0 for
 * none), that chunk runs first with the `nargs` values above it. */
void as_host_repl(lua_State *L, int script, int nargs);

/* Pushes the exercise runner's C helpers (runner.c): a table with realpath,
 * exepath, stamp and watch. */
void as__runner_host(lua_State *L);

#endif
