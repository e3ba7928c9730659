/* process.c -- the children of a loop, and process.run's child via uv_spawn
 * (see process.h). The handles close in their close callbacks and the
 * operation frees itself when the last one has closed. The children of a
 * loop (process.run's and spawned Processes, subprocess.c) are listed in its
 * attachment, so the run's end kills and reaps every one still running; the
 * pids of all of them are also kept process-wide, so an exit that skips the
 * run's end (os.exit in a task) kills them from an atexit handler. */
#include "process.h"

#include <errno.h>
#include <lauxlib.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <string.h>
#include <uv.h>

#include "buffer.h"
#include "io_op.h"
#include "vec.h"

/* ---- every child still running, process-wide (loops on worker threads too) ---- */

static pthread_mutex_t running_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_once_t atexit_once = PTHREAD_ONCE_INIT;
static uv_pid_t *running;
static size_t running_count, running_capacity;

static void kill_running(void) {
  size_t i;
  pthread_mutex_lock(&running_lock);
  for (i = 0; i < running_count; i++) kill(running[i], SIGKILL);
  pthread_mutex_unlock(&running_lock);
}

static void register_kill_running(void) { atexit(kill_running); }

/* Out of memory, the child is only left out of the atexit kill. */
static void running_add(uv_pid_t pid) {
  uv_pid_t *grown;
  pthread_once(&atexit_once, register_kill_running);
  pthread_mutex_lock(&running_lock);
  grown = as_vec_grow(running, &running_capacity, running_count + 1, sizeof *grown);
  if (grown != NULL) {
    running = grown;
    running[running_count++] = pid;
  }
  pthread_mutex_unlock(&running_lock);
}

/* Called when libuv has reaped it (or the handle is gone): its pid may be
 * reused from then on, so it must not be killed any more. */
static void running_remove(uv_pid_t pid) {
  size_t i;
  pthread_mutex_lock(&running_lock);
  for (i = 0; i < running_count; i++) {
    if (running[i] == pid) {
      running[i] = running[--running_count];
      break;
    }
  }
  pthread_mutex_unlock(&running_lock);
}

/* ---- the children of one loop: an attachment made on the first spawn ---- */

typedef struct children {
  as_attachment attachment;
  as_list list;           /* as_child.node */
} children;

static const char children_key = 'C';

/* The run is ending: each child closes its handles (on_exit will not come
 * once the process handle is closed) and is killed and reaped here. Reaping
 * waits until the child is really gone, so "no child left" holds the moment
 * the run returns; SIGKILL makes that wait short. */
static void close_children(as_attachment *a, lua_State *L, as_loop *loop) {
  children *all = (children *)a;
  as_list *n;
  (void)L;
  (void)loop;
  for (n = all->list.next; n != &all->list; n = n->next) {
    as_child *c = as_container_of(n, as_child, node);
    c->close(c);
    as__child_reap(c);
  }
}

static children *children_of(as_loop *loop) {
  int made;
  children *all = (children *)as__loop_attachment_make(loop, &children_key, sizeof *all, close_children,
                                                       NULL, &made);
  if (made) as_list_init(&all->list);
  return all;
}

int as__child_spawn(as_loop *loop, as_child *c, const uv_process_options_t *options) {
  children *all = children_of(loop);
  int status;
  as_list_init(&c->node);
  c->exited = 1;                       /* until it runs: nothing to kill or reap */
  c->code = 0;
  c->signal = 0;
  if (all == NULL) return UV_ENOMEM;
  status = uv_spawn(&loop->uv, &c->process, options);
  if (status != 0) return status;
  c->exited = 0;
  as_list_push_back(&all->list, &c->node);
  running_add(c->process.pid);
  return 0;
}

void as__child_exited(as_child *c, int64_t code, int signal) {
  running_remove(c->process.pid);
  c->exited = 1;
  c->code = code;
  c->signal = signal;
}

void as__child_reap(as_child *c) {
  pid_t pid = c->process.pid, reaped;
  int status = 0;
  if (c->exited || pid <= 0) return;
  kill(pid, SIGKILL);
  do {
    reaped = waitpid(pid, &status, 0);
  } while (reaped < 0 && errno == EINTR);
  running_remove(pid);
  c->exited = 1;
  /* As libuv reports it: an exit status, or the signal (and code 0). */
  c->code = reaped == pid && WIFEXITED(status) ? WEXITSTATUS(status) : 0;
  c->signal = reaped != pid ? SIGKILL : WIFSIGNALED(status) ? WTERMSIG(status) : 0;
}

void as__child_unlist(as_child *c) { as_list_remove(&c->node); }

/* ---- process.run: a child run to completion, its output collected ---- */

typedef struct output {
  uv_pipe_t pipe;
  as_buffer bytes;
  struct child *owner;
} output;

typedef struct child {
  as_io_op op;
  as_child base;        /* listed in the loop's children until released */
  output out, err;
  uv_pipe_t in;
  uv_write_t write_req;
  char *input;          /* what to write to stdin, or NULL (stdin is /dev/null) */
  size_t input_size;
  int open_handles;     /* handles not yet closed */
  int failed;           /* out of memory while collecting */
} child;

static void release(as_io_op *op) {
  child *c = (child *)op;
  if (!c->base.exited) running_remove(c->base.process.pid);   /* only if never reaped */
  as__child_unlist(&c->base);
  as_buffer_free(&c->out.bytes);
  as_buffer_free(&c->err.bytes);
  free(c->input);
  free(c);
}

/* The operation is over once the child exited and every handle closed. */
static void on_closed(uv_handle_t *h) {
  child *c = h->data;
  if (--c->open_handles == 0) as__io_op_finish(&c->op);
}

static void close_handle(uv_handle_t *h) {
  if (!uv_is_closing(h)) uv_close(h, on_closed);
}

static void on_exit(uv_process_t *p, int64_t code, int signal) {
  child *c = p->data;
  as__child_exited(&c->base, code, signal);
  close_handle((uv_handle_t *)p);
}

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf) {
  output *o = (output *)h;
  (void)suggested;
  if (o->bytes.capacity - o->bytes.size < 4096 && as_buffer_reserve(&o->bytes, 16384) != 0) {
    *buf = uv_buf_init(NULL, 0);   /* libuv reports UV_ENOBUFS */
    return;
  }
  *buf = uv_buf_init(o->bytes.data + o->bytes.size, (unsigned)(o->bytes.capacity - o->bytes.size));
}

static void on_read(uv_stream_t *s, ssize_t n, const uv_buf_t *buf) {
  output *o = (output *)s;
  (void)buf;
  if (n > 0) {
    o->bytes.size += (size_t)n;
    return;
  }
  if (n == 0) return;
  if (n != UV_EOF) o->owner->failed = 1;
  close_handle((uv_handle_t *)s);
}

static void on_written(uv_write_t *req, int status) {
  child *c = req->data;
  (void)status;                 /* a child that does not read its input: EPIPE */
  close_handle((uv_handle_t *)&c->in);
}

/* Nobody waits for the output any more: kill the child and stop reading, so
 * that a grandchild still holding the pipes cannot keep the run alive. */
static void abort_child(as_io_op *op) {
  child *c = (child *)op;
  if (!c->base.exited) uv_process_kill(&c->base.process, SIGKILL);
  close_handle((uv_handle_t *)&c->out.pipe);
  close_handle((uv_handle_t *)&c->err.pipe);
  if (c->input) close_handle((uv_handle_t *)&c->in);
}

static void push_output(lua_State *L, const output *o, const char *field) {
  lua_pushlstring(L, o->bytes.data ? o->bytes.data : "", o->bytes.size);
  lua_setfield(L, -2, field);
}

static int push_result(lua_State *L, as_io_op *op) {
  child *c = (child *)op;
  if (c->failed) {
    as__io_error_push(L, UV_ENOMEM, "process.run: collecting the output");
    return AS_IO_FAILED;
  }
  lua_createtable(L, 0, 4);
  lua_pushinteger(L, c->base.code);
  lua_setfield(L, -2, "code");
  if (c->base.signal) {
    lua_pushinteger(L, c->base.signal);
    lua_setfield(L, -2, "signal");
  }
  push_output(L, &c->out, "stdout");
  push_output(L, &c->err, "stderr");
  return 1;
}

static const as_io_op_type CHILD_TYPE = {AS_IO_WAIT("io"), "waiting for a process", push_result,
                                         abort_child, release};

/* The run is ending: kill the child and close every handle. */
static void close_child(as_child *base) {
  child *c = as_container_of(base, child, base);
  abort_child(&c->op);
  close_handle((uv_handle_t *)&c->base.process);
}

/* ---- starting ---- */

int as__process_run(lua_State *L, as_loop *loop, as_task *t, const as_process_spec *spec) {
  uv_process_options_t options;
  uv_stdio_container_t stdio[3];
  child *c = calloc(1, sizeof *c);
  int status;
  if (c == NULL || (spec->input && (c->input = malloc(spec->input_size ? spec->input_size : 1)) == NULL)) {
    free(c);
    return luaL_error(L, "not enough memory");
  }
  if (spec->input) memcpy(c->input, spec->input, spec->input_size);
  c->input_size = spec->input_size;
  as__io_op_init(&c->op, &CHILD_TYPE, loop);
  as_list_init(&c->base.node);
  c->base.close = close_child;
  c->out.owner = c->err.owner = c;
  uv_pipe_init(&loop->uv, &c->out.pipe, 0);
  uv_pipe_init(&loop->uv, &c->err.pipe, 0);
  c->out.pipe.data = c->err.pipe.data = c;
  c->open_handles = 2;
  memset(&options, 0, sizeof options);
  if (c->input) {
    as__io_ignore_sigpipe();
    uv_pipe_init(&loop->uv, &c->in, 0);
    c->in.data = c;
    c->open_handles++;
    stdio[0].flags = UV_CREATE_PIPE | UV_READABLE_PIPE;
    stdio[0].data.stream = (uv_stream_t *)&c->in;
  } else {
    stdio[0].flags = UV_IGNORE;
  }
  stdio[1].flags = UV_CREATE_PIPE | UV_WRITABLE_PIPE;
  stdio[1].data.stream = (uv_stream_t *)&c->out.pipe;
  stdio[2].flags = UV_CREATE_PIPE | UV_WRITABLE_PIPE;
  stdio[2].data.stream = (uv_stream_t *)&c->err.pipe;
  options.file = spec->argv[0];
  options.args = spec->argv;
  options.env = spec->env;
  options.cwd = spec->cwd;
  options.stdio = stdio;
  options.stdio_count = 3;
  options.exit_cb = on_exit;
  c->base.process.data = c;
  status = as__child_spawn(loop, &c->base, &options);
  if (status != 0) {
    /* Nothing started: close the pipes; the child frees itself after. A
     * failed spawn's handle is closed too, once uv_spawn has opened it. */
    if (c->base.process.type == UV_PROCESS) {
      c->open_handles++;
      uv_close((uv_handle_t *)&c->base.process, on_closed);
    }
    close_handle((uv_handle_t *)&c->out.pipe);
    close_handle((uv_handle_t *)&c->err.pipe);
    if (c->input) close_handle((uv_handle_t *)&c->in);
    as__io_error_push(L, status, "process.run %s", spec->argv[0]);
    return lua_error(L);
  }
  c->open_handles++;   /* the process handle, closed in on_exit */
  uv_read_start((uv_stream_t *)&c->out.pipe, on_alloc, on_read);
  uv_read_start((uv_stream_t *)&c->err.pipe, on_alloc, on_read);
  if (c->input) {
    uv_buf_t buf = uv_buf_init(c->input, (unsigned)c->input_size);
    c->write_req.data = c;
    if (uv_write(&c->write_req, (uv_stream_t *)&c->in, &buf, 1, on_written) != 0)
      close_handle((uv_handle_t *)&c->in);
  }
  return as__io_op_wait(L, &c->op, t);
}
