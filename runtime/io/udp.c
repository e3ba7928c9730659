/* udp.c -- UDP on the loop (see udp.h): bind, send, recv, close.
 *
 * A socket's libuv handle lives in a malloc'd `as_udp`, freed in its close
 * callback; the Lua Socket only points at it. A socket reads from the moment
 * it is bound, so datagrams that arrive while no task is in recv() are
 * queued (up to AS_UDP_QUEUE_MAX, then it stops reading until recv() takes
 * one). Its handle keeps the loop alive only while a task waits in recv():
 * an idle socket, like an idle TCP stream, neither holds the virtual clock
 * nor hides a deadlock.
 *
 * Every wait is an io_op. A datagram that arrives is handed to the first
 * waiting receiver, which owns it until it runs; a receiver cancelled before
 * it ran gives it back (to the next receiver, or the front of the queue), so
 * no datagram taken off the socket is lost to a cancellation. The sockets of
 * a loop are listed in its attachment, closed when the run ends. */
#include "udp.h"

#include <lauxlib.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

#include "dns.h"
#include "errors.h"
#include "io_op.h"

/* ---- the sockets of a loop ---- */

typedef struct sockets {
  as_attachment attachment;
  as_list list;         /* as_udp, by node */
} sockets;

static const char sockets_key = 'U';

static void udp_close(struct as_udp *u);

/* A datagram taken off the socket, with its sender. */
typedef struct datagram {
  struct datagram *next;
  int port;
  char host[AS_ADDRESS_MAX];
  size_t size;
  char data[];
} datagram;

typedef struct recv_op recv_op;
typedef struct send_op send_op;

/* Allocated by as__udp_bind, freed in udp_closed. While it is open, each
 * recv_op and resolving send_op that points at it is in one of its lists,
 * and closing it takes them off and clears their pointer. */
typedef struct as_udp {
  uv_udp_t handle;
  as_list node;         /* in the loop's sockets */
  as_loop *loop;
  as_socket *owner;     /* the Lua Socket, or NULL once it is collected */
  int family;           /* AF_INET or AF_INET6: names are resolved in it */
  int closing;
  int reading;          /* uv_udp_recv_start is in effect */
  datagram *head, *tail;  /* arrived, not yet received */
  int count;
  as_list waiting;      /* recv_op waiting for a datagram, first come first served */
  as_list handed;       /* recv_op woken with a datagram, not yet run */
  as_list resolving;    /* send_op resolving its destination */
  char buffer[AS_UDP_DATAGRAM_MAX + 1];  /* where libuv receives; copied out at once */
} as_udp;

static void close_sockets(as_attachment *a, lua_State *L, as_loop *loop) {
  sockets *all = (sockets *)a;
  as_list *n = all->list.next;
  (void)L;
  (void)loop;
  while (n != &all->list) {
    as_list *next = n->next;         /* close callbacks run later, in uv_run */
    udp_close(as_container_of(n, as_udp, node));
    n = next;
  }
}

static sockets *sockets_of(as_loop *loop) {
  int made;
  sockets *all = (sockets *)as__loop_attachment_make(loop, &sockets_key, sizeof *all, close_sockets,
                                                     NULL, &made);
  if (all != NULL && made) as_list_init(&all->list);
  return all;
}

/* ---- receiving ---- */

/* A task waiting in recv(). `u` is NULL once the socket closed under it. */
struct recv_op {
  as_io_op op;
  as_list node;         /* in u->waiting, then in u->handed */
  as_udp *u;
  datagram *d;          /* handed to it, not yet pushed: it owns it */
  int status;           /* a receive error handed to it, or 0 */
};

/* The handle keeps the loop alive only while a task waits for a datagram. */
static void update_ref(as_udp *u) {
  if (u->closing) return;
  if (as_list_empty(&u->waiting)) uv_unref((uv_handle_t *)&u->handle);
  else uv_ref((uv_handle_t *)&u->handle);
}

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf) {
  as_udp *u = h->data;
  (void)suggested;
  *buf = uv_buf_init(u->buffer, sizeof u->buffer);
}

static void on_recv(uv_udp_t *h, ssize_t n, const uv_buf_t *buf, const struct sockaddr *from,
                    unsigned flags);

/* Reads while the queue has room; returns 0 or a libuv error. */
static int start_reading(as_udp *u) {
  int status;
  if (u->reading || u->closing || u->count >= AS_UDP_QUEUE_MAX) return 0;
  status = uv_udp_recv_start(&u->handle, on_alloc, on_recv);
  if (status == 0) u->reading = 1;
  return status;
}

static void stop_reading(as_udp *u) {
  if (!u->reading) return;
  uv_udp_recv_stop(&u->handle);
  u->reading = 0;
}

/* Takes the first waiting receiver off the list, or returns NULL. */
static recv_op *first_waiting(as_udp *u) {
  as_list *n = as_list_first(&u->waiting);
  recv_op *r;
  if (n == NULL) return NULL;
  r = as_container_of(n, recv_op, node);
  as_list_remove(n);
  update_ref(u);
  return r;
}

/* Gives `d` to the first waiting receiver, or queues it (at the front when it
 * was given back). Takes `d` over. */
static void deliver(as_udp *u, datagram *d, int front) {
  recv_op *r = first_waiting(u);
  if (r != NULL) {
    r->d = d;
    as_list_push_back(&u->handed, &r->node);
    as__io_op_finish(&r->op);
    return;
  }
  d->next = NULL;
  if (u->head == NULL) {
    u->head = u->tail = d;
  } else if (front) {
    d->next = u->head;
    u->head = d;
  } else {
    u->tail->next = d;
    u->tail = d;
  }
  if (++u->count >= AS_UDP_QUEUE_MAX) stop_reading(u);
}

/* Unlinks the first queued datagram; reading resumes below the bound. */
static datagram *dequeue(as_udp *u) {
  datagram *d = u->head;
  u->head = d->next;
  if (u->head == NULL) u->tail = NULL;
  u->count--;
  start_reading(u);
  return d;
}

static void on_recv(uv_udp_t *h, ssize_t n, const uv_buf_t *buf, const struct sockaddr *from,
                    unsigned flags) {
  as_udp *u = h->data;
  datagram *d;
  (void)buf;
  (void)flags;
  if (n == 0 && from == NULL) return;          /* nothing more to read now */
  if (n < 0) {                                 /* for a waiting receiver, else dropped */
    recv_op *r = first_waiting(u);
    if (r == NULL) return;
    r->u = NULL;                               /* it takes nothing more from the socket */
    r->status = (int)n;
    as__io_op_finish(&r->op);
    return;
  }
  d = malloc(sizeof *d + (size_t)n);
  if (d == NULL) return;                       /* out of memory: lost, as UDP may lose it */
  d->size = (size_t)n;
  memcpy(d->data, u->buffer, d->size);
  d->port = as__dns_address_name(from, d->host);
  deliver(u, d, 0);
}

/* Pushes data, host, port; the datagram stays the caller's (pushing may raise). */
static int push_datagram(lua_State *L, const datagram *d) {
  lua_pushlstring(L, d->data, d->size);
  lua_pushstring(L, d->host);
  lua_pushinteger(L, d->port);
  return 3;
}

static void push_closed(lua_State *L, const char *opname) {
  as__error_push(L, "IOError", "%s: the socket is closed", opname);
  lua_pushliteral(L, "EBADF");
  lua_setfield(L, -2, "code");
}

static int recv_push(lua_State *L, as_io_op *op) {
  recv_op *r = (recv_op *)op;
  if (r->d != NULL) {
    int n = push_datagram(L, r->d);
    free(r->d);
    r->d = NULL;
    return n;
  }
  if (r->status != 0) as__io_error_push(L, r->status, "socket.recv");
  else push_closed(L, "socket.recv");
  return AS_IO_FAILED;
}

/* The receiver was cancelled while it waited: it leaves the line. */
static void recv_abort(as_io_op *op) {
  recv_op *r = (recv_op *)op;
  if (r->u == NULL) return;
  as_list_remove(&r->node);
  update_ref(r->u);
  as__io_op_finish(op);     /* nobody waits: frees it */
}

/* A datagram it was handed and never pushed (cancelled after it was woken,
 * or abandoned at the run's end) goes back to the socket, if still open. */
static void recv_release(as_io_op *op) {
  recv_op *r = (recv_op *)op;
  as_list_remove(&r->node);
  if (r->d != NULL && r->u != NULL) deliver(r->u, r->d, 1);
  else free(r->d);
  free(r);
}

static const as_io_op_type RECV_TYPE = {AS_IO_WAIT("io"), "receiving a datagram", recv_push, recv_abort,
                                        recv_release};

int as__socket_is_open(const as_socket *s) { return s->u != NULL && !s->u->closing; }

int as__socket_recv(lua_State *L, as_loop *loop, as_task *t, as_socket *s) {
  as_udp *u = s->u;
  recv_op *r;
  if (!as__socket_is_open(s)) {
    push_closed(L, "socket.recv");
    return lua_error(L);
  }
  if (u->head != NULL) {       /* then nobody waits: a datagram goes to a waiter first */
    int n = push_datagram(L, u->head);
    free(dequeue(u));
    return n;
  }
  r = calloc(1, sizeof *r);
  if (r == NULL) return luaL_error(L, "not enough memory");
  as__io_op_init(&r->op, &RECV_TYPE, loop);
  r->u = u;
  as_list_push_back(&u->waiting, &r->node);
  update_ref(u);
  return as__io_op_wait(L, &r->op, t);
}

/* ---- sending ---- */

/* A task waiting until its datagram is handed to the kernel; first, for a
 * destination given by name, until the name is resolved. */
struct send_op {
  as_io_op op;
  uv_udp_send_t req;
  uv_getaddrinfo_t resolve;
  as_list node;         /* in u->resolving while resolving */
  as_udp *u;            /* NULL once the socket closed while resolving */
  int resolving;
  int closed;           /* the socket closed before the datagram was sent */
  int status;
  char where[300];      /* "host:port", for messages */
  size_t size;
  char data[];
};

static void on_sent(uv_udp_send_t *req, int status) {
  send_op *k = req->data;
  k->status = status;
  k->closed = status == UV_ECANCELED;   /* only a close cancels a send in libuv's hands */
  as__io_op_finish(&k->op);
}

static int send_push(lua_State *L, as_io_op *op) {
  send_op *k = (send_op *)op;
  if (k->closed) push_closed(L, "socket.send");
  else if (k->status != 0) as__io_error_push(L, k->status, "socket.send %s", k->where);
  else return 0;
  return AS_IO_FAILED;
}

/* While resolving, the name's job is unqueued and the datagram never sent;
 * once handed to libuv it goes out anyway (as a TCP write does). */
static void send_abort(as_io_op *op) {
  send_op *k = (send_op *)op;
  if (k->resolving) uv_cancel((uv_req_t *)&k->resolve);
}

static void send_release(as_io_op *op) { free(op); }

static const as_io_op_type SEND_TYPE = {AS_IO_WAIT("io"), "sending a datagram", send_push, send_abort,
                                        send_release};

static int start_send(send_op *k, const struct sockaddr *to) {
  uv_buf_t buf = uv_buf_init(k->data, (unsigned)k->size);
  k->req.data = k;
  return uv_udp_send(&k->req, &k->u->handle, &buf, 1, to, on_sent);
}

static void on_resolved(uv_getaddrinfo_t *req, int status, struct addrinfo *res) {
  send_op *k = req->data;
  k->resolving = 0;
  as_list_remove(&k->node);
  if (status == 0) {
    if (k->u == NULL) k->closed = 1;
    else if (k->op.caller == NULL || (k->op.caller->flags & AS_TASK_PENDING_RAISE))
      status = UV_ECANCELED;           /* its caller will not see the send: cancelled meanwhile */
    else if ((status = start_send(k, res->ai_addr)) == 0) {
      uv_freeaddrinfo(res);
      return;
    }
  }
  if (res) uv_freeaddrinfo(res);
  k->status = status;
  as__io_op_finish(&k->op);
}

int as__socket_send(lua_State *L, as_loop *loop, as_task *t, as_socket *s, const char *data, size_t size,
                    const char *host, int port) {
  struct sockaddr_storage to;
  struct addrinfo hints;
  send_op *k;
  int status;
  if (!as__socket_is_open(s)) {
    push_closed(L, "socket.send");
    return lua_error(L);
  }
  if (size > AS_UDP_DATAGRAM_MAX) {
    as__io_error_push(L, UV_EMSGSIZE, "socket.send %s:%d", host, port);
    return lua_error(L);
  }
  k = calloc(1, sizeof *k + (size ? size : 1));
  if (k == NULL) return luaL_error(L, "not enough memory");
  as__io_op_init(&k->op, &SEND_TYPE, loop);
  as_list_init(&k->node);
  snprintf(k->where, sizeof k->where, "%s:%d", host, port);
  memcpy(k->data, data, size);
  k->size = size;
  k->u = s->u;
  if (as__dns_parse_address(host, port, &to) == 0) {
    status = start_send(k, (const struct sockaddr *)&to);
  } else {
    char service[16];
    snprintf(service, sizeof service, "%d", port);
    memset(&hints, 0, sizeof hints);
    hints.ai_family = k->u->family;
    hints.ai_socktype = SOCK_DGRAM;
    hints.ai_flags = k->u->family == AF_INET6 ? AI_V4MAPPED : 0;
    k->resolve.data = k;
    status = uv_getaddrinfo(&loop->uv, &k->resolve, on_resolved, host, service, &hints);
    if (status == 0) {
      k->resolving = 1;
      as_list_push_back(&k->u->resolving, &k->node);
    }
  }
  if (status != 0) {
    free(k);
    as__io_error_push(L, status, "socket.send %s:%d", host, port);
    return lua_error(L);
  }
  return as__io_op_wait(L, &k->op, t);
}

/* ---- closing ---- */

static void udp_closed(uv_handle_t *h) {
  as_udp *u = h->data;
  as_list_remove(&u->node);
  if (u->owner) u->owner->u = NULL;
  while (u->head != NULL) free(dequeue(u));
  free(u);
}

/* Starts closing: every waiting receiver wakes to an IOError, a receiver
 * already handed a datagram keeps it, a send still resolving fails once
 * resolved; sends in libuv's hands end with UV_ECANCELED before the close
 * callback. */
static void udp_close(as_udp *u) {
  as_list *n;
  if (u->closing) return;
  u->closing = 1;
  while ((n = as_list_first(&u->waiting)) != NULL) {
    recv_op *r = as_container_of(n, recv_op, node);
    as_list_remove(n);
    r->u = NULL;
    as__io_op_finish(&r->op);
  }
  while ((n = as_list_first(&u->handed)) != NULL) {
    as_list_remove(n);
    as_container_of(n, recv_op, node)->u = NULL;
  }
  while ((n = as_list_first(&u->resolving)) != NULL) {
    as_list_remove(n);
    as_container_of(n, send_op, node)->u = NULL;
  }
  u->reading = 0;
  uv_close((uv_handle_t *)&u->handle, udp_closed);
}

void as__socket_close(as_socket *s) {
  if (s->u) udp_close(s->u);
}

void as__socket_collect(as_socket *s) {
  if (s->u == NULL) return;
  s->u->owner = NULL;              /* the close callback must not touch `s` */
  udp_close(s->u);
  s->u = NULL;
}

/* ---- binding ---- */

int as__udp_bind(lua_State *L, as_loop *loop, const char *host, int port) {
  struct sockaddr_storage addr;
  char name[AS_ADDRESS_MAX];
  int namelen = sizeof addr, status;
  sockets *all = sockets_of(loop);
  as_socket *s;
  as_udp *u;
  status = as__dns_parse_address(host, port, &addr);
  if (status != 0) {
    as__io_error_push(L, status, "udp.bind %s:%d", host, port);
    return lua_error(L);
  }
  /* The Socket first: it is what can raise (memory); then the socket. */
  s = lua_newuserdatauv(L, sizeof *s, 0);
  s->u = NULL;
  s->port = 0;
  luaL_setmetatable(L, AS_SOCKET_METATABLE);
  u = all ? malloc(sizeof *u) : NULL;
  if (u == NULL) return luaL_error(L, "not enough memory");
  memset(u, 0, offsetof(as_udp, buffer));
  u->loop = loop;
  u->family = addr.ss_family;
  as_list_init(&u->waiting);
  as_list_init(&u->handed);
  as_list_init(&u->resolving);
  uv_udp_init(&loop->uv, &u->handle);
  u->handle.data = u;
  as_list_push_back(&all->list, &u->node);
  status = uv_udp_bind(&u->handle, (struct sockaddr *)&addr, 0);
  if (status == 0) status = start_reading(u);
  if (status != 0) {
    udp_close(u);
    as__io_error_push(L, status, "udp.bind %s:%d", host, port);
    return lua_error(L);
  }
  update_ref(u);
  uv_udp_getsockname(&u->handle, (struct sockaddr *)&addr, &namelen);
  s->u = u;
  s->port = as__dns_address_name((struct sockaddr *)&addr, name);
  u->owner = s;
  return 1;
}
