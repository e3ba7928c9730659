/* tcp.c -- asched.tcp: connect(host, port) -> stream; listen(host, port,
 * handler) -> server, running handler(stream) as a task per connection.
 * Streams read([n]), read_line(), write(s) and close() (also <close>).
 *
 * A connection's libuv handle lives in a malloc'd `conn`, freed in its close
 * callback; the Lua Stream only points at it. A stream reads only while a
 * task waits for data, so an idle connection does not keep the loop alive
 * (the virtual clock and deadlock detection see it as idle); a listening
 * server does. Each wait is an io_op (io_op.h): a cancelled reader, writer
 * or connector lets go at once. */
#include "tcp.h"

#include <lauxlib.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

#include "bindings.h"
#include "errors.h"
#include "io_op.h"
#include "loop.h"

#define STREAM "asched.Stream"
#define SERVER "asched.Server"
#define READ_CHUNK 65536

typedef struct stream stream;

typedef struct conn {
  uv_tcp_t handle;
  as_list node;         /* in loop->tcp_handles (first after the handle: see close_all) */
  int is_listener;      /* 0 */
  as_loop *loop;
  stream *owner;        /* the Lua Stream, or NULL once it is collected */
  char *data;           /* bytes received, not yet read: data[start, size) */
  size_t start, size, capacity;
  int eof;
  int error;            /* a libuv error code, or 0 */
  int closing;
  as_io_op *reader;     /* the task waiting for data, or NULL */
} conn;

struct stream {
  conn *c;              /* NULL once closed */
};

/* ---- connections ---- */

static void conn_closed(uv_handle_t *h) {
  conn *c = h->data;
  as_list_remove(&c->node);
  if (c->reader) as__io_op_finish(c->reader);   /* closed by the run's end */
  if (c->owner) c->owner->c = NULL;
  free(c->data);
  free(c);
}

static void conn_close(conn *c) {
  if (c->closing) return;
  c->closing = 1;     /* also when the run's end closed the handle first: */
  if (c->reader) {               /* wake it: it finds the stream closed */
    as_io_op *op = c->reader;
    c->reader = NULL;
    as__io_op_finish(op);
  }
  if (!uv_is_closing((uv_handle_t *)&c->handle)) uv_close((uv_handle_t *)&c->handle, conn_closed);
}

static conn *conn_new(as_loop *loop) {
  conn *c = calloc(1, sizeof *c);
  if (c == NULL) return NULL;
  c->loop = loop;
  uv_tcp_init(&loop->uv, &c->handle);
  c->handle.data = c;
  as_list_push_back(&loop->tcp_handles, &c->node);
  return c;
}

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf) {
  conn *c = h->data;
  (void)suggested;
  if (c->start > 0 && c->start == c->size) c->start = c->size = 0;
  if (c->capacity - c->size < READ_CHUNK) {
    size_t capacity = c->capacity ? c->capacity * 2 : READ_CHUNK * 2;
    char *grown;
    while (capacity - c->size < READ_CHUNK) capacity *= 2;
    grown = realloc(c->data, capacity);
    if (grown == NULL) {
      *buf = uv_buf_init(NULL, 0);
      return;
    }
    c->data = grown;
    c->capacity = capacity;
  }
  *buf = uv_buf_init(c->data + c->size, (unsigned)(c->capacity - c->size));
}

static void on_read(uv_stream_t *s, ssize_t n, const uv_buf_t *buf) {
  conn *c = s->data;
  (void)buf;
  if (n == 0) return;
  if (n > 0) c->size += (size_t)n;
  else if (n == UV_EOF) c->eof = 1;
  else c->error = (int)n;
  uv_read_stop(s);
  if (c->reader) {
    as_io_op *op = c->reader;
    c->reader = NULL;
    as__io_op_finish(op);
  }
}

/* ---- waiting for data ---- */

typedef struct read_wait {
  as_io_op op;
  conn *c;              /* NULL once the connection closed under it */
} read_wait;

static void read_wait_release(as_io_op *op) { free(op); }

static void read_wait_abort(as_io_op *op) {
  read_wait *w = (read_wait *)op;
  if (w->c && w->c->reader == op) {
    w->c->reader = NULL;
    uv_read_stop((uv_stream_t *)&w->c->handle);
    as__io_op_finish(op);     /* nobody waits: frees it */
  }
}

static const as_io_op_type READ_TYPE = {"reading from a socket", read_wait_abort, read_wait_release, "io"};

static stream *check_stream(lua_State *L) { return luaL_checkudata(L, 1, STREAM); }

static conn *check_open(lua_State *L, const char *fname) {
  stream *s = check_stream(L);
  if (s->c == NULL || s->c->closing)
    as__error_raise(L, "IOError", "%s: the stream is closed", fname);
  return s->c;
}

static int raise_io(lua_State *L, const char *fname, int error) {
  return as__error_raise(L, "IOError", "%s: %s", fname, uv_strerror(error));
}

/* Suspends until data, end of stream or an error arrive; `k` tries again. */
static int wait_for_data(lua_State *L, conn *c, lua_KFunction k) {
  as_task *t = as__task_check_current(L, c->loop, "read");
  read_wait *w = calloc(1, sizeof *w);
  int status;
  if (w == NULL) return luaL_error(L, "not enough memory");
  as__io_op_init(&w->op, &READ_TYPE, c->loop);
  w->c = c;
  status = uv_read_start((uv_stream_t *)&c->handle, on_alloc, on_read);
  if (status != 0 && status != UV_EALREADY) {
    free(w);
    return raise_io(L, "read", status);
  }
  c->reader = &w->op;
  return as__io_op_wait(L, &w->op, t, k);
}

/* After a wait: the error to raise if the task was cancelled or the stream
 * closed; else 0 and the conn in *out. */
static int after_wait(lua_State *L, lua_KContext ctx, conn **out) {
  read_wait *w = (read_wait *)ctx;
  if (as__io_op_cancelled(L, &w->op)) return 1;
  as__io_op_let_go(L, &w->op);
  *out = check_stream(L)->c;
  if (*out == NULL || (*out)->closing) {
    as__error_push(L, "IOError", "read: the stream was closed");
    return 1;
  }
  return 0;
}

/* Pushes `n` bytes from the buffer and consumes them. */
static void take(lua_State *L, conn *c, size_t n) {
  lua_pushlstring(L, c->data + c->start, n);
  c->start += n;
}

static int read_step(lua_State *L, conn *c, lua_KFunction k) {
  size_t available = c->size - c->start;
  lua_Integer n = luaL_optinteger(L, 2, 0);
  if (available > 0) {
    take(L, c, n > 0 && (size_t)n < available ? (size_t)n : available);
    return 1;
  }
  if (c->eof) return 0;
  if (c->error) return raise_io(L, "read", c->error);
  return wait_for_data(L, c, k);
}

static int read_resumed(lua_State *L, int status, lua_KContext ctx) {
  conn *c;
  (void)status;
  if (after_wait(L, ctx, &c)) return lua_error(L);
  lua_settop(L, 2);
  return read_step(L, c, read_resumed);
}

/* read([n]) -> up to n bytes (any available, at least one), or nil at the end. */
static int stream_read(lua_State *L) {
  conn *c = check_open(L, "read");
  lua_Integer n = luaL_optinteger(L, 2, 0);
  luaL_argcheck(L, n >= 0, 2, "non-negative integer expected");
  lua_settop(L, 2);
  return read_step(L, c, read_resumed);
}

static int read_line_step(lua_State *L, conn *c, lua_KFunction k) {
  const char *at = c->data ? memchr(c->data + c->start, '\n', c->size - c->start) : NULL;
  if (at != NULL) {
    size_t length = (size_t)(at - (c->data + c->start));
    size_t keep = length > 0 && at[-1] == '\r' ? length - 1 : length;
    lua_pushlstring(L, c->data + c->start, keep);
    c->start += length + 1;
    return 1;
  }
  if (c->eof) {
    if (c->size == c->start) return 0;
    take(L, c, c->size - c->start);   /* the last line, without its newline */
    return 1;
  }
  if (c->error) return raise_io(L, "read_line", c->error);
  return wait_for_data(L, c, k);
}

static int read_line_resumed(lua_State *L, int status, lua_KContext ctx) {
  conn *c;
  (void)status;
  if (after_wait(L, ctx, &c)) return lua_error(L);
  lua_settop(L, 1);
  return read_line_step(L, c, read_line_resumed);
}

/* read_line() -> the next line without its "\n" (or "\r\n"), or nil at the end. */
static int stream_read_line(lua_State *L) {
  conn *c = check_open(L, "read_line");
  lua_settop(L, 1);
  return read_line_step(L, c, read_line_resumed);
}

/* ---- writing ---- */

typedef struct write_op {
  as_io_op op;
  uv_write_t req;
  int status;
  size_t size;
  char data[];
} write_op;

static void on_written(uv_write_t *req, int status) {
  write_op *w = req->data;
  w->status = status;
  as__io_op_finish(&w->op);
}

static void write_release(as_io_op *op) { free(op); }

/* A cancelled writer: the bytes already handed to libuv go out anyway. */
static const as_io_op_type WRITE_TYPE = {"writing to a socket", NULL, write_release, "io"};

static int write_resumed(lua_State *L, int status, lua_KContext ctx) {
  write_op *w = (write_op *)ctx;
  int result;
  (void)status;
  if (as__io_op_cancelled(L, &w->op)) return lua_error(L);
  result = w->status;
  as__io_op_let_go(L, &w->op);
  if (result != 0) return raise_io(L, "write", result);
  return 0;
}


/* write(s): suspends until the bytes are handed to the kernel. */
static int stream_write(lua_State *L) {
  conn *c = check_open(L, "write");
  size_t size;
  const char *data = luaL_checklstring(L, 2, &size);
  as_task *t = as__task_check_current(L, c->loop, "write");
  write_op *w = malloc(sizeof *w + (size ? size : 1));
  uv_buf_t buf;
  int status;
  if (w == NULL) return luaL_error(L, "not enough memory");
  as__io_ignore_sigpipe();
  memcpy(w->data, data, size);
  w->size = size;
  w->status = 0;
  w->req.data = w;
  as__io_op_init(&w->op, &WRITE_TYPE, c->loop);
  buf = uv_buf_init(w->data, (unsigned)size);
  status = uv_write(&w->req, (uv_stream_t *)&c->handle, &buf, 1, on_written);
  if (status != 0) {
    free(w);
    return raise_io(L, "write", status);
  }
  return as__io_op_wait(L, &w->op, t, write_resumed);
}

/* close(): closes the connection; pending reads end. Idempotent. */
static int stream_close(lua_State *L) {
  stream *s = check_stream(L);
  if (s->c) conn_close(s->c);
  return 0;
}

static int stream_gc(lua_State *L) {
  stream *s = check_stream(L);
  if (s->c) {
    s->c->owner = NULL;
    conn_close(s->c);
    s->c = NULL;
  }
  return 0;
}

static int stream_tostring(lua_State *L) {
  stream *s = check_stream(L);
  lua_pushstring(L, s->c && !s->c->closing ? "Stream (open)" : "Stream (closed)");
  return 1;
}

/* Pushes a new Stream for `c`. */
static void push_stream(lua_State *L, conn *c) {
  stream *s = lua_newuserdatauv(L, sizeof *s, 0);
  s->c = c;
  c->owner = s;
  luaL_setmetatable(L, STREAM);
}

/* ---- connecting ---- */

typedef struct connect_op {
  as_io_op op;
  uv_getaddrinfo_t resolve;
  uv_connect_t req;
  conn *c;              /* the connection, once resolved */
  int status;
  int resolving;
  char where[300];      /* "host:port", for messages */
  char port[16];
} connect_op;

static void connect_release(as_io_op *op) {
  connect_op *k = (connect_op *)op;
  if (k->c) conn_close(k->c);    /* never handed to a Stream */
  free(k);
}

static void connect_abort(as_io_op *op) {
  connect_op *k = (connect_op *)op;
  if (k->resolving) uv_cancel((uv_req_t *)&k->resolve);
  else if (k->c) conn_close(k->c);   /* the connect callback then gets UV_ECANCELED */
  k->c = NULL;
}

static const as_io_op_type CONNECT_TYPE = {"connecting", connect_abort, connect_release, "io"};

static void on_connected(uv_connect_t *req, int status) {
  connect_op *k = req->data;
  k->status = status;
  as__io_op_finish(&k->op);
}

static void on_resolved(uv_getaddrinfo_t *req, int status, struct addrinfo *res) {
  connect_op *k = req->data;
  k->resolving = 0;
  if (status == 0 && k->op.caller != NULL) {
    k->c = conn_new(k->op.loop);
    if (k->c == NULL) {
      status = UV_ENOMEM;
    } else {
      k->req.data = k;
      status = uv_tcp_connect(&k->req, &k->c->handle, res->ai_addr, on_connected);
      if (status == 0) {
        uv_freeaddrinfo(res);
        return;
      }
    }
  } else if (status == 0) {
    status = UV_ECANCELED;
  }
  uv_freeaddrinfo(res);
  k->status = status;
  as__io_op_finish(&k->op);
}

static int connect_resumed(lua_State *L, int status, lua_KContext ctx) {
  connect_op *k = (connect_op *)ctx;
  (void)status;
  if (as__io_op_cancelled(L, &k->op)) return lua_error(L);
  if (k->status != 0) {
    lua_pushfstring(L, "connect to %s: %s", k->where, uv_strerror(k->status));
    as__io_op_let_go(L, &k->op);
    as__error_push(L, "IOError", "%s", lua_tostring(L, -1));
    return lua_error(L);
  }
  push_stream(L, k->c);
  k->c = NULL;
  as__io_op_let_go(L, &k->op);
  return 1;
}

static lua_Integer check_port(lua_State *L, int arg) {
  lua_Integer port = luaL_checkinteger(L, arg);
  luaL_argcheck(L, port >= 0 && port <= 65535, arg, "port out of range");
  return port;
}

/* connect(host, port) -> Stream. Suspends while resolving and connecting. */
static int l_connect(lua_State *L) {
  as_loop *loop = as__loop(L);
  const char *host = luaL_checkstring(L, 1);
  lua_Integer port = check_port(L, 2);
  as_task *t = as__task_check_current(L, loop, "connect");
  struct addrinfo hints;
  connect_op *k = calloc(1, sizeof *k);
  int status;
  if (k == NULL) return luaL_error(L, "not enough memory");
  as__io_op_init(&k->op, &CONNECT_TYPE, loop);
  snprintf(k->where, sizeof k->where, "%s:%d", host, (int)port);
  snprintf(k->port, sizeof k->port, "%d", (int)port);
  memset(&hints, 0, sizeof hints);
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  k->resolve.data = k;
  k->resolving = 1;
  status = uv_getaddrinfo(&loop->uv, &k->resolve, on_resolved, host, k->port, &hints);
  if (status != 0) {
    free(k);
    return as__error_raise(L, "IOError", "connect to %s:%d: %s", host, (int)port, uv_strerror(status));
  }
  return as__io_op_wait(L, &k->op, t, connect_resumed);
}

/* ---- listening ---- */

typedef struct listener {
  uv_tcp_t handle;
  as_list node;         /* in loop->tcp_handles */
  int is_listener;      /* 1 */
  as_loop *loop;
  lua_State *L;         /* the loop's state: the handler is released in it */
  int handler_ref;      /* the handler function */
  struct server *owner; /* the Lua Server, or NULL once collected */
} listener;

typedef struct server {
  listener *l;          /* NULL once closed */
  int port;
} server;

static void listener_closed(uv_handle_t *h) {
  listener *l = h->data;
  as_list_remove(&l->node);
  if (l->owner) l->owner->l = NULL;
  luaL_unref(l->L, LUA_REGISTRYINDEX, l->handler_ref);
  free(l);
}

/* Stops accepting; the handler is released when the handle has closed. */
static void listener_close(listener *l) {
  if (l->owner) l->owner->l = NULL;
  l->owner = NULL;
  if (!uv_is_closing((uv_handle_t *)&l->handle)) uv_close((uv_handle_t *)&l->handle, listener_closed);
}

static void on_connection(uv_stream_t *s, int status) {
  listener *l = s->data;
  lua_State *L = l->loop->L;
  conn *c;
  if (status != 0 || uv_is_closing((uv_handle_t *)s)) return;
  c = conn_new(l->loop);
  if (c == NULL) return;
  if (uv_accept(s, (uv_stream_t *)&c->handle) != 0) {
    conn_close(c);
    return;
  }
  lua_rawgeti(L, LUA_REGISTRYINDEX, l->handler_ref);
  push_stream(L, c);
  as__task_spawn(L, l->loop, -2, 1);   /* handler(stream) as a new task */
  lua_pop(L, 1);
}

/* listen(host, port, handler) -> Server. host nil: 127.0.0.1; port 0: any
 * free port (server.port says which). */
static int l_listen(lua_State *L) {
  as_loop *loop = as__loop(L);
  const char *host = luaL_optstring(L, 1, "127.0.0.1");
  lua_Integer port = check_port(L, 2);
  struct sockaddr_storage addr;
  int namelen = sizeof addr, status;
  listener *l;
  server *srv;
  as__check_callable(L, 3);
  if (loop == NULL) return luaL_error(L, "listen: no running loop");
  if (uv_ip4_addr(host, (int)port, (struct sockaddr_in *)&addr) != 0 &&
      uv_ip6_addr(host, (int)port, (struct sockaddr_in6 *)&addr) != 0)
    return luaL_argerror(L, 1, "a numeric IPv4 or IPv6 address expected");
  l = calloc(1, sizeof *l);
  if (l == NULL) return luaL_error(L, "not enough memory");
  l->loop = loop;
  l->L = loop->L;
  l->is_listener = 1;
  uv_tcp_init(&loop->uv, &l->handle);
  l->handle.data = l;
  as_list_push_back(&loop->tcp_handles, &l->node);
  lua_pushvalue(L, 3);
  l->handler_ref = luaL_ref(L, LUA_REGISTRYINDEX);
  status = uv_tcp_bind(&l->handle, (struct sockaddr *)&addr, 0);
  if (status == 0) status = uv_listen((uv_stream_t *)&l->handle, 511, on_connection);
  if (status != 0) {
    listener_close(l);
    return as__error_raise(L, "IOError", "listen on %s:%d: %s", host, (int)port, uv_strerror(status));
  }
  uv_tcp_getsockname(&l->handle, (struct sockaddr *)&addr, &namelen);
  srv = lua_newuserdatauv(L, sizeof *srv, 0);
  srv->l = l;
  srv->port = ntohs(((struct sockaddr_in *)&addr)->sin_port);
  l->owner = srv;
  luaL_setmetatable(L, SERVER);
  return 1;
}

static server *check_server(lua_State *L) { return luaL_checkudata(L, 1, SERVER); }

/* close(): stops accepting; connections already made go on. Idempotent. */
static int server_close(lua_State *L) {
  server *srv = check_server(L);
  if (srv->l) listener_close(srv->l);
  return 0;
}

static int server_index(lua_State *L) {
  server *srv = check_server(L);
  const char *key = luaL_checkstring(L, 2);
  if (strcmp(key, "port") == 0) {
    lua_pushinteger(L, srv->port);
    return 1;
  }
  if (strcmp(key, "close") == 0) {
    lua_pushcfunction(L, server_close);
    return 1;
  }
  return 0;
}

void as__tcp_close_all(as_loop *loop) {
  as_list *n = loop->tcp_handles.next;
  while (n != &loop->tcp_handles) {
    as_list *next = n->next;         /* close callbacks run later, in uv_run */
    conn *c = as_container_of(n, conn, node);
    if (c->is_listener) listener_close(as_container_of(n, listener, node));
    else conn_close(c);
    n = next;
  }
}

void as__open_tcp(lua_State *L) {
  static const luaL_Reg stream_methods[] = {
    {"read", stream_read},
    {"read_line", stream_read_line},
    {"write", stream_write},
    {"close", stream_close},
    {NULL, NULL}
  };
  static const luaL_Reg functions[] = {
    {"connect", l_connect},
    {"listen", l_listen},
    {NULL, NULL}
  };
  as__new_type(L, STREAM, stream_methods, stream_gc);
  luaL_getmetatable(L, STREAM);
  lua_pushcfunction(L, stream_tostring);
  lua_setfield(L, -2, "__tostring");
  lua_pop(L, 1);
  if (luaL_newmetatable(L, SERVER)) {
    lua_pushcfunction(L, server_index);
    lua_setfield(L, -2, "__index");
    lua_pushcfunction(L, server_close);
    lua_setfield(L, -2, "__gc");
    lua_pushcfunction(L, server_close);
    lua_setfield(L, -2, "__close");
  }
  lua_pop(L, 1);
  lua_newtable(L);
  as__set_boxed(L, functions);
  lua_setfield(L, -2, "tcp");
}
