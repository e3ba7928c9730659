/* http.c -- HTTP(S) requests run by libcurl's multi-socket interface on the
 * loop's libuv (see http.h): one CURLM per loop, made on the first request
 * and kept in the loop's attachment; curl's sockets watched by uv_poll_t
 * handles, its timer a uv_timer_t. Each transfer is an io_op the calling task
 * waits for; a cancelled caller lets go and the transfer is removed from the
 * multi handle at once. Polls and the timer are unreferenced: a check handle,
 * active only while transfers are pending, is what keeps the loop alive (so
 * the virtual clock holds only while a request runs). HTTP statuses are
 * returned; network failures raise an IOError, an expired timeout a
 * TimeoutError. */
#include "http.h"

#include <lauxlib.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <uv.h>

#include "buffer.h"
#include "curl_import.h"
#include "errors.h"
#include "io_op.h"
#include "list.h"

/* libcurl, loaded by the first request of the process. */
static const as_curl_api *curl;

typedef struct as_http {
  as_attachment attachment;
  as_loop *loop;
  CURLM *multi;
  uv_timer_t timer;        /* curl's timeout (unreferenced) */
  uv_check_t keepalive;    /* active while transfers are pending */
  as_list transfers;       /* every transfer not yet released */
  as_list sockets;         /* sock_ctx with an open poll */
  int pending;             /* transfers in the multi handle */
} as_http;

typedef struct sock_ctx {
  uv_poll_t poll;
  as_list node;
  as_http *http;
  curl_socket_t fd;
  int events;              /* what curl asked to watch */
} sock_ctx;

typedef struct transfer {
  as_io_op op;
  as_list node;            /* in http->transfers */
  as_http *http;           /* NULL once the loop's client is closed */
  CURL *easy;
  struct curl_slist *headers;
  char *url, *method;
  char *label;             /* "http.get URL", for error messages */
  as_buffer body, head;
  int in_multi;
  int nomem;
  CURLcode result;
  long status;
  char errbuf[CURL_ERROR_SIZE];
} transfer;

/* ---- transfers ---- */

static void release(as_io_op *op) {
  transfer *t = (transfer *)op;
  as_list_remove(&t->node);
  if (t->in_multi && t->http) curl->multi_remove_handle(t->http->multi, t->easy);
  if (t->easy) curl->easy_cleanup(t->easy);
  curl->slist_free_all(t->headers);
  as_buffer_free(&t->body);
  as_buffer_free(&t->head);
  free(t->url);
  free(t->method);
  free(t->label);
  free(t);
}

static void on_keepalive(uv_check_t *c) { (void)c; }

/* Takes `t` out of the multi handle. */
static void detach(transfer *t) {
  as_http *h = t->http;
  if (!t->in_multi) return;
  curl->multi_remove_handle(h->multi, t->easy);
  t->in_multi = 0;
  if (--h->pending == 0) uv_check_stop(&h->keepalive);
}

/* The waiter is gone: stop the transfer now. */
static void abort_transfer(as_io_op *op) {
  transfer *t = (transfer *)op;
  if (t->http) detach(t);
  t->result = CURLE_ABORTED_BY_CALLBACK;
  /* Let go: released now. Abandoned at the run's end (the caller is still
   * set): released when the client closes, its task being done by then. */
  if (op->caller == NULL) as__io_op_finish(op);
}

/* Wakes the waiters of every finished transfer. */
static void check_done(as_http *h) {
  CURLMsg *m;
  int left;
  while ((m = curl->multi_info_read(h->multi, &left)) != NULL) {
    transfer *t = NULL;
    if (m->msg != CURLMSG_DONE) continue;
    curl->easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, (char **)&t);
    if (t == NULL) continue;
    t->result = m->data.result;        /* m is invalid after the removal */
    curl->easy_getinfo(t->easy, CURLINFO_RESPONSE_CODE, &t->status);
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
  curl->multi_socket_action(h->multi, c->fd, flags, &running);
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
      curl->multi_assign(h->multi, s, NULL);
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
    curl->multi_assign(h->multi, s, c);
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
  curl->multi_socket_action(h->multi, CURL_SOCKET_TIMEOUT, 0, &running);
  check_done(h);
}

static int on_timer_set(CURLM *multi, long ms, void *userp) {
  as_http *h = userp;
  (void)multi;
  if (ms < 0) uv_timer_stop(&h->timer);
  else uv_timer_start(&h->timer, on_timer, (uint64_t)ms, 0);
  return 0;
}

static const char http_key = 'H';

static void close_client(as_attachment *a, lua_State *L, as_loop *loop);

/* The loop's client, made on first use; NULL when it cannot be (libcurl
 * missing: *why says why; else out of memory). */
static as_http *http_of(as_loop *loop, const char **why) {
  int made;
  as_http *h;
  *why = NULL;
  if (curl == NULL && (curl = as__curl_import(why)) == NULL) return NULL;
  h = (as_http *)as__loop_attachment_make(loop, &http_key, sizeof *h, close_client, NULL, &made);
  if (h == NULL || !made) return h && h->multi ? h : NULL;
  h->loop = loop;
  as_list_init(&h->transfers);
  as_list_init(&h->sockets);
  h->multi = curl->multi_init();
  if (h->multi == NULL) return NULL;       /* close_client sees it */
  uv_timer_init(&loop->uv, &h->timer);
  uv_unref((uv_handle_t *)&h->timer);
  h->timer.data = h;
  uv_check_init(&loop->uv, &h->keepalive);
  h->keepalive.data = h;
  curl->multi_setopt(h->multi, CURLMOPT_SOCKETFUNCTION, on_socket);
  curl->multi_setopt(h->multi, CURLMOPT_SOCKETDATA, h);
  curl->multi_setopt(h->multi, CURLMOPT_TIMERFUNCTION, on_timer_set);
  curl->multi_setopt(h->multi, CURLMOPT_TIMERDATA, h);
  return h;
}

/* The client itself is freed by the loop once libuv has run dry. */
static void on_http_closed(uv_handle_t *handle) { (void)handle; }

/* The run is ending (every task done): drops every transfer left, cleans the
 * multi handle up and closes the polls and the timer. */
static void close_client(as_attachment *a, lua_State *L, as_loop *loop) {
  as_http *h = (as_http *)a;
  as_list *n;
  (void)L;
  (void)loop;
  if (h->multi == NULL) return;            /* never started */
  while ((n = as_list_first(&h->transfers)) != NULL) {
    transfer *t = as_container_of(n, transfer, node);
    detach(t);
    as_list_remove(&t->node);
    t->http = NULL;
    if (t->op.caller == NULL || t->op.caller->state == AS_TASK_DONE) as__io_op_finish(&t->op);
  }
  curl->multi_cleanup(h->multi);
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
  if (as_buffer_append(&t->body, data, n) != 0) {
    t->nomem = 1;
    return 0;
  }
  return n;
}

static size_t on_header(char *data, size_t size, size_t count, void *userdata) {
  transfer *t = userdata;
  size_t n = size * count;
  if (n >= 5 && memcmp(data, "HTTP/", 5) == 0) t->head.size = 0;  /* a new response: a redirect's end */
  if (as_buffer_append(&t->head, data, n) != 0) {
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

/* libuv's name for why a transfer failed: curl's own error, or the system's
 * (connection refused, reset...). */
static const char *code_of(const transfer *t) {
  long os_errno = 0;
  switch (t->result) {
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_RESOLVE_PROXY: return "EAI_NONAME";
    case CURLE_OUT_OF_MEMORY: return "ENOMEM";
    case CURLE_OPERATION_TIMEDOUT: return "ETIMEDOUT";
    case CURLE_URL_MALFORMAT:
    case CURLE_UNSUPPORTED_PROTOCOL: return "EINVAL";
    default: break;
  }
  if (curl->easy_getinfo(t->easy, CURLINFO_OS_ERRNO, &os_errno) == CURLE_OK && os_errno > 0)
    return uv_err_name((int)-os_errno);
  switch (t->result) {
    case CURLE_COULDNT_CONNECT: return "ECONNREFUSED";
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_PARTIAL_FILE: return "ECONNRESET";
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_PEER_FAILED_VERIFICATION: return "EPROTO";
    default: return "EIO";
  }
}

static int push_response(lua_State *L, as_io_op *op) {
  transfer *t = (transfer *)op;
  if (t->nomem) {
    as__error_push(L, "IOError", "%s: not enough memory", t->label);
    lua_pushliteral(L, "ENOMEM");
    lua_setfield(L, -2, "code");
    return AS_IO_FAILED;
  }
  if (t->result != CURLE_OK) {
    const char *msg = t->errbuf[0] ? t->errbuf : curl->easy_strerror(t->result);
    if (t->result == CURLE_OPERATION_TIMEDOUT) {
      as__error_push(L, "TimeoutError", "%s: %s", t->label, msg);
    } else {
      as__error_push(L, "IOError", "%s: %s", t->label, msg);
      lua_pushstring(L, code_of(t));
      lua_setfield(L, -2, "code");
    }
    return AS_IO_FAILED;
  }
  lua_createtable(L, 0, 3);
  lua_pushinteger(L, (lua_Integer)t->status);
  lua_setfield(L, -2, "status");
  push_headers(L, t);
  lua_setfield(L, -2, "headers");
  lua_pushlstring(L, t->body.data ? t->body.data : "", t->body.size);
  lua_setfield(L, -2, "body");
  return 1;
}

static const as_io_op_type TRANSFER_TYPE = {AS_IO_WAIT("io"), "an HTTP request", push_response,
                                            abort_transfer, release};

/* ---- starting a request ---- */

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
  grown = curl->slist_append(*list, line);
  free(line);
  if (grown == NULL) return 0;
  *list = grown;
  return 1;
}

static int build_headers(transfer *t, const as_http_request *r) {
  int has_expect = 0;
  size_t i;
  for (i = 0; i < r->header_count; i++) {
    const char *name = r->header_names[i];
    if (strcasecmp(name, "expect") == 0) has_expect = 1;
    if (!add_header(&t->headers, name, r->header_values[i])) return 0;
  }
  /* No "Expect: 100-continue" round trip for large bodies unless asked. */
  if (r->body && !has_expect) {
    struct curl_slist *grown = curl->slist_append(t->headers, "Expect:");
    if (grown == NULL) return 0;
    t->headers = grown;
  }
  return 1;
}

static int setup(transfer *t, const as_http_request *r) {
  CURL *e = t->easy;
  if (!build_headers(t, r)) return 0;
  curl->easy_setopt(e, CURLOPT_URL, t->url);
  curl->easy_setopt(e, CURLOPT_PRIVATE, (char *)t);
  curl->easy_setopt(e, CURLOPT_ERRORBUFFER, t->errbuf);
  curl->easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
  curl->easy_setopt(e, CURLOPT_FOLLOWLOCATION, 1L);
  curl->easy_setopt(e, CURLOPT_MAXREDIRS, 20L);
  curl->easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
  curl->easy_setopt(e, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
  curl->easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
  curl->easy_setopt(e, CURLOPT_WRITEDATA, t);
  curl->easy_setopt(e, CURLOPT_HEADERFUNCTION, on_header);
  curl->easy_setopt(e, CURLOPT_HEADERDATA, t);
  if (t->headers) curl->easy_setopt(e, CURLOPT_HTTPHEADER, t->headers);
  if (r->timeout_ms > 0) curl->easy_setopt(e, CURLOPT_TIMEOUT_MS, r->timeout_ms);
  if (strcmp(t->method, "HEAD") == 0) {
    curl->easy_setopt(e, CURLOPT_NOBODY, 1L);
  } else if (r->body || strcmp(t->method, "POST") == 0) {
    curl->easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)(r->body ? r->body_size : 0));
    if (curl->easy_setopt(e, CURLOPT_COPYPOSTFIELDS, r->body ? r->body : "") != CURLE_OK) return 0;
    if (strcmp(t->method, "POST") != 0) curl->easy_setopt(e, CURLOPT_CUSTOMREQUEST, t->method);
  } else if (strcmp(t->method, "GET") != 0) {
    curl->easy_setopt(e, CURLOPT_CUSTOMREQUEST, t->method);
  }
  return 1;
}

/* "<opname> <url>", or "<opname> <METHOD> <url>" when the name does not say
 * the method: malloc'd, or NULL. */
static char *make_label(const char *opname, const char *method, const char *url) {
  size_t size = strlen(opname) + strlen(method) + strlen(url) + 3;
  char *label = malloc(size);
  if (label == NULL) return NULL;
  if (strcmp(opname, "http.request") == 0) snprintf(label, size, "%s %s %s", opname, method, url);
  else snprintf(label, size, "%s %s", opname, url);
  return label;
}

int as__http_request(lua_State *L, as_loop *loop, as_task *task, const as_http_request *r) {
  const char *why;
  as_http *h = http_of(loop, &why);
  transfer *t;
  if (h == NULL && why != NULL) {
    as__error_push(L, "IOError", "%s %s: libcurl is not available (%s)", r->opname, r->url, why);
    lua_pushliteral(L, "ENOSYS");
    lua_setfield(L, -2, "code");
    return lua_error(L);
  }
  if (h == NULL) return luaL_error(L, "not enough memory");
  t = calloc(1, sizeof *t);
  if (t == NULL) return luaL_error(L, "not enough memory");
  as_list_init(&t->node);
  as__io_op_init(&t->op, &TRANSFER_TYPE, loop);
  t->http = h;
  if ((t->url = strdup(r->url)) == NULL || (t->method = strdup(r->method)) == NULL ||
      (t->label = make_label(r->opname, r->method, r->url)) == NULL ||
      (t->easy = curl->easy_init()) == NULL || !setup(t, r)) {
    release(&t->op);
    return luaL_error(L, "not enough memory");
  }
  if (curl->multi_add_handle(h->multi, t->easy) != CURLM_OK) {
    release(&t->op);
    as__error_push(L, "IOError", "%s %s: cannot start the transfer", r->opname, r->url);
    lua_pushliteral(L, "EIO");
    lua_setfield(L, -2, "code");
    return lua_error(L);
  }
  t->in_multi = 1;
  if (h->pending++ == 0) uv_check_start(&h->keepalive, on_keepalive);
  as_list_push_back(&h->transfers, &t->node);
  return as__io_op_wait(L, &t->op, task);
}
