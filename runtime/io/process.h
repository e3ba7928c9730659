/* process.h -- the children of a loop, and a child process run to completion
 * (process.c): never through a shell, its stdout and stderr collected, its
 * stdin fed, while the calling task waits. A child with pipes of its own, the
 * Process of asched.process.spawn, is subprocess.c. */
#ifndef ASCHED_PROCESS_H
#define ASCHED_PROCESS_H

#include <lua.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "loop.h"
#include "task.h"

/* A child process of a loop, embedded in what runs it (process.run's
 * collector, a spawned Process). While it is listed, the run's end kills and
 * reaps it, and an exit that skips the run's end (os.exit) kills it from an
 * atexit handler: a run never leaves a child behind. */
typedef struct as_child {
  uv_process_t process;   /* its `data` is the embedder's */
  as_list node;           /* in the loop's children, from as__child_spawn until
                             as__child_unlist */
  int exited;             /* reaped (or never started): code and signal hold */
  int64_t code;
  int signal;             /* the signal that ended it, or 0 */
  /* The run is ending: start closing every handle of the embedder, the
   * process handle too; the child is then killed and reaped at once
   * (as__child_reap). */
  void (*close)(struct as_child *self);
} as_child;

/* Starts `options` as a child of `loop` (its exit_cb must call
 * as__child_exited) and lists it. `c` is zeroed by its embedder. Returns 0,
 * or a libuv error: then nothing runs and nothing is listed, but once
 * uv_spawn has opened the process handle (c->process.type is UV_PROCESS; not
 * when the loop's list could not be made) it must still be closed. */
int as__child_spawn(as_loop *loop, as_child *c, const uv_process_options_t *options);

/* From the exit callback: records how the child ended. Its pid may be reused
 * from now on, so it is never killed again. */
void as__child_exited(as_child *c, int64_t code, int signal);

/* Kills a child still running (SIGKILL) and reaps it now, blocking until it is
 * gone -- a moment, after SIGKILL -- and records how it ended. Its process
 * handle must be closing already, so that libuv does not reap it too. */
void as__child_reap(as_child *c);

/* Before the embedder is freed: leaves the loop's children. Idempotent. */
void as__child_unlist(as_child *c);

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
