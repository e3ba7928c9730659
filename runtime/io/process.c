/* process.c -- asched.process.run: a child process via uv_spawn, never
 * through a shell, with its stdout and stderr collected and its stdin fed,
 * while the calling task waits. Cancelling the caller kills the child
 * (SIGKILL); the handles close in their close callbacks and the operation
 * frees itself when the last one has closed. */
#include "process.h"

#include <lauxlib.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

#include "errors.h"
#include "io_op.h"
#include "loop.h"

typedef struct output {
  uv_pipe_t pipe;
  char *data;
  size_t size, capacity;
  struct child *owner;
} output;

typedef struct child {
  as_io_op op;
  as_list node;         /* in loop->children until released */
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
  as_list_remove(&c->node);
  free(c->out.data);
  free(c->err.data);
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
  c->exited = 1;
  c->code = code;
  c->signal = signal;
  close_handle((uv_handle_t *)p);
}

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf) {
  output *o = (output *)h;
  (void)suggested;
  if (o->capacity - o->size < 4096) {
    size_t capacity = o->capacity ? o->capacity * 2 : 16384;
    char *grown = realloc(o->data, capacity);
    if (grown == NULL) {
      *buf = uv_buf_init(NULL, 0);   /* libuv reports UV_ENOBUFS */
      return;
    }
    o->data = grown;
    o->capacity = capacity;
  }
  *buf = uv_buf_init(o->data + o->size, (unsigned)(o->capacity - o->size));
}

static void on_read(uv_stream_t *s, ssize_t n, const uv_buf_t *buf) {
  output *o = (output *)s;
  (void)buf;
  if (n > 0) {
    o->size += (size_t)n;
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

static const as_io_op_type CHILD_TYPE = {"waiting for a process", abort_child, release, "io"};

static void push_output(lua_State *L, const output *o, const char *field) {
  lua_pushlstring(L, o->data ? o->data : "", o->size);
  lua_setfield(L, -2, field);
}

static int run_resumed(lua_State *L, int status, lua_KContext ctx) {
  child *c = (child *)ctx;
  (void)status;
  if (as__io_op_cancelled(L, &c->op)) return lua_error(L);
  lua_settop(L, 0);
  if (c->failed) {
    as__io_op_let_go(L, &c->op);
    return as__error_raise(L, "IOError", "process.run: cannot collect the output: not enough memory");
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
  as__io_op_let_go(L, &c->op);
  return 1;
}

/* ---- reading the arguments ---- */

/* The strings of list `idx` as a NULL-terminated array (a userdata left on
 * the stack), or an argument error naming `what`. uv_spawn copies them. */
static char **string_list(lua_State *L, int idx, const char *what, int arg) {
  lua_Integer i, n = luaL_len(L, idx);
  char **list = lua_newuserdatauv(L, sizeof *list * (size_t)(n + 1), 0);  /* freed by the GC */
  for (i = 1; i <= n; i++) {
    lua_rawgeti(L, idx, i);
    if (lua_type(L, -1) != LUA_TSTRING)
      luaL_argerror(L, arg, lua_pushfstring(L, "%s[%d] must be a string", what, (int)i));
    list[i - 1] = (char *)lua_tostring(L, -1);   /* kept alive by the list itself */
    lua_pop(L, 1);
  }
  list[n] = NULL;
  return list;
}

/* env table {NAME = value} -> "NAME=value" strings kept on the stack. */
static char **env_list(lua_State *L, int idx) {
  int n = 0, base = lua_gettop(L);
  char **list;
  lua_pushnil(L);
  while (lua_next(L, idx)) {
    if (lua_type(L, -2) != LUA_TSTRING || (lua_type(L, -1) != LUA_TSTRING && lua_type(L, -1) != LUA_TNUMBER))
      luaL_argerror(L, 2, "env must map names to strings");
    lua_pushfstring(L, "%s=%s", lua_tostring(L, -2), lua_tostring(L, -1));
    lua_insert(L, -3);
    lua_pop(L, 1);
    n++;
  }
  list = lua_newuserdatauv(L, sizeof *list * (size_t)(n + 1), 0);
  for (int i = 0; i < n; i++) list[i] = (char *)lua_tostring(L, base + 1 + i);
  list[n] = NULL;
  return list;
}

/* run(argv [, {stdin=, cwd=, env=}]) -> {code=, signal=, stdout=, stderr=}. */
int as__process_run(lua_State *L) {
  as_loop *loop = as__loop(L);
  uv_process_options_t options;
  uv_stdio_container_t stdio[3];
  const char *input = NULL;
  size_t input_size = 0;
  char **args, **env = NULL;
  as_task *t;
  child *c;
  int status;
  luaL_checktype(L, 1, LUA_TTABLE);
  if (!lua_isnoneornil(L, 2)) luaL_checktype(L, 2, LUA_TTABLE);
  lua_settop(L, 2);
  t = as__task_check_current(L, loop, "run");
  memset(&options, 0, sizeof options);
  args = string_list(L, 1, "argv", 1);
  if (args[0] == NULL) luaL_argerror(L, 1, "argv must name a program");
  if (lua_istable(L, 2)) {
    if (lua_getfield(L, 2, "stdin") != LUA_TNIL) input = luaL_checklstring(L, -1, &input_size);
    if (lua_getfield(L, 2, "cwd") != LUA_TNIL) options.cwd = luaL_checkstring(L, -1);
    if (lua_getfield(L, 2, "env") != LUA_TNIL) {
      luaL_checktype(L, -1, LUA_TTABLE);
      env = env_list(L, lua_gettop(L));
    }
  }
  c = calloc(1, sizeof *c);
  if (c == NULL || (input && (c->input = malloc(input_size ? input_size : 1)) == NULL)) {
    free(c);
    return luaL_error(L, "not enough memory");
  }
  if (input) memcpy(c->input, input, input_size);
  c->input_size = input_size;
  as__io_op_init(&c->op, &CHILD_TYPE, loop);
  as_list_push_back(&loop->children, &c->node);
  c->out.owner = c->err.owner = c;
  uv_pipe_init(&loop->uv, &c->out.pipe, 0);
  uv_pipe_init(&loop->uv, &c->err.pipe, 0);
  c->out.pipe.data = c->err.pipe.data = c;
  c->open_handles = 2;
  if (input) {
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
  options.file = args[0];
  options.args = args;
  options.env = env;
  options.stdio = stdio;
  options.stdio_count = 3;
  options.exit_cb = on_exit;
  c->process.data = c;
  status = uv_spawn(&loop->uv, &c->process, &options);
  if (status != 0) {
    /* Nothing started: close the pipes; the child frees itself after. */
    c->op.caller = NULL;
    c->exited = 1;                     /* nothing to kill */
    close_handle((uv_handle_t *)&c->out.pipe);
    close_handle((uv_handle_t *)&c->err.pipe);
    if (input) close_handle((uv_handle_t *)&c->in);
    c->open_handles++;                 /* a failed spawn's handle is closed too */
    uv_close((uv_handle_t *)&c->process, on_closed);
    return as__error_raise(L, "IOError", "process.run: %s: %s", args[0], uv_strerror(status));
  }
  c->open_handles++;   /* the process handle, closed in on_exit */
  uv_read_start((uv_stream_t *)&c->out.pipe, on_alloc, on_read);
  uv_read_start((uv_stream_t *)&c->err.pipe, on_alloc, on_read);
  if (input) {
    uv_buf_t buf = uv_buf_init(c->input, (unsigned)input_size);
    c->write_req.data = c;
    if (uv_write(&c->write_req, (uv_stream_t *)&c->in, &buf, 1, on_written) != 0)
      close_handle((uv_handle_t *)&c->in);
  }
  return as__io_op_wait(L, &c->op, t, run_resumed);
}


void as__process_close_all(as_loop *loop) {
  as_list *n;
  for (n = loop->children.next; n != &loop->children; n = n->next) {
    child *c = as_container_of(n, child, node);
    abort_child(&c->op);
    close_handle((uv_handle_t *)&c->process);   /* on_exit will not come */
  }
}
