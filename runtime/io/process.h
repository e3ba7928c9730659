/* process.h -- a child process run to completion (process.c): never through a
 * shell, its stdout and stderr collected, its stdin fed, while the calling
 * task waits. */
#ifndef ASCHED_PROCESS_H
#define ASCHED_PROCESS_H

#include <lua.h>
#include <stddef.h>

#include "loop.h"
#include "task.h"

/* What to run; every string is the caller's and only read during the call. */
typedef struct as_process_spec {
  char **argv;            /* NULL-terminated; argv[0] names the program */
  char **env;             /* NULL-terminated "NAME=value" strings, or NULL: inherit */
  const char *cwd;        /* or NULL */
  const char *input;      /* written to stdin, or NULL: stdin is /dev/null */
  size_t input_size;
} as_process_spec;

/* Runs `spec` for the running task `t` and suspends it until the child has
 * exited and its pipes are drained; then returns {code=, signal=, stdout=,
 * stderr=}. Cancelling the caller kills the child (SIGKILL). A program that
 * cannot be started is an IOError ("process.run prog: ..."). */
int as__process_run(lua_State *L, as_loop *loop, as_task *t, const as_process_spec *spec);

#endif
