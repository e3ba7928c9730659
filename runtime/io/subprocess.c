/* subprocess.c -- a child process a script talks to (see subprocess.h). Owns
 * the malloc'd child behind a Process and the waits for its end; its pipes are
 * Streams (tcp.c) and its listing, reaping and early-exit kill are process.c's.
 *
 * The child is an as_child of its loop, so the run's end kills and reaps it
 * and os.exit kills it, as it does process.run's. Its process handle counts
 * for the loop (libuv's reference) only while a task waits for it: a child
 * nobody waits for cannot wake anyone, so it must not hide a deadlock. Any
 * number of tasks may wait; its end wakes them all. The handle closes once
 * the child is reaped, and the child is freed in that close callback; the
 * Process keeps how it ended. */
#include "subprocess.h"

#include <lauxlib.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

#include "errors.h"
#include "io_op.h"
#include "process.h"
#include "signals.h"
#include "tcp.h"

typedef struct as_spawned {
  as_child child;       /* listed in the loop's children until freed */
  as_loop *loop;
  as_process *owner;    /* the Lua Process, or NULL once collected */
  as_list waiters;      /* wait_op.node */
} spawned;

/* A task waiting for the child's end. */
typedef struct wait_op {
  as_io_op op;
  as_list node;         /* in its child's waiters until the end or let go */
  spawned *s;
  int64_t code;
  int signal;
} wait_op;

/* Copies how the child ended into its Process, if it still has one. */
static void record_end(spawned *s) {
  as_process *p = s->owner;
  if (p == NULL || !s->child.exited) return;
  p->exited = 1;
  p->code = s->child.code;
  p->signal = s->child.signal;
}

static void on_closed(uv_handle_t *h) {
  spawned *s = h->data;
  as__child_unlist(&s->child);
  record_end(s);
  if (s->owner) s->owner->s = NULL;
  free(s);
}

/* The child has ended (it exited, or was reaped here): its Process and every
 * waiter learn how. */
static void ended(spawned *s) {
  as_list *n;
  record_end(s);
  while ((n = as_list_first(&s->waiters)) != NULL) {
    wait_op *w = as_container_of(n, wait_op, node);
    as_list_remove(n);
    w->code = s->child.code;
    w->signal = s->child.signal;
    as__io_op_finish(&w->op);
  }
}

static void on_exit(uv_process_t *h, int64_t code, int signal) {
  spawned *s = h->data;
  as__child_exited(&s->child, code, signal);
  ended(s);
  uv_close((uv_handle_t *)h, on_closed);
}

/* The run is ending; process.c kills and reaps the child next. Its pipes are
 * the loop's sockets, closed with them. */
static void close_spawned(as_child *c) {
  if (!uv_is_closing((uv_handle_t *)&c->process)) uv_close((uv_handle_t *)&c->process, on_closed);
}

/* ---- spawning ---- */

/* Closes the Streams (user values of the Process at `proc`) made so far. */
static void close_pipes(lua_State *L, int proc) {
  int i;
  for (i = 1; i <= 3; i++) {
    if (lua_getiuservalue(L, proc, i) == LUA_TUSERDATA) as__stream_close(lua_touserdata(L, -1));
    lua_pop(L, 1);
  }
}

int as__process_spawn(lua_State *L, as_loop *loop, const as_spawn_spec *spec) {
  static const int pipe_flags[3] = {UV_CREATE_PIPE | UV_READABLE_PIPE, UV_CREATE_PIPE | UV_WRITABLE_PIPE,
                                    UV_CREATE_PIPE | UV_WRITABLE_PIPE};
  uv_process_options_t options;
  uv_stdio_container_t stdio[3];
  as_process *p = lua_newuserdatauv(L, sizeof *p, 3);
  int proc = lua_gettop(L), i, status;
  spawned *s;
  memset(p, 0, sizeof *p);
  luaL_setmetatable(L, AS_PROCESS_METATABLE);
  /* Everything that can raise first (the Streams), then the child. */
  for (i = 0; i < 3; i++) {
    if (spec->stdio[i] == AS_STDIO_PIPE) {
      stdio[i].flags = pipe_flags[i];
      stdio[i].data.stream = as__stream_push_pipe(L, loop);
      lua_setiuservalue(L, proc, i + 1);
    } else if (spec->stdio[i] == AS_STDIO_NULL) {
      stdio[i].flags = UV_IGNORE;       /* libuv opens /dev/null for 0, 1 and 2 */
    } else {
      stdio[i].flags = UV_INHERIT_FD;
      stdio[i].data.fd = i;
    }
  }
  s = calloc(1, sizeof *s);
  if (s == NULL) {
    close_pipes(L, proc);
    return luaL_error(L, "not enough memory");
  }
  s->loop = loop;
  as_list_init(&s->waiters);
  s->child.close = close_spawned;
  s->child.process.data = s;
  memset(&options, 0, sizeof options);
  options.file = spec->argv[0];
  options.args = spec->argv;
  options.env = spec->env;
  options.cwd = spec->cwd;
  options.stdio = stdio;
  options.stdio_count = 3;
  options.exit_cb = on_exit;
  status = as__child_spawn(loop, &s->child, &options);
  if (status != 0) {
    close_pipes(L, proc);
    if (s->child.process.type == UV_PROCESS) uv_close((uv_handle_t *)&s->child.process, on_closed);
    else free(s);
    as__io_error_push(L, status, "process.spawn %s", spec->argv[0]);
    return lua_error(L);
  }
  uv_unref((uv_handle_t *)&s->child.process);   /* no task waits for it yet */
  s->owner = p;
  p->s = s;
  p->pid = s->child.process.pid;
  lua_settop(L, proc);
  return 1;
}

/* ---- waiting, signalling, closing ---- */

/* code, nil when the child exited; nil, the signal's name when a signal
 * ended it (as Node's 'exit' event: such a child has no exit code). */
static int push_end(lua_State *L, int64_t code, int signal) {
  if (signal == 0) {
    lua_pushinteger(L, code);
    lua_pushnil(L);
  } else {
    lua_pushnil(L);
    as__signal_push_name(L, signal);
  }
  return 2;
}

static int wait_push(lua_State *L, as_io_op *op) {
  wait_op *w = (wait_op *)op;
  return push_end(L, w->code, w->signal);
}

/* The waiter is gone: it leaves the child, which runs on. */
static void wait_abort(as_io_op *op) {
  wait_op *w = (wait_op *)op;
  spawned *s = w->s;
  as_list_remove(&w->node);
  if (as_list_empty(&s->waiters)) uv_unref((uv_handle_t *)&s->child.process);
  as__io_op_finish(op);      /* nobody waits: frees it */
}

static void wait_release(as_io_op *op) { free(op); }

static const as_io_op_type WAIT_TYPE = {AS_IO_WAIT("io"), "waiting for a process", wait_push, wait_abort,
                                        wait_release};

int as__process_wait(lua_State *L, as_loop *loop, as_task *t, as_process *p) {
  spawned *s = p->s;
  wait_op *w;
  if (p->exited || s == NULL) return push_end(L, p->code, p->signal);
  if (s->loop != loop) {
    as__error_push(L, "RuntimeError", "process.wait: the process belongs to another run");
    return lua_error(L);
  }
  w = calloc(1, sizeof *w);
  if (w == NULL) return luaL_error(L, "not enough memory");
  as__io_op_init(&w->op, &WAIT_TYPE, loop);
  w->s = s;
  if (as_list_empty(&s->waiters)) uv_ref((uv_handle_t *)&s->child.process);
  as_list_push_back(&s->waiters, &w->node);
  return as__io_op_wait(L, &w->op, t);
}

int as__process_kill(as_process *p, int signum) {
  int status;
  if (p->exited || p->s == NULL || p->s->child.exited) return 0;
  status = uv_process_kill(&p->s->child.process, signum);
  if (status == UV_ESRCH) return 0;
  return status == 0 ? 1 : status;
}

void as__process_close(as_process *p) {
  spawned *s = p->s;
  if (s == NULL || s->child.exited) return;
  uv_close((uv_handle_t *)&s->child.process, on_closed);   /* first: libuv must not reap it too */
  as__child_reap(&s->child);
  ended(s);
}

void as__process_collect(as_process *p) {
  if (p->s) p->s->owner = NULL;
  p->s = NULL;
}
