/* threads.h -- to_thread's jobs: a Lua function run on the libuv thread pool
 * in a worker Lua state, its arguments and results copied as plain data
 * (marshal.h). Owns the jobs and the worker states of a loop. */
#ifndef ASCHED_THREADS_H
#define ASCHED_THREADS_H

#include <lua.h>

#include "loop.h"
#include "task.h"

typedef struct as_thread_job as_thread_job;

/* Prepares a job: the Lua function at `fn` (whose only upvalue, if any, is
 * _ENV: the caller checks) and the `nargs` values from `first`. Returns the
 * job; or NULL when an argument cannot be copied, with *bad set to its
 * number (1-based) and its description pushed ("args[2].cb is a function").
 * Raises when out of memory. */
as_thread_job *as__thread_job_new(lua_State *L, int fn, int first, int nargs, int *bad);

/* Whether `L` belongs to a worker's Lua state (a job's function that
 * required asched and runs a loop there): a to_thread from it would wait on
 * the pool it runs in, and when every pool thread does, none is left to run
 * the work -- a hang. */
int as__in_thread_worker(lua_State *L);

/* Queues the job on the pool for the running task `t`, which waits; then
 * returns the function's values or raises its error (a string gets the
 * thread's traceback appended; a table without one gets it as `traceback`).
 * A cancelled caller returns at once; the job runs to its end alone. */
int as__thread_job_run(lua_State *L, as_loop *loop, as_task *t, as_thread_job *job);

#endif
