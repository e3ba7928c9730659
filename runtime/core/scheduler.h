/* scheduler.h -- a run: the main task and everything it spawns, from the
 * first step to a clean shutdown (scheduler.c). The only entry into the core
 * for those who open loops: the module's asched.run and the program. */
#ifndef ASCHED_SCHEDULER_H
#define ASCHED_SCHEDULER_H

#include <lua.h>

#include "loop.h"

/* Runs the function below the `nargs` values on top of `L` as the main task on
 * a new loop. On success returns LUA_OK with the results on the stack in place
 * of the function and arguments (*nresults of them). On failure returns
 * LUA_ERRRUN with the error value and then the main task's traceback (a string,
 * or nil) pushed. Raises a Lua error when a loop is already running in `L`. */
int as__run(lua_State *L, int nargs, const as_loop_options *opts, int *nresults);

#endif
