/* http_server.c -- asched.http.listen (see http_server.h).
 *
 * Ownership: the loop's `servers` attachment lists every listener and every
 * connection. A listener owns its handler (a registry ref) and is freed in
 * its close callback. A connection owns its parser's buffers and its queue of
 * requests; it is freed once its handle has closed and its queue is empty. A
 * request owns its response bytes and is linked, by its `done` waiter, in its
 * handler task's waiters: the task's end builds the response (or, when the
 * connection is gone, frees the request). Whatever is left once libuv has
 * run dry (tasks dropped when memory ran out) is freed by the attachment.
 *
 * HTTPS: a listener with a TLS configuration gives each connection an
 * engine (tls.h) between the socket and the parser: what is read is
 * decrypted before it is parsed, each response encrypted as it goes out. */
#include "http_server.h"

#include <http_parser.h>
#include <lauxlib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <uv.h>

#include "buffer.h"
#include "clock.h"
#include "dns.h"
#include "errors.h"
#include "io_op.h"
#include "task.h"
#include "tcp.h"
#include "tls.h"

#define MAX_QUEUED 32   /* pipelined requests per connection before reading pauses */

typedef struct request request;
typedef struct conn conn;
typedef struct as_http_listener listener;

#define READ_SIZE 65536  /* what one read of a connection takes at most */

typedef struct servers {
  as_attachment base;
  as_list listeners;    /* listener */
  as_list conns;        /* conn */
  /* Every connection reads into this: each read is parsed (and what must
   * wait is copied to `pending`) before the next, so one buffer serves all. */
  char read_buffer[READ_SIZE];
} servers;

struct as_http_listener {
  uv_tcp_t handle;
  as_list node;         /* in servers.listeners */
  as_loop *loop;
  int handler_ref;
  as_http_server *owner; /* the Lua HttpServer, or NULL once closed */
  as_http_options opts;
  as_tls_config *tls;   /* HTTPS: the certificate, or NULL */
};

struct request {
  as_list node;         /* in its connection's queue, oldest first */
  conn *c;
  as_task *task;        /* the handler, NULL once done */
  as_waiter done;       /* in the handler task's waiters */
  as_alarm deadline;    /* opts.timeout */
  int timed_out;
  int ready;            /* `response` holds the whole response */
  int keep_alive;
  int head;             /* a HEAD request: the headers alone */
  as_buffer response;
};

struct conn {
  uv_tcp_t handle;
  as_list node;         /* in servers.conns */
  as_loop *loop;
  servers *all;         /* its loop's servers: the read buffer */
  listener *l;          /* NULL once the listener closed: no more requests */
  as_http_options opts;
  as_tls *tls;          /* HTTPS: the engine, or NULL */
  as_buffer plain;      /* HTTPS: what one read decrypted */
  http_parser parser;
  /* the request being parsed */
  as_buffer url, field, value, headers, body;  /* headers: "name\0value\0"... */
  as_buffer pending;    /* bytes read past a full queue, parsed once it drains */
  int in_value;         /* the parser is in a header value */
  int in_message;       /* a request has begun and is not complete */
  int message_timed;    /* read_deadline counts for that request */
  as_alarm read_deadline; /* a request must arrive whole, an idle one close, in opts.timeout */
  int rejected;         /* 400 or 413 queued: nothing more is read */
  as_list queue;        /* request */
  int queued;
  uv_write_t write;
  int writing;          /* the oldest request's response is being written */
  int reading;
  int closing;          /* close once the queue has drained */
  int handle_closed;    /* uv_close called */
  int freed_handle;     /* its close callback ran */
};

static http_parser_settings settings;

/* ---- the servers of a loop ---- */

static const char servers_key = 'H';

static void conn_close(conn *c);
static void listener_close(listener *l);
static void request_free(request *r);

/* A connection's memory, once its handle has closed and its queue is empty. */
static void conn_free(conn *c) {
  as__tls_free(c->tls);
  as_buffer_free(&c->plain);
  as_buffer_free(&c->pending);
  as_buffer_free(&c->url);
  as_buffer_free(&c->field);
  as_buffer_free(&c->value);
  as_buffer_free(&c->headers);
  as_buffer_free(&c->body);
  free(c);
}

/* The run is ending: every listener and connection closes. */
static void close_servers(as_attachment *a, lua_State *L, as_loop *loop) {
  servers *all = (servers *)a;
  as_list *n, *next;
  (void)L;
  (void)loop;
  for (n = all->listeners.next; n != &all->listeners; n = next) {
    next = n->next;
    listener_close(as_container_of(n, listener, node));
  }
  for (n = all->conns.next; n != &all->conns; n = next) {
    next = n->next;
    conn_close(as_container_of(n, conn, node));
  }
}

/* libuv has run dry: connections still listed kept requests whose tasks
 * were dropped without being told; free them now. */
static void release_servers(as_attachment *a, lua_State *L, as_loop *loop) {
  servers *all = (servers *)a;
  as_list *n;
  (void)L;
  (void)loop;
  while ((n = as_list_first(&all->conns)) != NULL) {
    conn *c = as_container_of(n, conn, node);
    as_list *r;
    as_list_remove(n);
    while ((r = as_list_first(&c->queue)) != NULL) request_free(as_container_of(r, request, node));
    conn_free(c);
  }
  free(a);
}

static servers *servers_of(as_loop *loop) {
  int made;
  servers *all = (servers *)as__loop_attachment_make(loop, &servers_key, sizeof *all, close_servers,
                                                      release_servers, &made);
  if (all != NULL && made) {
    as_list_init(&all->listeners);
    as_list_init(&all->conns);
  }
  return all;
}

/* ---- requests ---- */

static void request_free(request *r) {
  as_list_remove(&r->node);
  as_list_remove(&r->done.node);
  as__alarm_stop(r->c->loop, &r->deadline);
  r->c->queued--;
  as_buffer_free(&r->response);
  free(r);
}

static const char *reason(int status) {
  const char *s = http_status_str((enum http_status)status);
  return strcmp(s, "<unknown>") == 0 ? "Unknown" : s;
}

/* A header name or value may not carry a line break (response splitting). */
static int header_safe(const char *s, size_t n) {
  return memchr(s, '\r', n) == NULL && memchr(s, '\n', n) == NULL;
}

static int is_named(const char *s, size_t n, const char *name) {
  return strlen(name) == n && strncasecmp(s, name, n) == 0;
}

/* Appends the decimal digits of n. */
static int append_decimal(as_buffer *b, size_t n) {
  char digits[24];
  size_t i = sizeof digits;
  do {
    digits[--i] = (char)('0' + n % 10);
    n /= 10;
  } while (n > 0);
  return as_buffer_append(b, digits + i, sizeof digits - i);
}

static int append_text(as_buffer *b, const char *s) { return as_buffer_append(b, s, strlen(s)); }

/* Room for a response line, a few headers and the framing, with the body:
 * most responses are then formatted with no second allocation. */
#define RESPONSE_HEAD_GUESS 256

/* Fills r->response with status, the headers table at `headers` (0: none),
 * and the body. Returns 0, or -1 (out of memory, or a header not a string
 * or with a line break: the caller answers 500). Allocates nothing in Lua. */
static int format_response(lua_State *L, request *r, int status, int headers, const char *body, size_t size) {
  as_buffer *b = &r->response;
  b->size = 0;
  if (as_buffer_reserve(b, RESPONSE_HEAD_GUESS + (r->head ? 0 : size)) != 0 || append_text(b, "HTTP/1.1 ") ||
      append_decimal(b, (size_t)status) || append_text(b, " ") || append_text(b, reason(status)) ||
      append_text(b, "\r\n"))
    return -1;
  if (headers != 0) {
    lua_pushnil(L);
    while (lua_next(L, headers) != 0) {
      size_t nn, vn;
      const char *name, *value;
      if (lua_type(L, -2) != LUA_TSTRING || lua_type(L, -1) != LUA_TSTRING) {
        lua_pop(L, 2);
        return -1;
      }
      name = lua_tolstring(L, -2, &nn);
      value = lua_tolstring(L, -1, &vn);
      if (!header_safe(name, nn) || !header_safe(value, vn) || nn == 0) {
        lua_pop(L, 2);
        return -1;
      }
      /* The framing is ours to say. */
      if (!is_named(name, nn, "content-length") && !is_named(name, nn, "transfer-encoding") &&
          !is_named(name, nn, "connection")) {
        if (as_buffer_append(b, name, nn) || as_buffer_append(b, ": ", 2) || as_buffer_append(b, value, vn) ||
            as_buffer_append(b, "\r\n", 2)) {
          lua_pop(L, 2);
          return -1;
        }
      }
      lua_pop(L, 1);
    }
  }
  if (append_text(b, "Content-Length: ") || append_decimal(b, size) ||
      append_text(b, r->keep_alive ? "\r\nConnection: keep-alive\r\n\r\n" : "\r\nConnection: close\r\n\r\n"))
    return -1;
  return r->head ? 0 : as_buffer_append(b, body, size);
}

/* A fixed response: 400, 413, 500, 503. */
static void plain_response(request *r, int status) {
  const char *text = reason(status);
  char line[160];
  int n = snprintf(line, sizeof line, "HTTP/1.1 %d %s\r\nContent-Type: text/plain\r\nContent-Length: %zu\r\n"
                   "Connection: %s\r\n\r\n%s\n", status, text, strlen(text) + 1,
                   r->keep_alive ? "keep-alive" : "close", text);
  r->response.size = 0;
  if (as_buffer_append(&r->response, line, (size_t)n) != 0) r->keep_alive = 0;   /* nothing to send: close */
  r->ready = 1;
}

/* The handler returned status, body [, headers] (at `first` .. top). */
static void handler_response(lua_State *L, request *r, int first, int count) {
  lua_Integer status;
  const char *body = "";
  size_t size = 0;
  char number[64];
  int headers = 0, isnum;
  status = lua_tointegerx(L, first, &isnum);
  if (!isnum || status < 100 || status > 599) {
    as__report("http.listen: a handler returned no status (an integer 100-599); the client got 500", NULL);
    plain_response(r, 500);
    return;
  }
  if (count >= 2) {
    int t = lua_type(L, first + 1);
    if (t == LUA_TSTRING) {
      body = lua_tolstring(L, first + 1, &size);
    } else if (t == LUA_TNUMBER) {   /* formatted here: lua_tolstring would allocate */
      if (lua_isinteger(L, first + 1)) snprintf(number, sizeof number, LUA_INTEGER_FMT, lua_tointeger(L, first + 1));
      else snprintf(number, sizeof number, LUA_NUMBER_FMT, lua_tonumber(L, first + 1));
      body = number;
      size = strlen(number);
    } else if (t != LUA_TNIL) {
      as__report("http.listen: a handler returned a body that is not a string; the client got 500", NULL);
      plain_response(r, 500);
      return;
    }
  }
  if (count >= 3 && !lua_isnil(L, first + 2)) {
    if (!lua_istable(L, first + 2)) {
      as__report("http.listen: a handler returned headers that are not a table; the client got 500", NULL);
      plain_response(r, 500);
      return;
    }
    headers = first + 2;
  }
  if (format_response(L, r, (int)status, headers, body, size) != 0) {
    as__report("http.listen: a handler returned a header that is not a string name and value without "
               "line breaks (or memory ran out); the client got 500", NULL);
    plain_response(r, 500);
    return;
  }
  r->ready = 1;
}

/* The handler failed: 500, and its error and traceback on stderr. */
static void handler_failed(lua_State *L, request *r, int task, as_task *t) {
  char msg[128];
  lua_getiuservalue(L, task, 1);                 /* the failure record */
  lua_pushboolean(L, 1);
  lua_setfield(L, -2, "retrieved");              /* reported here, not again at the end */
  lua_getfield(L, -1, "traceback");
  snprintf(msg, sizeof msg, "HTTP handler task-%u failed; the client got 500:", (unsigned)t->id);
  as__report(msg, lua_tostring(L, -1));
  lua_pop(L, 2);
  plain_response(r, 500);
}

static void flush(conn *c);
static void reject(conn *c, int status);

/* The handler task ended, however: its response is ready (or the request
 * goes, when the connection has). */
static void handler_done(lua_State *L, as_loop *loop, as_waiter *w, as_task *t, int task) {
  request *r = as_container_of(w, request, done);
  conn *c = r->c;
  int top = lua_gettop(L);
  (void)loop;
  as__alarm_stop(c->loop, &r->deadline);
  r->task = NULL;
  if (c->handle_closed) {
    request_free(r);
    if (c->freed_handle && as_list_empty(&c->queue)) conn_close(c);   /* frees it */
    return;
  }
  if (c->closing) r->keep_alive = 0;   /* the server is closing: say so */
  if (t->outcome == AS_OUTCOME_OK) {
    int n = t->nvalues;
    lua_getiuservalue(L, task, 1);
    if (n == 1) {
      handler_response(L, r, top + 1, 1);
    } else if (n > 1 && lua_checkstack(L, 3)) {
      int i;
      for (i = 1; i <= 3 && i <= n; i++) lua_rawgeti(L, top + 1, i);
      handler_response(L, r, top + 2, n < 3 ? n : 3);
    } else {
      as__report("http.listen: a handler returned no status; the client got 500", NULL);
      plain_response(r, 500);
    }
  } else if (t->outcome == AS_OUTCOME_ERROR) {
    handler_failed(L, r, task, t);
  } else {
    plain_response(r, 503);   /* past opts.timeout, or the run is ending */
  }
  lua_settop(L, top);
  flush(c);
}

static const as_waiter_owner handler_owner = {.done = handler_done};

/* opts.timeout has passed: the handler is cancelled, and the client gets 503. */
static void deadline_passed(as_alarm *a, lua_State *L, as_loop *loop) {
  request *r = as_container_of(a, request, deadline);
  if (r->task == NULL) return;
  r->timed_out = 1;
  as__error_push(L, "CancelledError", "the HTTP request timed out");
  as__task_cancel(L, loop, r->task);
}

/* ---- connections ---- */

/* The client took too long: to send a whole request (408), or to send
 * another on an idle keep-alive connection (closed quietly). */
static void read_deadline_passed(as_alarm *a, lua_State *L, as_loop *loop) {
  conn *c = as_container_of(a, conn, read_deadline);
  (void)L;
  (void)loop;
  if (c->handle_closed) return;
  if (c->in_message) reject(c, 408);
  else if (as_list_empty(&c->queue)) conn_close(c);
}

static void arm_read_deadline(conn *c) {
  as__alarm_stop(c->loop, &c->read_deadline);
  if (c->opts.timeout != AS_NEVER && !c->handle_closed)
    as__alarm_start(c->loop, &c->read_deadline, as__loop_now(c->loop) + c->opts.timeout);
}

static void reset_message(conn *c) {
  c->url.size = c->field.size = c->value.size = c->headers.size = c->body.size = 0;
  c->in_value = 0;
}

static void conn_closed(uv_handle_t *h) {
  conn *c = h->data;
  c->freed_handle = 1;
  if (!as_list_empty(&c->queue)) return;   /* the last handler's end frees it */
  as_list_remove(&c->node);
  conn_free(c);
}

/* Closes the connection: handlers still running are cancelled (the client
 * is gone), and the connection is freed once they have all ended. */
static void conn_close(conn *c) {
  as_list *n;
  if (c->freed_handle) {
    if (as_list_empty(&c->queue)) conn_closed((uv_handle_t *)&c->handle);
    return;
  }
  if (c->handle_closed) return;
  c->handle_closed = 1;
  as__alarm_stop(c->loop, &c->read_deadline);
  if (c->tls) as__tls_close(c->tls, (uv_stream_t *)&c->handle);
  for (n = c->queue.next; n != &c->queue; n = n->next) {
    request *r = as_container_of(n, request, node);
    if (r->task != NULL) {
      as__error_push(c->loop->L, "CancelledError", "the HTTP client disconnected");
      as__task_cancel(c->loop->L, c->loop, r->task);
    }
  }
  uv_close((uv_handle_t *)&c->handle, conn_closed);
}

/* The oldest response has gone out (or failed): the next one, or the end. */
static void written(conn *c, int status) {
  request *r = as_container_of(as_list_first(&c->queue), request, node);
  int keep = r->keep_alive && status == 0;
  c->writing = 0;
  request_free(r);
  if (c->handle_closed) {
    if (c->freed_handle && as_list_empty(&c->queue)) conn_close(c);
    return;
  }
  if (!keep) {
    conn_close(c);
    return;
  }
  flush(c);
}

static void on_written(uv_write_t *req, int status) { written(req->data, status); }

static void on_tls_written(void *data, int status) { written(data, status); }

/* HTTPS: the oldest response, encrypted, goes out. */
static void tls_write(conn *c, request *r) {
  if (as__tls_send(c->tls, r->response.data, r->response.size) != AS_TLS_OK ||
      as__tls_flush(c->tls, (uv_stream_t *)&c->handle, on_tls_written, c) != 0) {
    conn_close(c);
    return;
  }
  c->writing = 1;
}

static void on_read(uv_stream_t *s, ssize_t n, const uv_buf_t *buf);
static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf);
static void feed(conn *c, const char *data, size_t n);

/* The queue has room: the bytes left over from a full queue first, then the
 * socket again (unless those filled the queue once more). */
static void resume_reading(conn *c) {
  if (c->pending.size > 0) {
    as_buffer pending = c->pending;
    c->pending.data = NULL;
    c->pending.size = c->pending.capacity = 0;
    feed(c, pending.data, pending.size);
    as_buffer_free(&pending);
    if (c->handle_closed || c->pending.size > 0 || c->closing || c->rejected) return;
  }
  c->reading = uv_read_start((uv_stream_t *)&c->handle, on_alloc, on_read) == 0;
}

/* Writes the oldest response when it is ready; reads again when the queue
 * has room; closes a closing connection once its queue has drained. */
static void flush(conn *c) {
  request *r;
  uv_buf_t buf;
  int sent;
  if (c->handle_closed || c->writing) return;
  if (as_list_empty(&c->queue) && !c->reading && !c->closing && !c->rejected) resume_reading(c);
  if (as_list_empty(&c->queue)) {
    if (c->closing || c->rejected) conn_close(c);
    else if (!c->in_message) arm_read_deadline(c);   /* idle: the next request has opts.timeout to come */
    return;
  }
  if (!c->reading && !c->closing && !c->rejected && c->queued < MAX_QUEUED) resume_reading(c);
  r = as_container_of(as_list_first(&c->queue), request, node);
  if (!r->ready) return;
  if (c->closing) r->keep_alive = 0;
  if (c->tls) {
    tls_write(c, r);
    return;
  }
  buf = uv_buf_init(r->response.data, (unsigned)r->response.size);
  /* Most responses fit the socket's buffer: written at once, with no round
   * through the loop and no epoll change (one system call fewer each). */
  sent = uv_try_write((uv_stream_t *)&c->handle, &buf, 1);
  if (sent == (int)buf.len) {
    written(c, 0);
    return;
  }
  if (sent > 0) {
    buf.base += sent;
    buf.len -= (unsigned)sent;
  } else if (sent != UV_EAGAIN) {
    conn_close(c);
    return;
  }
  c->write.data = c;
  if (uv_write(&c->write, (uv_stream_t *)&c->handle, &buf, 1, on_written) != 0) {
    conn_close(c);
    return;
  }
  c->writing = 1;
}

static request *request_new(conn *c) {
  request *r = calloc(1, sizeof *r);
  if (r == NULL) return NULL;
  r->c = c;
  as_list_init(&r->done.node);
  r->done.owner = &handler_owner;
  r->deadline.fire = deadline_passed;
  as_list_push_back(&c->queue, &r->node);
  c->queued++;
  return r;
}

/* A request that gets a fixed answer and ends the connection (400, 413). */
static void reject(conn *c, int status) {
  request *r;
  c->rejected = 1;
  if (c->reading) uv_read_stop((uv_stream_t *)&c->handle);
  c->reading = 0;
  r = request_new(c);
  if (r == NULL) {
    conn_close(c);
    return;
  }
  plain_response(r, status);
  flush(c);
}

/* Pushes the request table of the message just parsed. */
static void push_request(lua_State *L, conn *c) {
  struct http_parser_url u;
  const char *p;
  lua_createtable(L, 0, 5);
  lua_pushstring(L, http_method_str((enum http_method)c->parser.method));
  lua_setfield(L, -2, "method");
  http_parser_url_init(&u);
  http_parser_parse_url(c->url.data, c->url.size, c->parser.method == HTTP_CONNECT, &u);
  if (u.field_set & (1 << UF_PATH))
    lua_pushlstring(L, c->url.data + u.field_data[UF_PATH].off, u.field_data[UF_PATH].len);
  else
    lua_pushliteral(L, "/");
  lua_setfield(L, -2, "path");
  if (u.field_set & (1 << UF_QUERY)) {
    lua_pushlstring(L, c->url.data + u.field_data[UF_QUERY].off, u.field_data[UF_QUERY].len);
    lua_setfield(L, -2, "query");
  }
  lua_newtable(L);
  for (p = c->headers.data; p != NULL && p < c->headers.data + c->headers.size;) {
    const char *value = p + strlen(p) + 1;
    lua_getfield(L, -1, p);
    if (lua_isnil(L, -1)) {                 /* a repeated header joins with ", " */
      lua_pop(L, 1);
      lua_pushstring(L, value);
    } else {
      lua_pushliteral(L, ", ");
      lua_pushstring(L, value);
      lua_concat(L, 3);
    }
    lua_setfield(L, -2, p);
    p = value + strlen(value) + 1;
  }
  lua_setfield(L, -2, "headers");
  lua_pushlstring(L, c->body.data ? c->body.data : "", c->body.size);
  lua_setfield(L, -2, "body");
}

/* (conn, request) -> spawns handler(req): in a protected call, since it
 * allocates, from inside libuv's and the parser's callbacks. */
static int spawn_handler(lua_State *L) {
  conn *c = lua_touserdata(L, 1);
  request *r = lua_touserdata(L, 2);
  lua_settop(L, 0);
  lua_rawgeti(L, LUA_REGISTRYINDEX, c->l->handler_ref);
  push_request(L, c);
  r->task = as__task_spawn(L, c->loop, 1, 1);
  as_list_push_back(&r->task->waiters, &r->done.node);
  if (c->opts.timeout != AS_NEVER) as__alarm_start(c->loop, &r->deadline, as__loop_now(c->loop) + c->opts.timeout);
  return 0;
}

/* ---- parsing (http-parser's callbacks; non-zero stops the parser) ---- */

static int append(as_buffer *b, const char *at, size_t n) { return as_buffer_append(b, at, n) != 0; }

/* The header whose name and value were just read, lower-cased, into headers. */
static int commit_header(conn *c) {
  size_t i;
  if (c->field.size == 0) return 0;
  for (i = 0; i < c->field.size; i++)
    if (c->field.data[i] >= 'A' && c->field.data[i] <= 'Z') c->field.data[i] += 'a' - 'A';
  if (memchr(c->field.data, '\0', c->field.size) || (c->value.size && memchr(c->value.data, '\0', c->value.size)))
    return 1;   /* a NUL in a header: malformed */
  if (append(&c->headers, c->field.data, c->field.size) || append(&c->headers, "", 1) ||
      (c->value.size && append(&c->headers, c->value.data, c->value.size)) || append(&c->headers, "", 1))
    return 1;
  c->field.size = c->value.size = 0;
  c->in_value = 0;
  return 0;
}

static conn *conn_of(http_parser *p) { return p->data; }

/* The request's deadline is set once its bytes run out unfinished (see
 * feed): most requests arrive whole in one read and never need one. */
static int on_message_begin(http_parser *p) {
  conn *c = conn_of(p);
  reset_message(c);
  c->in_message = 1;
  c->message_timed = 0;
  return 0;
}

static int on_url(http_parser *p, const char *at, size_t n) { return append(&conn_of(p)->url, at, n); }

static int on_header_field(http_parser *p, const char *at, size_t n) {
  conn *c = conn_of(p);
  if (c->in_value && commit_header(c)) return 1;
  return append(&c->field, at, n);
}

static int on_header_value(http_parser *p, const char *at, size_t n) {
  conn *c = conn_of(p);
  c->in_value = 1;
  return append(&c->value, at, n);
}

static int on_headers_complete(http_parser *p) {
  conn *c = conn_of(p);
  if (commit_header(c)) return -1;
  if ((p->flags & F_CONTENTLENGTH) && p->content_length > c->opts.max_body) {
    reject(c, 413);
    return -1;
  }
  return 0;
}

static int on_body(http_parser *p, const char *at, size_t n) {
  conn *c = conn_of(p);
  if (c->body.size + n > c->opts.max_body) {   /* chunked, past max_body */
    reject(c, 413);
    return 1;
  }
  return append(&c->body, at, n);
}

static int on_message_complete(http_parser *p) {
  conn *c = conn_of(p);
  lua_State *L = c->loop->L;
  request *r;
  c->in_message = 0;
  as__alarm_stop(c->loop, &c->read_deadline);
  r = request_new(c);
  if (r == NULL) return 1;
  r->keep_alive = http_should_keep_alive(p) && !c->closing && c->l != NULL;
  r->head = p->method == HTTP_HEAD;
  if (c->l == NULL) {                       /* the server closed meanwhile */
    plain_response(r, 503);
    c->closing = 1;
    return 1;
  }
  lua_pushcfunction(L, spawn_handler);
  lua_pushlightuserdata(L, c);
  lua_pushlightuserdata(L, r);
  if (lua_pcall(L, 2, 0, 0) != LUA_OK) {    /* out of memory: 500 */
    lua_pop(L, 1);
    r->keep_alive = 0;
    plain_response(r, 500);
  }
  if (!r->keep_alive) {                     /* nothing after it is read */
    c->closing = 1;
    return 1;
  }
  if (c->queued >= MAX_QUEUED) http_parser_pause(p, 1);
  return 0;
}

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf) {
  conn *c = h->data;
  (void)suggested;
  *buf = uv_buf_init(c->all->read_buffer, READ_SIZE);
}

/* Parses `n` bytes: requests start their handlers; a malformed one gets 400.
 * When the queue fills, the parser pauses and the rest waits in `pending`. */
static void feed(conn *c, const char *data, size_t n) {
  size_t done;
  enum http_errno e;
  if (c->rejected || c->closing || n == 0) return;
  done = http_parser_execute(&c->parser, &settings, data, n);
  e = HTTP_PARSER_ERRNO(&c->parser);
  /* A request begun in this read and left unfinished has opts.timeout,
   * from now, to arrive whole (not renewed by its later bytes). */
  if (c->in_message && !c->message_timed && e == HPE_OK) {
    c->message_timed = 1;
    arm_read_deadline(c);
  }
  if (e == HPE_PAUSED) {
    http_parser_pause(&c->parser, 0);
    if (c->reading) uv_read_stop((uv_stream_t *)&c->handle);
    c->reading = 0;
    if (done < n && as_buffer_append(&c->pending, data + done, n - done) != 0) c->closing = 1;
  } else if (e != HPE_OK && !c->rejected && !c->closing) {
    reject(c, 400);
  }
  if (c->closing && c->reading) {
    uv_read_stop((uv_stream_t *)&c->handle);
    c->reading = 0;
  }
}

/* HTTPS: `n` bytes of ciphertext through the engine, and what it
 * decrypted to the parser; what the engine answers (handshake, alerts) goes
 * out. Returns 0 when the session has ended or failed. */
static int tls_feed(conn *c, const char *data, size_t n) {
  as_tls_status status = as__tls_receive(c->tls, data, n, &c->plain);
  if (as__tls_flush(c->tls, (uv_stream_t *)&c->handle, NULL, NULL) != 0) status = AS_TLS_FAILED;
  feed(c, c->plain.data, c->plain.size);
  c->plain.size = 0;
  return status == AS_TLS_OK;
}

static void on_read(uv_stream_t *s, ssize_t n, const uv_buf_t *buf) {
  conn *c = s->data;
  int open = n >= 0;                        /* n < 0: the client went away */
  if (open && c->tls) open = tls_feed(c, buf->base, (size_t)n);
  else if (open) feed(c, buf->base, (size_t)n);
  if (!open) conn_close(c);
  else if (!c->handle_closed) flush(c);
}

/* ---- listeners ---- */

static void listener_closed(uv_handle_t *h) {
  listener *l = h->data;
  as_list_remove(&l->node);
  luaL_unref(l->loop->L, LUA_REGISTRYINDEX, l->handler_ref);
  as__tls_config_free(l->tls);
  free(l);
}

/* Stops accepting; idle connections close now, busy ones once drained. */
static void listener_close(listener *l) {
  servers *all = servers_of(l->loop);
  as_list *n, *next;
  if (l->owner) l->owner->l = NULL;
  l->owner = NULL;
  if (uv_is_closing((uv_handle_t *)&l->handle)) return;
  uv_close((uv_handle_t *)&l->handle, listener_closed);
  for (n = all->conns.next; n != &all->conns; n = next) {
    conn *c = as_container_of(n, conn, node);
    next = n->next;
    if (c->l != l) continue;
    c->l = NULL;
    c->closing = 1;   /* what it reads now is dropped; it reads on, to see a client go */
    flush(c);         /* an idle one closes now */
  }
}

static void on_connection(uv_stream_t *s, int status) {
  listener *l = s->data;
  servers *all = servers_of(l->loop);
  conn *c;
  if (status != 0 || uv_is_closing((uv_handle_t *)s) || all == NULL) return;
  c = calloc(1, sizeof *c);
  if (c == NULL) return;
  c->loop = l->loop;
  c->all = all;
  c->l = l;
  c->opts = l->opts;
  c->read_deadline.fire = read_deadline_passed;
  as_list_init(&c->queue);
  uv_tcp_init(&l->loop->uv, &c->handle);
  c->handle.data = c;
  as_list_push_back(&all->conns, &c->node);
  http_parser_init(&c->parser, HTTP_REQUEST);
  c->parser.data = c;
  if (l->tls) c->tls = as__tls_new(l->tls, NULL);
  if (uv_accept(s, (uv_stream_t *)&c->handle) != 0 || (l->tls && c->tls == NULL)) {
    conn_close(c);
    return;
  }
  uv_tcp_nodelay(&c->handle, 1);
  flush(c);   /* starts reading */
}

int as__http_listen(lua_State *L, as_loop *loop, const char *host, int port, int handler,
                    const as_http_options *opts, const as_tls_server_options *tls) {
  struct sockaddr_storage addr;
  as_tls_config *cfg = NULL;
  char reason[256];
  int status;
  servers *all = servers_of(loop);
  as_http_server *srv;
  listener *l;
  handler = lua_absindex(L, handler);
  status = as__dns_parse_address(host, port, &addr);
  if (status != 0) {
    as__io_error_push(L, status, "http.listen %s:%d", host, port);
    return lua_error(L);
  }
  as__io_ignore_sigpipe();
  settings.on_message_begin = on_message_begin;
  settings.on_url = on_url;
  settings.on_header_field = on_header_field;
  settings.on_header_value = on_header_value;
  settings.on_headers_complete = on_headers_complete;
  settings.on_body = on_body;
  settings.on_message_complete = on_message_complete;
  /* The HttpServer first: it is what can raise (memory); then the listener. */
  srv = lua_newuserdatauv(L, sizeof *srv, 0);
  srv->l = NULL;
  srv->port = 0;
  luaL_setmetatable(L, AS_HTTP_SERVER_METATABLE);
  if (tls != NULL && (cfg = as__tls_server_config(tls, &status, reason, sizeof reason)) == NULL) {
    as__io_error_push_reason(L, status, reason, "http.listen %s:%d", host, port);
    return lua_error(L);
  }
  l = all ? calloc(1, sizeof *l) : NULL;
  if (l == NULL) {
    as__tls_config_free(cfg);
    return luaL_error(L, "not enough memory");
  }
  lua_pushvalue(L, handler);
  l->handler_ref = luaL_ref(L, LUA_REGISTRYINDEX);
  l->loop = loop;
  l->opts = *opts;
  l->tls = cfg;
  uv_tcp_init(&loop->uv, &l->handle);
  l->handle.data = l;
  as_list_push_back(&all->listeners, &l->node);
  status = as__tcp_bind_listen(&l->handle, &addr, opts->reuseport, on_connection);
  if (status < 0) {
    listener_close(l);
    as__io_error_push(L, status, "http.listen %s:%d", host, port);
    return lua_error(L);
  }
  srv->l = l;
  srv->port = status;
  l->owner = srv;
  return 1;
}

void as__http_server_close(as_http_server *srv) {
  if (srv->l) listener_close(srv->l);
}
