/* http.c -- asched.http: request, get and post, run by libcurl's multi-socket
 * interface on the loop's libuv: one CURLM per loop, made on the first
 * request; curl's sockets watched by uv_poll_t handles, its timer a
 * uv_timer_t. Each transfer is an io_op the calling task waits for; a
 * cancelled caller lets go and the transfer is removed from the multi handle
 * at once. Polls and the timer are unreferenced: a check handle, active only
 * while transfers are pending, is what keeps the loop alive (so the virtual
 * clock holds only while a request runs). HTTP statuses are returned;
 * network failures raise an IOError, an expired timeout a TimeoutError. */
#include "http.h"

#include <curl/curl.h>
#include <lauxlib.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <uv.h>

#include "errors.h"
#include "io_op.h"
#include "list.h"
#include "loop.h"

typedef struct as_http {
  as_loop *loop;
  CURLM *multi;
  uv_timer_t timer;        /* curl's timeout (unreferenced) */
  uv_check_t keepalive;    /* active while transfers are pending */
  as_list transfers;       /* every transfer not yet released */
  as_list sockets;         /* sock_ctx with an open poll */
  int pending;             /* transfers in the multi handle */
  int open_handles;        /* timer and keepalive, until closed */
} as_http;

typedef struct sock_ctx {
  uv_poll_t poll;
  as_list node;
  as_http *http;
  curl_socket_t fd;
  int events;              /* what curl asked to watch */
} sock_ctx;

typedef struct buffer {
  char *data;
  size_t size, capacity;
} buffer;

typedef struct transfer {
  as_io_op op;
  as_list node;            /* in http->transfers */
  as_http *http;           /* NULL once the loop's client is closed */
  CURL *easy;
  struct curl_slist *headers;
  char *url, *method;
  buffer body, head;
  int in_multi;
  int nomem;
  CURLcode result;
  long status;
  char errbuf[CURL_ERROR_SIZE];
} transfer;

/* ---- buffers ---- */

static int buffer_append(buffer *b, const char *data, size_t n) {
  if (b->capacity - b->size < n) {
    size_t capacity = b->capacity ? b->capacity : 1024;
    char *grown;
    while (capacity - b->size < n) capacity *= 2;
    grown = realloc(b->data, capacity);
    if (grown == NULL) return -1;
    b->data = grown;
    b->capacity = capacity;
  }
  memcpy(b->data + b->size, data, n);
  b->size += n;
  return 0;
}

/* ---- transfers ---- */

static void release(as_io_op *op) {
  transfer *t = (transfer *)op;
  as_list_remove(&t->node);
  if (t->in_multi && t->http) curl_multi_remove_handle(t->http->multi, t->easy);
  if (t->easy) curl_easy_cleanup(t->easy);
  curl_slist_free_all(t->headers);
  free(t->body.data);
  free(t->head.data);
  free(t->url);
  free(t->method);
  free(t);
}

static void on_keepalive(uv_check_t *c) { (void)c; }

/* Takes `t` out of the multi handle. */
static void detach(transfer *t) {
  as_http *h = t->http;
  if (!t->in_multi) return;
  curl_multi_remove_handle(h->multi, t->easy);
  t->in_multi = 0;
  if (--h->pending == 0) uv_check_stop(&h->keepalive);
}

/* The waiter is gone: stop the transfer now. */
static void abort_transfer(as_io_op *op) {
  transfer *t = (transfer *)op;
  if (t->http) detach(t);
  t->result = CURLE_ABORTED_BY_CALLBACK;
  /* Let go: released now. Abandoned at the run's end (the caller is still
   * set): released by as__http_close once its task is done. */
  if (op->caller == NULL) as__io_op_finish(op);
}

static const as_io_op_type TRANSFER_TYPE = {"an HTTP request", abort_transfer, release, "io"};

/* Wakes the waiters of every finished transfer. */
static void check_done(as_http *h) {
  CURLMsg *m;
  int left;
  while ((m = curl_multi_info_read(h->multi, &left)) != NULL) {
    transfer *t = NULL;
    if (m->msg != CURLMSG_DONE) continue;
    curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, (char **)&t);
    if (t == NULL) continue;
    t->result = m->data.result;        /* m is invalid after the removal */
    curl_easy_getinfo(t->easy, CURLINFO_RESPONSE_CODE, &t->status);
    detach(t);
    as__io_op_finish(&t->op);
  }
}

/* ---- curl's sockets and timer on libuv ---- */

static void on_sock_closed(uv_handle_t *handle) { free(handle->data); }

static void close_sock(sock_ctx *c) {
  as_list_remove(&c->node);
  uv_poll_stop(&c->poll);
  uv_close((uv_handle_t *)&c->poll, on_sock_closed);
}

static void on_poll(uv_poll_t *poll, int status, int events) {
  sock_ctx *c = poll->data;
  as_http *h = c->http;
  int flags = 0, running;
  /* An error (POLLERR: libuv stopped the poll): let curl read or write and
   * find the actual error itself (refused, reset...). */
  if (status < 0) flags = CURL_CSELECT_IN | CURL_CSELECT_OUT;
  if (events & UV_READABLE) flags |= CURL_CSELECT_IN;
  if (events & UV_WRITABLE) flags |= CURL_CSELECT_OUT;
  curl_multi_socket_action(h->multi, c->fd, flags, &running);
  /* Still wanted by curl but stopped by libuv after an error: watch again. */
  if (status < 0 && !uv_is_closing((uv_handle_t *)poll) && !uv_is_active((uv_handle_t *)poll))
    uv_poll_start(poll, c->events, on_poll);
  check_done(h);
}

static int on_socket(CURL *easy, curl_socket_t s, int what, void *userp, void *socketp) {
  as_http *h = userp;
  sock_ctx *c = socketp;
  int events = 0;
  (void)easy;
  if (what == CURL_POLL_REMOVE) {
    if (c) {
      close_sock(c);
      curl_multi_assign(h->multi, s, NULL);
    }
    return 0;
  }
  if (c == NULL) {
    c = calloc(1, sizeof *c);
    if (c == NULL) return -1;
    if (uv_poll_init_socket(&h->loop->uv, &c->poll, s) != 0) {
      free(c);
      return -1;
    }
    uv_unref((uv_handle_t *)&c->poll);
    c->poll.data = c;
    c->http = h;
    c->fd = s;
    as_list_push_back(&h->sockets, &c->node);
    curl_multi_assign(h->multi, s, c);
  }
  if (what & CURL_POLL_IN) events |= UV_READABLE;
  if (what & CURL_POLL_OUT) events |= UV_WRITABLE;
  c->events = events;
  uv_poll_start(&c->poll, events, on_poll);
  return 0;
}

static void on_timer(uv_timer_t *timer) {
  as_http *h = timer->data;
  int running;
  curl_multi_socket_action(h->multi, CURL_SOCKET_TIMEOUT, 0, &running);
  check_done(h);
}

static int on_timer_set(CURLM *multi, long ms, void *userp) {
  as_http *h = userp;
  (void)multi;
  if (ms < 0) uv_timer_stop(&h->timer);
  else uv_timer_start(&h->timer, on_timer, (uint64_t)ms, 0);
  return 0;
}

/* The loop's client, made on first use; NULL when out of memory. */
static as_http *http_of(as_loop *loop) {
  static int curl_ready;
  as_http *h;
  if (loop->http) return loop->http;
  if (!curl_ready) {
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) return NULL;
    curl_ready = 1;
  }
  h = calloc(1, sizeof *h);
  if (h == NULL) return NULL;
  h->multi = curl_multi_init();
  if (h->multi == NULL) {
    free(h);
    return NULL;
  }
  h->loop = loop;
  as_list_init(&h->transfers);
  as_list_init(&h->sockets);
  uv_timer_init(&loop->uv, &h->timer);
  uv_unref((uv_handle_t *)&h->timer);
  h->timer.data = h;
  uv_check_init(&loop->uv, &h->keepalive);
  h->keepalive.data = h;
  h->open_handles = 2;
  curl_multi_setopt(h->multi, CURLMOPT_SOCKETFUNCTION, on_socket);
  curl_multi_setopt(h->multi, CURLMOPT_SOCKETDATA, h);
  curl_multi_setopt(h->multi, CURLMOPT_TIMERFUNCTION, on_timer_set);
  curl_multi_setopt(h->multi, CURLMOPT_TIMERDATA, h);
  loop->http = h;
  return h;
}

static void on_http_closed(uv_handle_t *handle) {
  as_http *h = handle->data;
  if (--h->open_handles == 0) free(h);
}

void as__http_close(as_loop *loop) {
  as_http *h = loop->http;
  as_list *n;
  if (h == NULL) return;
  loop->http = NULL;
  while ((n = as_list_first(&h->transfers)) != NULL) {
    transfer *t = as_container_of(n, transfer, node);
    detach(t);
    as_list_remove(&t->node);
    t->http = NULL;
    if (t->op.caller == NULL || t->op.caller->state == AS_TASK_DONE) as__io_op_finish(&t->op);
  }
  curl_multi_cleanup(h->multi);
  while ((n = as_list_first(&h->sockets)) != NULL) close_sock(as_container_of(n, sock_ctx, node));
  uv_timer_stop(&h->timer);
  uv_check_stop(&h->keepalive);
  uv_close((uv_handle_t *)&h->timer, on_http_closed);
  uv_close((uv_handle_t *)&h->keepalive, on_http_closed);
}

/* ---- curl's data callbacks ---- */

static size_t on_body(char *data, size_t size, size_t count, void *userdata) {
  transfer *t = userdata;
  size_t n = size * count;
  if (buffer_append(&t->body, data, n) != 0) {
    t->nomem = 1;
    return 0;
  }
  return n;
}

static size_t on_header(char *data, size_t size, size_t count, void *userdata) {
  transfer *t = userdata;
  size_t n = size * count;
  if (n >= 5 && memcmp(data, "HTTP/", 5) == 0) t->head.size = 0;  /* a new response: a redirect's end */
  if (buffer_append(&t->head, data, n) != 0) {
    t->nomem = 1;
    return 0;
  }
  return n;
}

/* ---- the result ---- */

/* Pushes {lowercased name = value} from the last response's header lines;
 * repeated headers are joined with ", ". */
static void push_headers(lua_State *L, const transfer *t) {
  const char *p = t->head.data, *end = p ? p + t->head.size : p;
  luaL_Buffer name;
  lua_newtable(L);
  while (p && p < end) {
    const char *eol = memchr(p, '\n', (size_t)(end - p));
    const char *line_end = eol ? eol : end, *colon, *v, *ve;
    if (line_end > p && line_end[-1] == '\r') line_end--;
    colon = memchr(p, ':', (size_t)(line_end - p));
    if (colon != NULL && colon > p && !(line_end - p >= 5 && memcmp(p, "HTTP/", 5) == 0)) {
      const char *k;
      luaL_buffinit(L, &name);
      for (k = p; k < colon; k++) {
        char c = *k;
        luaL_addchar(&name, (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c);
      }
      luaL_pushresult(&name);
      for (v = colon + 1; v < line_end && (*v == ' ' || *v == '\t'); v++) {}
      for (ve = line_end; ve > v && (ve[-1] == ' ' || ve[-1] == '\t'); ve--) {}
      lua_pushvalue(L, -1);
      if (lua_rawget(L, -3) == LUA_TSTRING) {
        lua_pushliteral(L, ", ");
        lua_pushlstring(L, v, (size_t)(ve - v));
        lua_concat(L, 3);
      } else {
        lua_pop(L, 1);
        lua_pushlstring(L, v, (size_t)(ve - v));
      }
      lua_rawset(L, -3);
    }
    p = eol ? eol + 1 : end;
  }
}

static int request_resumed(lua_State *L, int status, lua_KContext ctx) {
  transfer *t = (transfer *)ctx;
  (void)status;
  if (as__io_op_cancelled(L, &t->op)) return lua_error(L);
  lua_settop(L, 0);
  if (t->nomem) {
    as__io_op_let_go(L, &t->op);
    return luaL_error(L, "not enough memory");
  }
  if (t->result != CURLE_OK) {
    const char *msg = t->errbuf[0] ? t->errbuf : curl_easy_strerror(t->result);
    as__error_push(L, t->result == CURLE_OPERATION_TIMEDOUT ? "TimeoutError" : "IOError",
                   "%s %s: %s", t->method, t->url, msg);
    as__io_op_let_go(L, &t->op);
    return lua_error(L);
  }
  lua_createtable(L, 0, 3);
  lua_pushinteger(L, (lua_Integer)t->status);
  lua_setfield(L, -2, "status");
  push_headers(L, t);
  lua_setfield(L, -2, "headers");
  lua_pushlstring(L, t->body.data ? t->body.data : "", t->body.size);
  lua_setfield(L, -2, "body");
  as__io_op_let_go(L, &t->op);
  return 1;
}

/* ---- starting a request ---- */

typedef struct request_args {
  const char *method, *url, *body;
  size_t body_size;
  int headers;        /* stack index of the headers table, or 0 */
  long timeout_ms;    /* 0: none */
} request_args;

static int has_crlf(const char *s) { return strpbrk(s, "\r\n") != NULL; }

/* Reads the options table at `idx` (argument `arg`): headers and timeout, and
 * with `full` also url, method and body. */
static void read_options(lua_State *L, int idx, int arg, int full, request_args *a) {
  int type;
  if (full) {
    if (lua_getfield(L, idx, "url") != LUA_TSTRING) luaL_argerror(L, arg, "url must be a string");
    a->url = lua_tostring(L, -1);
    type = lua_getfield(L, idx, "method");
    if (type != LUA_TNIL) {
      const char *m;
      if (type != LUA_TSTRING) luaL_argerror(L, arg, "method must be a string");
      m = lua_tostring(L, -1);
      if (*m == '\0' || strspn(m, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz-_") != strlen(m))
        luaL_argerror(L, arg, "method must be a word such as \"GET\"");
      a->method = m;
    }
    type = lua_getfield(L, idx, "body");
    if (type != LUA_TNIL) {
      if (type != LUA_TSTRING) luaL_argerror(L, arg, "body must be a string");
      a->body = lua_tolstring(L, -1, &a->body_size);
    }
  }
  type = lua_getfield(L, idx, "headers");
  if (type != LUA_TNIL) {
    if (type != LUA_TTABLE) luaL_argerror(L, arg, "headers must be a table");
    a->headers = lua_gettop(L);
    lua_pushnil(L);
    while (lua_next(L, a->headers)) {
      if (lua_type(L, -2) != LUA_TSTRING || lua_type(L, -1) != LUA_TSTRING)
        luaL_argerror(L, arg, "headers must map names to strings");
      if (lua_rawlen(L, -2) == 0 || strpbrk(lua_tostring(L, -2), ":\r\n \t") != NULL ||
          has_crlf(lua_tostring(L, -1)))
        luaL_argerror(L, arg, lua_pushfstring(L, "invalid header %s", lua_tostring(L, -2)));
      lua_pop(L, 1);
    }
  }
  type = lua_getfield(L, idx, "timeout");
  if (type != LUA_TNIL) {
    lua_Number s;
    if (type != LUA_TNUMBER) luaL_argerror(L, arg, "timeout must be a number");
    s = lua_tonumber(L, -1);
    if (!(s > 0)) luaL_argerror(L, arg, "timeout must be positive");
    a->timeout_ms = s * 1000 >= (lua_Number)LONG_MAX ? LONG_MAX : (long)ceil(s * 1000);
  }
}

/* Appends "name: value" (or "name;" for an empty value); 0 when out of memory. */
static int add_header(struct curl_slist **list, const char *name, const char *value) {
  size_t n = strlen(name), v = strlen(value);
  char *line = malloc(n + v + 3);
  struct curl_slist *grown;
  if (line == NULL) return 0;
  memcpy(line, name, n);
  if (v == 0) strcpy(line + n, ";");
  else {
    memcpy(line + n, ": ", 2);
    memcpy(line + n + 2, value, v + 1);
  }
  grown = curl_slist_append(*list, line);
  free(line);
  if (grown == NULL) return 0;
  *list = grown;
  return 1;
}

static int build_headers(lua_State *L, transfer *t, const request_args *a) {
  int has_expect = 0;
  if (a->headers) {
    lua_pushnil(L);
    while (lua_next(L, a->headers)) {
      const char *name = lua_tostring(L, -2);
      if (strlen(name) == 6 && strncasecmp(name, "expect", 6) == 0) has_expect = 1;
      if (!add_header(&t->headers, name, lua_tostring(L, -1))) {
        lua_pop(L, 2);
        return 0;
      }
      lua_pop(L, 1);
    }
  }
  /* No "Expect: 100-continue" round trip for large bodies unless asked. */
  if (a->body && !has_expect) {
    struct curl_slist *grown = curl_slist_append(t->headers, "Expect:");
    if (grown == NULL) return 0;
    t->headers = grown;
  }
  return 1;
}

static int setup(lua_State *L, transfer *t, const request_args *a) {
  CURL *e = t->easy;
  if (!build_headers(L, t, a)) return 0;
  curl_easy_setopt(e, CURLOPT_URL, t->url);
  curl_easy_setopt(e, CURLOPT_PRIVATE, (char *)t);
  curl_easy_setopt(e, CURLOPT_ERRORBUFFER, t->errbuf);
  curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 1L);
  curl_easy_setopt(e, CURLOPT_MAXREDIRS, 20L);
  curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(e, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
  curl_easy_setopt(e, CURLOPT_WRITEDATA, t);
  curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, on_header);
  curl_easy_setopt(e, CURLOPT_HEADERDATA, t);
  if (t->headers) curl_easy_setopt(e, CURLOPT_HTTPHEADER, t->headers);
  if (a->timeout_ms > 0) curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, a->timeout_ms);
  if (strcmp(t->method, "HEAD") == 0) {
    curl_easy_setopt(e, CURLOPT_NOBODY, 1L);
  } else if (a->body || strcmp(t->method, "POST") == 0) {
    curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)(a->body ? a->body_size : 0));
    if (curl_easy_setopt(e, CURLOPT_COPYPOSTFIELDS, a->body ? a->body : "") != CURLE_OK) return 0;
    if (strcmp(t->method, "POST") != 0) curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, t->method);
  } else if (strcmp(t->method, "GET") != 0) {
    curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, t->method);
  }
  return 1;
}

/* Starts the request `a` for the running task and suspends it. */
static int start(lua_State *L, request_args *a, const char *fname) {
  as_loop *loop = as__loop(L);
  as_task *task = as__task_check_current(L, loop, fname);
  as_http *h = http_of(loop);
  transfer *t;
  if (a->method == NULL) a->method = a->body ? "POST" : "GET";
  if (h == NULL) return luaL_error(L, "http.%s: cannot start libcurl", fname);
  t = calloc(1, sizeof *t);
  if (t == NULL) return luaL_error(L, "not enough memory");
  as_list_init(&t->node);
  as__io_op_init(&t->op, &TRANSFER_TYPE, loop);
  t->http = h;
  if ((t->url = strdup(a->url)) == NULL || (t->method = strdup(a->method)) == NULL ||
      (t->easy = curl_easy_init()) == NULL || !setup(L, t, a)) {
    release(&t->op);
    return luaL_error(L, "not enough memory");
  }
  if (curl_multi_add_handle(h->multi, t->easy) != CURLM_OK) {
    release(&t->op);
    return as__error_raise(L, "IOError", "%s %s: cannot start the transfer", a->method, a->url);
  }
  t->in_multi = 1;
  if (h->pending++ == 0) uv_check_start(&h->keepalive, on_keepalive);
  as_list_push_back(&h->transfers, &t->node);
  return as__io_op_wait(L, &t->op, task, request_resumed);
}

/* request{method=, url=, headers=, body=, timeout=} -> {status=, headers=, body=}. */
static int l_request(lua_State *L) {
  request_args a = {0};
  luaL_checktype(L, 1, LUA_TTABLE);
  lua_settop(L, 1);
  read_options(L, 1, 1, 1, &a);
  return start(L, &a, "request");
}

/* get(url [, opts]). */
static int l_get(lua_State *L) {
  request_args a = {0};
  luaL_checktype(L, 1, LUA_TSTRING);
  a.url = lua_tostring(L, 1);
  if (!lua_isnoneornil(L, 2)) luaL_checktype(L, 2, LUA_TTABLE);
  lua_settop(L, 2);
  if (lua_istable(L, 2)) read_options(L, 2, 2, 0, &a);
  a.method = "GET";
  return start(L, &a, "get");
}

/* post(url, body [, opts]). */
static int l_post(lua_State *L) {
  request_args a = {0};
  luaL_checktype(L, 1, LUA_TSTRING);
  a.url = lua_tostring(L, 1);
  luaL_checktype(L, 2, LUA_TSTRING);
  a.body = lua_tolstring(L, 2, &a.body_size);
  if (!lua_isnoneornil(L, 3)) luaL_checktype(L, 3, LUA_TTABLE);
  lua_settop(L, 3);
  if (lua_istable(L, 3)) read_options(L, 3, 3, 0, &a);
  a.method = "POST";
  return start(L, &a, "post");
}

void as__open_http(lua_State *L) {
  static const luaL_Reg functions[] = {
    {"request", l_request},
    {"get", l_get},
    {"post", l_post},
    {NULL, NULL}
  };
  lua_newtable(L);
  as__set_boxed(L, functions);
  lua_setfield(L, -2, "http");
}
