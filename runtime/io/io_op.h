/* io_op.h -- an operation a task waits for: a file-system job on the libuv
 * pool, a to_thread job, a child process, a socket read, write or connect, an
 * HTTP transfer. The one wait-for-an-operation mechanism and its one
 * continuation. The operation may outlive its waiter: a task cancelled while
 * it runs lets go of it at once (the operation is aborted where it can be: a
 * queued job unqueued, a process killed), and the operation frees itself when
 * libuv is done with it. While one is pending libuv's loop is alive, so the
 * virtual clock holds (API.md, Time). */
#ifndef ASCHED_IO_OP_H
#define ASCHED_IO_OP_H

#include <lua.h>

#include "loop.h"
#include "task.h"

typedef struct as_io_op as_io_op;

/* What a kind of operation does; static, one per kind. `wait` comes first:
 * the waiting task's `wait` points at it. */
typedef struct as_io_op_type {
  as_wait_type wait;              /* describe: as__io_op_describe, with `what` */
  const char *what;               /* "reading a file": for :tasks and deadlocks */
  /* The operation is over and its waiter runs again: push its results and
   * return how many, or push an error value and return AS_IO_FAILED. Must
   * not yield. The operation is let go right after. */
  int (*push)(lua_State *L, as_io_op *op);
  void (*abort)(as_io_op *op);    /* the waiter is gone: stop early (or NULL) */
  void (*release)(as_io_op *op);  /* done and unwaited: free it */
} as_io_op_type;

#define AS_IO_FAILED (-1)

/* The `wait` of an operation type whose state in --timeline is `state`. */
#define AS_IO_WAIT(state) \
  { .timeline = (state), .describe = as__io_op_describe, .abandon = as__io_op_abandon }

struct as_io_op {
  const as_io_op_type *type;
  as_wait_site site;              /* where its waiter waits: type->wait */
  as_loop *loop;
  as_task *caller;                /* the waiting task, or NULL once let go */
  int caller_ref;                 /* anchors the caller's Task */
  int done;                       /* libuv is finished with it */
  as_list node;                   /* in the loop's list of waited operations */
};

/* The describe function of an operation: its type's `what`. */
void as__io_op_describe(lua_State *L, as_loop *loop, const as_task *t);

/* The abandon function of an operation (the run has ended). */
void as__io_op_abandon(as_loop *loop, as_task *t);

void as__io_op_init(as_io_op *op, const as_io_op_type *type, as_loop *loop);

/* Suspends the running task `t` until as__io_op_finish; then the one
 * continuation raises a cancellation or returns what type->push pushes. */
int as__io_op_wait(lua_State *L, as_io_op *op, as_task *t);

/* On the loop thread, when the operation is over: wakes its waiter, or
 * releases it when nobody waits any more. */
void as__io_op_finish(as_io_op *op);

/* Pushes an IOError: message "<fmt...>: <libuv's text for code>" and field
 * `code`, libuv's name for the error ("ENOENT", "ECONNREFUSED"). */
void as__io_error_push(lua_State *L, int code, const char *fmt, ...);

/* The same with `reason` in place of libuv's text: "<fmt...>: <reason>"
 * (a TLS failure: "certificate verify failed (...)", code "EPROTO"). */
void as__io_error_push_reason(lua_State *L, int code, const char *reason, const char *fmt, ...);

/* Before the first write to a pipe or socket: a peer that has gone away must
 * not kill the process with SIGPIPE; the write fails with EPIPE instead. */
void as__io_ignore_sigpipe(void);

#endif
