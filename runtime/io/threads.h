/* threads.h -- to_thread: run a Lua function on the libuv thread pool in a
 * worker Lua state, copying arguments and results as plain data. */
#ifndef ASCHED_THREADS_H
#define ASCHED_THREADS_H

#include <lua.h>

struct as_loop;

/* Adds to_thread to the module table on top. */
void as__open_threads(lua_State *L);

/* The loop is closing and no job runs any more: closes the worker states. */
void as__threads_close(struct as_loop *loop);

#endif
