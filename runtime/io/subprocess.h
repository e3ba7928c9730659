/* subprocess.h -- a child process a script talks to (subprocess.c): the
 * Process of asched.process.spawn, with optional pipes to its stdin, stdout
 * and stderr (Streams of tcp.c), waited for, signalled, killed and reaped. A
 * Process userdata is a small box pointing at a malloc'd child, whose
 * process handle is freed only in its close callback. */
#ifndef ASCHED_SUBPROCESS_H
#define ASCHED_SUBPROCESS_H

#include <lua.h>
#include <stdint.h>

#include "loop.h"
#include "task.h"

#define AS_PROCESS_METATABLE "asched.Process"

/* What each of the child's stdin, stdout and stderr is. */
typedef enum { AS_STDIO_INHERIT, AS_STDIO_PIPE, AS_STDIO_NULL } as_stdio;

/* What to spawn; every string is the caller's and only read during the call. */
typedef struct as_spawn_spec {
  char **argv;            /* NULL-terminated; argv[0] names the program */
  char **env;             /* NULL-terminated "NAME=value" strings, or NULL: inherit */
  const char *cwd;        /* or NULL */
  as_stdio stdio[3];      /* stdin, stdout, stderr */
} as_spawn_spec;

struct as_spawned;

/* The Process userdata. Its user values 1, 2, 3 are the Streams of the
 * child's stdin, stdout and stderr when they are pipes (else nil). */
typedef struct as_process {
  struct as_spawned *s;   /* the running child, NULL once its handle closed */
  int pid;
  int exited;             /* code and signal hold */
  int64_t code;
  int signal;             /* the signal that ended it, or 0 */
} as_process;

/* Starts `spec` as a child of `loop` and pushes its Process, with a Stream
 * per pipe. A program that cannot be started is an IOError ("process.spawn
 * prog: no such file or directory"). */
int as__process_spawn(lua_State *L, as_loop *loop, const as_spawn_spec *spec);

/* For the running task `t`: returns the child's exit code and nil, or nil
 * and the name of the signal that ended it -- at once when it has exited,
 * else once it exits. Cancelling the caller only ends its wait. */
int as__process_wait(lua_State *L, as_loop *loop, as_task *t, as_process *p);

/* Sends `signum` to the child: 1, or 0 when it has exited already (nothing is
 * sent: its pid may belong to another process by now), or a libuv error. */
int as__process_kill(as_process *p, int signum);

/* Kills the child (SIGKILL) if it still runs and reaps it before returning;
 * its waiters get its end. The Streams are the caller's to close. */
void as__process_close(as_process *p);

/* The Process userdata is being collected: the child runs on (the run's end
 * kills it) but forgets the box. */
void as__process_collect(as_process *p);

#endif
