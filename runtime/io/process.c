/* process.c -- a child process via uv_spawn (see process.h). The handles close
 * in their close callbacks and the operation frees itself when the last one
 * has closed. The children of a loop are listed in its attachment, so the
 * run's end kills and reaps every one still running; the pids of all of them
 * are also kept process-wide, so an exit that skips the run's end (os.exit in
 * a task) kills them from an atexit handler. */
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

/* The children of one loop: an attachment made on the first run. */
typedef struct children {
  as_attachment attachment;
  as_list list;           /* child.node */
} children;

typedef struct output {
  uv_pipe_t pipe;
  as_buffer bytes;
  struct child *owner;
} output;

typedef struct child {
  as_io_op op;
  as_list node;         /* in the loop's children until released */
  uv_process_t process;
  output out, err;
  uv_pipe_t in;
  uv_write_t write_req;
  char *input;          /* what to write to stdin, or NULL (stdin is /dev/null) */
  size_t input_size;
  int open_handles;     /* handles not yet closed */
  int exited;
  int64_t code;
  int signal;
  int failed;           /* out of memory while collecting */
} child;

static void release(as_io_op *op) {
  child *c = (child *)op;
  if (c->process.pid > 0) running_remove(c->process.pid);
  as_list_remove(&c->node);
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
  running_remove(p->pid);
  c->exited = 1;
  c->code = code;
  c->signal = signal;
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
  if (!c->exited && c->process.pid > 0) uv_process_kill(&c->process, SIGKILL);
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
  lua_pushinteger(L, c->code);
  lua_setfield(L, -2, "code");
  if (c->signal) {
    lua_pushinteger(L, c->signal);
    lua_setfield(L, -2, "signal");
  }
  push_output(L, &c->out, "stdout");
  push_output(L, &c->err, "stderr");
  return 1;
}

static const as_io_op_type CHILD_TYPE = {AS_IO_WAIT("io"), "waiting for a process", push_result,
                                         abort_child, release};

/* ---- the loop's children ---- */

static const char children_key = 'C';

/* The run is ending: kill every child, close its handles and reap it here
 * (on_exit will not come once the handle is closed). Reaping waits until the
 * child is really gone, so "no child left" holds the moment the run returns;
 * SIGKILL makes that wait short. */
static void close_children(as_attachment *a, lua_State *L, as_loop *loop) {
  children *all = (children *)a;
  as_list *n;
  (void)L;
  (void)loop;
  for (n = all->list.next; n != &all->list; n = n->next) {
    child *c = as_container_of(n, child, node);
    int running = !c->exited && c->process.pid > 0;
    abort_child(&c->op);
    close_handle((uv_handle_t *)&c->process);
    if (running) {
      while (waitpid(c->process.pid, NULL, 0) < 0 && errno == EINTR) {}
      running_remove(c->process.pid);
      c->exited = 1;
    }
  }
}

static children *children_of(as_loop *loop) {
  int made;
  children *all = (children *)as__loop_attachment_make(loop, &children_key, sizeof *all, close_children,
                                                       NULL, &made);
  if (made) as_list_init(&all->list);
  return all;
}

/* ---- starting ---- */

int as__process_run(lua_State *L, as_loop *loop, as_task *t, const as_process_spec *spec) {
  uv_process_options_t options;
  uv_stdio_container_t stdio[3];
  children *all = children_of(loop);
  child *c = calloc(1, sizeof *c);
  int status;
  if (all == NULL || c == NULL || (spec->input && (c->input = malloc(spec->input_size ? spec->input_size : 1)) == NULL)) {
    free(c);
    return luaL_error(L, "not enough memory");
  }
  if (spec->input) memcpy(c->input, spec->input, spec->input_size);
  c->input_size = spec->input_size;
  as__io_op_init(&c->op, &CHILD_TYPE, loop);
  as_list_push_back(&all->list, &c->node);
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
  c->process.data = c;
  status = uv_spawn(&loop->uv, &c->process, &options);
  if (status != 0) {
    /* Nothing started: close the pipes; the child frees itself after. */
    c->exited = 1;                     /* nothing to kill */
    close_handle((uv_handle_t *)&c->out.pipe);
    close_handle((uv_handle_t *)&c->err.pipe);
    if (c->input) close_handle((uv_handle_t *)&c->in);
    c->open_handles++;                 /* a failed spawn's handle is closed too */
    uv_close((uv_handle_t *)&c->process, on_closed);
    as__io_error_push(L, status, "process.run %s", spec->argv[0]);
    return lua_error(L);
  }
  c->open_handles++;   /* the process handle, closed in on_exit */
  running_add(c->process.pid);
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
