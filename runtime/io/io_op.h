/* io_op.h -- an operation a task waits for: a to_thread job, a file-system
 * job on the libuv pool, a child process, a socket or HTTP transfer. The operation may outlive its waiter: a task
 * cancelled while it runs lets go of it at once (the operation is aborted
 * where it can be: a queued job unqueued, a process killed), and the
 * operation frees itself when libuv is done with it. While one is pending,
 * libuv's loop is alive, so the virtual clock holds (API.md, Time). */
#ifndef ASCHED_IO_OP_H
#define ASCHED_IO_OP_H

#include <lua.h>

struct as_loop;
struct as_task;
typedef struct as_io_op as_io_op;

typedef struct as_io_op_type {
  const char *what;               /* "reading a file": for :tasks and deadlocks */
  void (*abort)(as_io_op *op);    /* the waiter is gone: stop early (or NULL) */
  void (*release)(as_io_op *op);  /* done and unwaited: free it */
  const char *timeline;           /* its state in --timeline: "io", "thread" */
} as_io_op_type;

struct as_io_op {
  const as_io_op_type *type;
  struct as_loop *loop;
  struct as_task *caller;         /* the waiting task, or NULL once let go */
  int caller_ref;                 /* anchors the caller's Task */
  int done;                       /* libuv is finished with it */
};

void as__io_op_init(as_io_op *op, const as_io_op_type *type, struct as_loop *loop);

/* Suspends the running task `t` until as__io_op_finish. In `k`, call
 * as__io_op_cancelled first. */
int as__io_op_wait(lua_State *L, as_io_op *op, struct as_task *t, lua_KFunction k);

/* On the loop thread, when the operation is over: wakes its waiter, or
 * releases it when nobody waits any more. */
void as__io_op_finish(as_io_op *op);

/* In the continuation: when the task was cancelled, lets go of the operation,
 * pushes the error and returns 1; else returns 0. */
int as__io_op_cancelled(lua_State *L, as_io_op *op);

/* The waiter is done with the operation (results read, or an error): releases
 * it when finished, else aborts it and lets it finish alone. */
void as__io_op_let_go(lua_State *L, as_io_op *op);

/* A task abandoned at the run's end while waiting on `op`. */
void as__io_op_abandon(as_io_op *op);

/* Before the first write to a pipe or socket: a peer that has gone away must
 * not kill the process with SIGPIPE; the write fails with EPIPE instead. */
void as__io_ignore_sigpipe(void);

#endif
