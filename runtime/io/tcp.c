/* tcp.c -- TCP on the loop (see tcp.h): connect, listen with a task per
 * connection, and streams that read and write -- on a socket, or on a pipe to
 * a child process (as__stream_push_pipe: the same Stream, the same rules).
 *
 * A connection's libuv handle lives in a malloc'd `as_conn`, freed in its close
 * callback; the Lua Stream only points at it. A stream reads only while a
 * task waits for data, so an idle connection does not keep the loop alive
 * (the virtual clock and deadlock detection see it as idle); a listening
 * server does. A read waits until what it asked for is there -- some bytes,
 * a line, the end, an error -- so its waiter is woken once. Every wait is an
 * io_op: a cancelled reader, writer or connector lets go at once. The sockets
 * of a loop are listed in its attachment, closed when the run ends.
 *
 * TLS (tls.h) sits between the socket and the buffer: what is read goes
 * through the engine into `in`, what is written through it to the socket. A
 * client's connect waits for the handshake; a server's connection reads from
 * the start until its handshake ends (a handler that only writes must not
 * stall it), its writes waiting meanwhile in `early_writes`. */
#define _DEFAULT_SOURCE 1   /* SO_REUSEPORT, beside the build's _POSIX_C_SOURCE */
#include "tcp.h"

#include <errno.h>
#include <lauxlib.h>
#include <sys/socket.h>
#include <unistd.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

#include "buffer.h"
#include "dns.h"
#include "errors.h"
#include "io_op.h"
#include "tls.h"

#define READ_CHUNK 65536

/* ---- the sockets of a loop ---- */

/* A node in the loop's socket list, embedded in a connection or a listener;
 * `close` starts closing the one it is in. */
typedef struct socket_node {
  as_list node;
  void (*close)(struct socket_node *self);
} socket_node;

typedef struct sockets {
  as_attachment attachment;
  as_list list;         /* socket_node */
} sockets;

static const char sockets_key = 'T';

static void close_sockets(as_attachment *a, lua_State *L, as_loop *loop) {
  sockets *all = (sockets *)a;
  as_list *n = all->list.next;
  (void)L;
  (void)loop;
  while (n != &all->list) {
    as_list *next = n->next;         /* close callbacks run later, in uv_run */
    socket_node *s = as_container_of(n, socket_node, node);
    s->close(s);
    n = next;
  }
}

static sockets *sockets_of(as_loop *loop) {
  int made;
  sockets *all = (sockets *)as__loop_attachment_make(loop, &sockets_key, sizeof *all, close_sockets,
                                                     NULL, &made);
  if (made) as_list_init(&all->list);
  return all;
}

/* ---- connections ---- */

typedef struct read_op read_op;
typedef struct write_op write_op;
typedef struct connect_op connect_op;

typedef struct as_conn {
  union {               /* a socket, or a child's pipe: both a uv_stream_t */
    uv_tcp_t tcp;
    uv_pipe_t pipe;
  } handle;
  int is_pipe;
  socket_node socket;
  as_loop *loop;
  as_stream *owner;     /* the Lua Stream, or NULL once it is collected */
  as_buffer in;         /* bytes received, not yet read: in.data[start, in.size) */
  size_t start;
  int eof;
  int error;            /* a libuv error code, or 0 */
  int closing;
  read_op *reader;      /* the task waiting for data, or NULL */
  as_tls *tls;          /* the TLS engine, or NULL for plaintext */
  as_buffer raw;        /* TLS: the ciphertext of one read */
  int tls_failed;       /* error is UV_EPROTO; the engine says why */
  connect_op *handshake;/* TLS client: the connect waiting for the handshake */
  as_list early_writes; /* TLS server: write_op waiting for the handshake */
  as_waiter handler;    /* a server's connection: in its handler task's waiters
                           until that task ends (then the stream closes) */
} as_conn;

/* A task waiting for data on `c`. */
struct read_op {
  as_io_op op;
  as_conn *c;           /* NULL once the connection closed under it */
  as_read_mode mode;
  size_t n;
};

static void conn_closed(uv_handle_t *h) {
  as_conn *c = h->data;
  as_list_remove(&c->socket.node);
  as_list_remove(&c->handler.node);     /* still in its handler's waiters, or a no-op */
  if (c->owner) c->owner->c = NULL;
  as_buffer_free(&c->in);
  as_buffer_free(&c->raw);
  as__tls_free(c->tls);
  free(c);
}

static void handshake_ended(as_conn *c);
static void connect_handshake_done(connect_op *k, int status);

/* Wakes the waiting reader, if any: what it waits for is there, or never
 * will be. */
static void wake_reader(as_conn *c) {
  read_op *r = c->reader;
  if (r == NULL) return;
  c->reader = NULL;
  if (c->closing) r->c = NULL;
  as__io_op_finish(&r->op);
}

static void conn_close(as_conn *c) {
  if (c->closing) return;
  c->closing = 1;
  wake_reader(c);                /* it finds the stream closed */
  if (c->tls) {
    if (!c->error) as__tls_close(c->tls, (uv_stream_t *)&c->handle);
    handshake_ended(c);          /* a connect or early writes waiting find it closed */
  }
  if (!uv_is_closing((uv_handle_t *)&c->handle)) uv_close((uv_handle_t *)&c->handle, conn_closed);
}

static void close_conn_node(socket_node *s) { conn_close(as_container_of(s, as_conn, socket)); }

/* A new connection on a TCP socket, or on a pipe when `is_pipe`. */
static as_conn *conn_new(as_loop *loop, int is_pipe) {
  sockets *all = sockets_of(loop);
  as_conn *c = all ? calloc(1, sizeof *c) : NULL;
  if (c == NULL) return NULL;
  c->loop = loop;
  c->is_pipe = is_pipe;
  as_list_init(&c->handler.node);
  as_list_init(&c->early_writes);
  if (is_pipe) {
    uv_pipe_init(&loop->uv, &c->handle.pipe, 0);
    c->handle.pipe.data = c;
  } else {
    uv_tcp_init(&loop->uv, &c->handle.tcp);
    c->handle.tcp.data = c;
  }
  c->socket.close = close_conn_node;
  as_list_push_back(&all->list, &c->socket.node);
  return c;
}

/* The length of the next line in the buffer, including its "\n", or 0. */
static size_t line_length(const as_conn *c) {
  const char *from = c->in.data + c->start;
  const char *at = c->in.data ? memchr(from, '\n', c->in.size - c->start) : NULL;
  return at ? (size_t)(at - from) + 1 : 0;
}

/* Can a read in `mode` be answered now (data, the end, or an error)? */
static int answerable(const as_conn *c, as_read_mode mode) {
  if (c->eof || c->error) return 1;
  if (c->in.size == c->start) return 0;
  return mode == AS_READ_ANY || line_length(c) > 0;
}

/* Where the next read goes: after the buffered data, or, under TLS, into
 * `raw` for the engine. */
static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf) {
  as_conn *c = h->data;
  as_buffer *b = c->tls ? &c->raw : &c->in;
  (void)suggested;
  if (c->start > 0 && c->start == c->in.size) c->start = c->in.size = 0;
  if (c->tls) c->raw.size = 0;
  if (b->capacity - b->size < READ_CHUNK && as_buffer_reserve(b, READ_CHUNK) != 0) {
    *buf = uv_buf_init(NULL, 0);
    return;
  }
  *buf = uv_buf_init(b->data + b->size, (unsigned)(b->capacity - b->size));
}

/* TLS is still shaking hands: the socket is read whatever the tasks do. */
static int handshaking(const as_conn *c) {
  return c->tls && !as__tls_ready(c->tls) && !c->eof && !c->error && !c->closing;
}

/* `n` bytes of ciphertext read: through the engine into `in`; what the
 * engine answers (handshake, alerts) goes out. */
static void tls_received(as_conn *c, size_t n) {
  switch (as__tls_receive(c->tls, c->raw.data, n, &c->in)) {
    case AS_TLS_OK: break;
    case AS_TLS_CLOSED: c->eof = 1; break;
    case AS_TLS_FAILED:
      c->error = UV_EPROTO;
      c->tls_failed = 1;
      break;
  }
  if (as__tls_flush(c->tls, (uv_stream_t *)&c->handle, NULL, NULL) != 0 && !c->error) c->error = UV_EPIPE;
}

static void on_read(uv_stream_t *s, ssize_t n, const uv_buf_t *buf) {
  as_conn *c = s->data;
  int was_handshaking = handshaking(c);
  (void)buf;
  if (n == 0) return;
  if (n > 0 && c->tls) tls_received(c, (size_t)n);
  else if (n > 0) c->in.size += (size_t)n;
  else if (n == UV_EOF) c->eof = 1;
  else c->error = (int)n;
  if (was_handshaking && !handshaking(c)) handshake_ended(c);
  if (handshaking(c)) return;
  if (c->reader == NULL || answerable(c, c->reader->mode)) {
    uv_read_stop(s);
    wake_reader(c);
  }
}

/* Pushes the IOError of a connection that failed, for `opname`. */
static void push_conn_error(lua_State *L, const as_conn *c, const char *opname) {
  if (c->tls_failed) as__io_error_push_reason(L, UV_EPROTO, as__tls_error(c->tls), "%s", opname);
  else as__io_error_push(L, c->error, "%s", opname);
}

/* Pushes an answer to a read in `mode` from the buffer, or raises; returns
 * the number of values (0 at the end of the stream). */
static int take(lua_State *L, as_conn *c, as_read_mode mode, size_t n) {
  size_t available = c->in.size - c->start, line;
  const char *from = c->in.data + c->start;
  if (mode == AS_READ_LINE && (line = line_length(c)) > 0) {
    size_t keep = line > 1 && from[line - 2] == '\r' ? line - 2 : line - 1;
    lua_pushlstring(L, from, keep);
    c->start += line;
    return 1;
  }
  if (available > 0 && (mode == AS_READ_ANY || c->eof)) {
    size_t count = mode == AS_READ_ANY && n > 0 && n < available ? n : available;
    lua_pushlstring(L, from, count);    /* a last line without its newline, too */
    c->start += count;
    return 1;
  }
  if (c->error) {
    push_conn_error(L, c, mode == AS_READ_LINE ? "stream.read_line" : "stream.read");
    return lua_error(L);
  }
  return 0;                              /* the end */
}

static int read_push(lua_State *L, as_io_op *op) {
  read_op *r = (read_op *)op;
  if (r->c == NULL || r->c->closing) {
    as__stream_closed_error(L, r->mode == AS_READ_LINE ? "stream.read_line" : "stream.read");
    return AS_IO_FAILED;
  }
  return take(L, r->c, r->mode, r->n);
}

static void read_release(as_io_op *op) { free(op); }

/* The reader was cancelled: stop reading (data stays buffered for later). */
static void read_abort(as_io_op *op) {
  read_op *r = (read_op *)op;
  if (r->c && r->c->reader == r) {
    r->c->reader = NULL;
    if (!handshaking(r->c)) uv_read_stop((uv_stream_t *)&r->c->handle);
    as__io_op_finish(op);     /* nobody waits: frees it */
  }
}

static const as_io_op_type READ_TYPE = {AS_IO_WAIT("io"), "reading from a socket", read_push,
                                        read_abort, read_release};
static const as_io_op_type PIPE_READ_TYPE = {AS_IO_WAIT("io"), "reading from a pipe", read_push,
                                             read_abort, read_release};

void as__stream_closed_error(lua_State *L, const char *opname) {
  as__error_push(L, "IOError", "%s: the stream is closed", opname);
  lua_pushliteral(L, "EBADF");
  lua_setfield(L, -2, "code");
}

int as__stream_is_open(const as_stream *s) { return s->c != NULL && !s->c->closing; }

int as__stream_read(lua_State *L, as_loop *loop, as_task *t, as_stream *s, as_read_mode mode, size_t n) {
  const char *opname = mode == AS_READ_LINE ? "stream.read_line" : "stream.read";
  as_conn *c = s->c;
  read_op *r;
  int status;
  if (!as__stream_is_open(s)) {
    as__stream_closed_error(L, opname);
    return lua_error(L);
  }
  if (answerable(c, mode)) return take(L, c, mode, n);
  if (c->reader != NULL) {
    as__error_push(L, "RuntimeError", "%s: another task is already reading this stream", opname);
    return lua_error(L);
  }
  r = calloc(1, sizeof *r);
  if (r == NULL) return luaL_error(L, "not enough memory");
  status = uv_read_start((uv_stream_t *)&c->handle, on_alloc, on_read);
  if (status != 0 && status != UV_EALREADY) {
    free(r);
    as__io_error_push(L, status, "%s", opname);
    return lua_error(L);
  }
  as__io_op_init(&r->op, c->is_pipe ? &PIPE_READ_TYPE : &READ_TYPE, loop);
  r->c = c;
  r->mode = mode;
  r->n = n;
  c->reader = r;
  return as__io_op_wait(L, &r->op, t);
}

/* ---- writing ---- */

struct write_op {
  as_io_op op;
  uv_write_t req;
  as_list node;         /* TLS: in early_writes until the handshake ends */
  int status;
  char *reason;         /* why TLS failed (malloc'd), or NULL */
  size_t size;
  char data[];          /* the bytes (TLS: only while they wait in early_writes) */
};

static void write_done(write_op *w, int status) {
  w->status = status;
  as__io_op_finish(&w->op);
}

static void on_written(uv_write_t *req, int status) { write_done(req->data, status); }

static void on_tls_written(void *data, int status) { write_done(data, status); }

/* `w` failed on `c` before it was sent: with the TLS reason, if that was it. */
static void write_failed(as_conn *c, write_op *w, int status) {
  if (status == UV_EPROTO && c->tls_failed) w->reason = strdup(as__tls_error(c->tls));
  write_done(w, status);
}

/* Encrypts the bytes of `w` and sends them; `w` is done when they are
 * written. Returns 0 or a libuv error. */
static int tls_write(as_conn *c, write_op *w, const char *data, size_t size) {
  if (c->error) return c->error;
  if (as__tls_send(c->tls, data, size) != AS_TLS_OK) {
    c->error = UV_EPROTO;
    c->tls_failed = 1;
    return UV_EPROTO;
  }
  return as__tls_flush(c->tls, (uv_stream_t *)&c->handle, on_tls_written, w);
}

static int write_push(lua_State *L, as_io_op *op) {
  write_op *w = (write_op *)op;
  if (w->status == 0) return 0;
  if (w->reason) as__io_error_push_reason(L, w->status, w->reason, "stream.write");
  else as__io_error_push(L, w->status, "stream.write");
  return AS_IO_FAILED;
}

/* A TLS handshake has ended, well or not, or its connection is closing:
 * the connect waiting for it returns, the early writes go out or fail. */
static void handshake_ended(as_conn *c) {
  int status = c->closing ? UV_ECANCELED : c->error ? c->error : c->eof ? UV_ECONNRESET : 0;
  if (c->handshake) {
    connect_op *k = c->handshake;
    c->handshake = NULL;
    connect_handshake_done(k, status);
  }
  while (!as_list_empty(&c->early_writes)) {
    write_op *w = as_container_of(as_list_first(&c->early_writes), write_op, node);
    as_list_remove(&w->node);
    if (status == 0) status = tls_write(c, w, w->data, w->size);
    if (status != 0) write_failed(c, w, status);
  }
}

static void write_release(as_io_op *op) {
  free(((write_op *)op)->reason);
  free(op);
}

/* A cancelled writer: the bytes already handed to libuv go out anyway. */
static const as_io_op_type WRITE_TYPE = {AS_IO_WAIT("io"), "writing to a socket", write_push, NULL,
                                         write_release};
static const as_io_op_type PIPE_WRITE_TYPE = {AS_IO_WAIT("io"), "writing to a pipe", write_push, NULL,
                                              write_release};

/* Under TLS the bytes are copied only while they wait for the handshake. */
int as__stream_write(lua_State *L, as_loop *loop, as_task *t, as_stream *s, const char *data, size_t size) {
  as_conn *c = s->c;
  int early = c && handshaking(c);
  size_t copy = c && c->tls && !early ? 0 : size;
  write_op *w;
  uv_buf_t buf;
  int status;
  if (!as__stream_is_open(s)) {
    as__stream_closed_error(L, "stream.write");
    return lua_error(L);
  }
  if (c->tls && c->error) {
    push_conn_error(L, c, "stream.write");
    return lua_error(L);
  }
  w = malloc(sizeof *w + (copy ? copy : 1));
  if (w == NULL) return luaL_error(L, "not enough memory");
  as__io_ignore_sigpipe();
  memcpy(w->data, data, copy);
  w->size = copy;
  w->status = 0;
  w->reason = NULL;
  w->req.data = w;
  as_list_init(&w->node);
  as__io_op_init(&w->op, c->is_pipe ? &PIPE_WRITE_TYPE : &WRITE_TYPE, loop);
  if (early) {
    as_list_push_back(&c->early_writes, &w->node);
    return as__io_op_wait(L, &w->op, t);
  }
  if (c->tls) {
    status = tls_write(c, w, data, size);
  } else {
    buf = uv_buf_init(w->data, (unsigned)size);
    status = uv_write(&w->req, (uv_stream_t *)&c->handle, &buf, 1, on_written);
  }
  if (status != 0) {
    free(w);
    if (c->tls_failed) push_conn_error(L, c, "stream.write");
    else as__io_error_push(L, status, "stream.write");
    return lua_error(L);
  }
  return as__io_op_wait(L, &w->op, t);
}

void as__stream_close(as_stream *s) {
  if (s->c) conn_close(s->c);
}

void as__stream_collect(as_stream *s) {
  if (s->c == NULL) return;
  s->c->owner = NULL;              /* the close callback must not touch `s` */
  conn_close(s->c);
  s->c = NULL;
}

/* Pushes a new Stream for `c`. */
static void push_stream(lua_State *L, as_conn *c) {
  as_stream *s = lua_newuserdatauv(L, sizeof *s, 0);
  s->c = c;
  c->owner = s;
  luaL_setmetatable(L, AS_STREAM_METATABLE);
}

uv_stream_t *as__stream_push_pipe(lua_State *L, as_loop *loop) {
  /* The Stream first: it is what can raise (memory); then the connection. */
  as_stream *s = lua_newuserdatauv(L, sizeof *s, 0);
  s->c = NULL;
  luaL_setmetatable(L, AS_STREAM_METATABLE);
  s->c = conn_new(loop, 1);
  if (s->c == NULL) luaL_error(L, "not enough memory");
  s->c->owner = s;
  return (uv_stream_t *)&s->c->handle.pipe;
}

/* ---- connecting ---- */

struct connect_op {
  as_io_op op;
  uv_getaddrinfo_t resolve;
  uv_connect_t req;
  as_conn *c;           /* the connection, once resolved */
  as_tls_config *tls;   /* TLS: the client's configuration, or NULL */
  int status;
  int resolving;
  char where[300];      /* "host:port", for messages */
  char host[256];       /* the name TLS checks */
  char port[16];
  char reason[256];     /* why TLS failed */
};

static void connect_release(as_io_op *op) {
  connect_op *k = (connect_op *)op;
  if (k->c) conn_close(k->c);    /* never handed to a Stream */
  as__tls_config_free(k->tls);
  free(k);
}

/* Closing the connection may end the operation (a handshake under way):
 * `k` is not touched after. */
static void connect_abort(as_io_op *op) {
  connect_op *k = (connect_op *)op;
  as_conn *c = k->c;
  if (k->resolving) {
    uv_cancel((uv_req_t *)&k->resolve);
    return;
  }
  k->c = NULL;
  if (c) conn_close(c);   /* the connect callback, or the handshake, then ends it */
}

static int connect_push(lua_State *L, as_io_op *op) {
  connect_op *k = (connect_op *)op;
  if (k->status != 0 && k->reason[0]) {
    as__io_error_push_reason(L, k->status, k->reason, "tcp.connect %s", k->where);
    return AS_IO_FAILED;
  }
  if (k->status != 0) {
    as__io_error_push(L, k->status, "tcp.connect %s", k->where);
    return AS_IO_FAILED;
  }
  push_stream(L, k->c);
  k->c = NULL;
  return 1;
}

static const as_io_op_type CONNECT_TYPE = {AS_IO_WAIT("io"), "connecting", connect_push, connect_abort,
                                           connect_release};

static void connect_handshake_done(connect_op *k, int status) {
  if (status == UV_EPROTO && k->c && k->c->tls_failed)
    snprintf(k->reason, sizeof k->reason, "%s", as__tls_error(k->c->tls));
  k->status = status;
  as__io_op_finish(&k->op);
}

/* Connected: TLS begins its handshake, which ends the operation. */
static int start_tls(connect_op *k) {
  as_conn *c = k->c;
  int status;
  c->tls = as__tls_new(k->tls, k->host);
  if (c->tls == NULL) return UV_ENOMEM;
  if (as__tls_start(c->tls) != AS_TLS_OK) {
    snprintf(k->reason, sizeof k->reason, "%s", as__tls_error(c->tls));
    return UV_EPROTO;
  }
  status = as__tls_flush(c->tls, (uv_stream_t *)&c->handle, NULL, NULL);
  if (status == 0) status = uv_read_start((uv_stream_t *)&c->handle, on_alloc, on_read);
  if (status == 0) c->handshake = k;
  return status;
}

static void on_connected(uv_connect_t *req, int status) {
  connect_op *k = req->data;
  if (status == 0 && k->tls && k->c) {
    status = start_tls(k);
    if (status == 0) return;
  }
  k->status = status;
  as__io_op_finish(&k->op);
}

static void on_resolved(uv_getaddrinfo_t *req, int status, struct addrinfo *res) {
  connect_op *k = req->data;
  k->resolving = 0;
  if (status == 0 && k->op.caller != NULL) {
    k->c = conn_new(k->op.loop, 0);
    if (k->c == NULL) {
      status = UV_ENOMEM;
    } else {
      k->req.data = k;
      status = uv_tcp_connect(&k->req, &k->c->handle.tcp, res->ai_addr, on_connected);
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

int as__tcp_connect(lua_State *L, as_loop *loop, as_task *t, const char *host, int port,
                    const as_tls_client_options *tls) {
  struct addrinfo hints;
  connect_op *k;
  as_tls_config *cfg = NULL;
  char reason[256];
  int status;
  if (tls != NULL && (cfg = as__tls_client_config(tls, &status, reason, sizeof reason)) == NULL) {
    as__io_error_push_reason(L, status, reason, "tcp.connect %s:%d", host, port);
    return lua_error(L);
  }
  k = calloc(1, sizeof *k);
  if (k == NULL) {
    as__tls_config_free(cfg);
    return luaL_error(L, "not enough memory");
  }
  as__io_op_init(&k->op, &CONNECT_TYPE, loop);
  k->tls = cfg;
  snprintf(k->where, sizeof k->where, "%s:%d", host, port);
  snprintf(k->host, sizeof k->host, "%s", host);
  snprintf(k->port, sizeof k->port, "%d", port);
  memset(&hints, 0, sizeof hints);
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  k->resolve.data = k;
  k->resolving = 1;
  status = uv_getaddrinfo(&loop->uv, &k->resolve, on_resolved, host, k->port, &hints);
  if (status != 0) {
    as__tls_config_free(cfg);
    free(k);
    as__io_error_push(L, status, "tcp.connect %s:%d", host, port);
    return lua_error(L);
  }
  return as__io_op_wait(L, &k->op, t);
}

/* ---- listening ---- */

typedef struct as_listener {
  uv_tcp_t handle;
  socket_node socket;
  as_loop *loop;
  int handler_ref;      /* the handler function */
  as_tls_config *tls;   /* TLS: the server's certificate, or NULL */
  as_server *owner;     /* the Lua Server, or NULL once closed or collected */
} as_listener;

static void listener_closed(uv_handle_t *h) {
  as_listener *l = h->data;
  as_list_remove(&l->socket.node);
  luaL_unref(l->loop->L, LUA_REGISTRYINDEX, l->handler_ref);
  as__tls_config_free(l->tls);
  free(l);
}

/* Stops accepting; the handler is released when the handle has closed. */
static void listener_close(as_listener *l) {
  if (l->owner) l->owner->l = NULL;
  l->owner = NULL;
  if (!uv_is_closing((uv_handle_t *)&l->handle)) uv_close((uv_handle_t *)&l->handle, listener_closed);
}

static void close_listener_node(socket_node *s) { listener_close(as_container_of(s, as_listener, socket)); }

/* The handler task ended, however: its stream closes (API.md), so a handler
 * that forgot to close it holds no descriptor until a collection. */
static void handler_ended(lua_State *L, as_loop *loop, as_waiter *w, as_task *finished, int task) {
  (void)L;
  (void)loop;
  (void)finished;
  (void)task;
  conn_close(as_container_of(w, as_conn, handler));
}

static const as_waiter_owner handler_owner = {.done = handler_ended};

/* A TLS server's connection reads from the start: the client speaks first. */
static int start_server_tls(as_conn *c, as_tls_config *cfg) {
  c->tls = as__tls_new(cfg, NULL);
  return c->tls != NULL && uv_read_start((uv_stream_t *)&c->handle, on_alloc, on_read) == 0;
}

static void on_connection(uv_stream_t *s, int status) {
  as_listener *l = s->data;
  lua_State *L = l->loop->L;
  as_task *t;
  as_conn *c;
  if (status != 0 || uv_is_closing((uv_handle_t *)s)) return;
  c = conn_new(l->loop, 0);
  if (c == NULL) return;
  if (uv_accept(s, (uv_stream_t *)&c->handle) != 0 || (l->tls && !start_server_tls(c, l->tls))) {
    conn_close(c);
    return;
  }
  lua_rawgeti(L, LUA_REGISTRYINDEX, l->handler_ref);
  push_stream(L, c);
  t = as__task_spawn(L, l->loop, -2, 1);   /* handler(stream) as a new task */
  lua_pop(L, 1);
  c->handler.owner = &handler_owner;
  as_list_push_back(&t->waiters, &c->handler.node);
}

int as__tcp_is_numeric(const char *host) {
  struct sockaddr_storage addr;
  return as__dns_parse_address(host, 0, &addr) == 0;
}

/* SO_REUSEPORT must come before bind: the socket is made here. */
static int open_reuseport(uv_tcp_t *handle, int family) {
  int one = 1, fd = socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0), status;
  if (fd < 0) return uv_translate_sys_error(errno);
  if (setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one) != 0) {
    status = uv_translate_sys_error(errno);
    close(fd);
    return status;
  }
  status = uv_tcp_open(handle, fd);
  if (status != 0) close(fd);
  return status;
}

int as__tcp_bind_listen(uv_tcp_t *handle, const struct sockaddr_storage *addr, int reuseport,
                        uv_connection_cb on_connection) {
  struct sockaddr_storage bound;
  char name[AS_ADDRESS_MAX];
  int namelen = sizeof bound;
  int status = reuseport ? open_reuseport(handle, addr->ss_family) : 0;
  if (status == 0) status = uv_tcp_bind(handle, (const struct sockaddr *)addr, 0);
  if (status == 0) status = uv_listen((uv_stream_t *)handle, 511, on_connection);
  if (status != 0) return status;
  uv_tcp_getsockname(handle, (struct sockaddr *)&bound, &namelen);
  return as__dns_address_name((struct sockaddr *)&bound, name);
}

int as__tcp_listen(lua_State *L, as_loop *loop, const char *host, int port, int handler, int reuseport,
                   const as_tls_server_options *tls) {
  struct sockaddr_storage addr;
  int status;
  sockets *all = sockets_of(loop);
  as_listener *l;
  as_server *srv;
  as_tls_config *cfg = NULL;
  char reason[256];
  handler = lua_absindex(L, handler);
  status = as__dns_parse_address(host, port, &addr);
  if (status != 0) {
    as__io_error_push(L, status, "tcp.listen %s:%d", host, port);
    return lua_error(L);
  }
  /* The Server first: it is what can raise (memory); then the listener. */
  srv = lua_newuserdatauv(L, sizeof *srv, 0);
  srv->l = NULL;
  srv->port = 0;
  luaL_setmetatable(L, AS_SERVER_METATABLE);
  if (tls != NULL && (cfg = as__tls_server_config(tls, &status, reason, sizeof reason)) == NULL) {
    as__io_error_push_reason(L, status, reason, "tcp.listen %s:%d", host, port);
    return lua_error(L);
  }
  l = all ? calloc(1, sizeof *l) : NULL;
  if (l == NULL) {
    as__tls_config_free(cfg);
    return luaL_error(L, "not enough memory");
  }
  l->loop = loop;
  l->tls = cfg;
  l->handler_ref = LUA_NOREF;
  uv_tcp_init(&loop->uv, &l->handle);
  l->handle.data = l;
  l->socket.close = close_listener_node;
  as_list_push_back(&all->list, &l->socket.node);
  lua_pushvalue(L, handler);
  l->handler_ref = luaL_ref(L, LUA_REGISTRYINDEX);
  status = as__tcp_bind_listen(&l->handle, &addr, reuseport, on_connection);
  if (status < 0) {
    listener_close(l);
    as__io_error_push(L, status, "tcp.listen %s:%d", host, port);
    return lua_error(L);
  }
  srv->l = l;
  srv->port = status;
  l->owner = srv;
  return 1;
}

void as__server_close(as_server *srv) {
  if (srv->l) listener_close(srv->l);
}
