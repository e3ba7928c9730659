/* dns.c -- resolving host names on the loop (see dns.h), and the text of
 * addresses. A resolve is an io_op around one uv_getaddrinfo request, which
 * libuv runs on its thread pool; the op owns the request, the addrinfo list
 * it yields and a copy of the host name, and frees all three in `release`.
 * Nothing here touches a socket. */
#include "dns.h"

#include <lauxlib.h>
#include <stdlib.h>
#include <string.h>

#include "io_op.h"

/* ---- addresses ---- */

int as__dns_parse_address(const char *host, int port, struct sockaddr_storage *addr) {
  if (uv_ip4_addr(host, port, (struct sockaddr_in *)addr) == 0) return 0;
  return uv_ip6_addr(host, port, (struct sockaddr_in6 *)addr);
}

int as__dns_address_name(const struct sockaddr *addr, char name[AS_ADDRESS_MAX]) {
  name[0] = '\0';
  if (addr->sa_family == AF_INET) {
    const struct sockaddr_in *in = (const struct sockaddr_in *)addr;
    uv_inet_ntop(AF_INET, &in->sin_addr, name, AS_ADDRESS_MAX);
    return ntohs(in->sin_port);
  }
  if (addr->sa_family == AF_INET6) {
    const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)addr;
    uv_inet_ntop(AF_INET6, &in6->sin6_addr, name, AS_ADDRESS_MAX);
    return ntohs(in6->sin6_port);
  }
  return 0;
}

/* ---- resolving ---- */

typedef struct resolve_op {
  as_io_op op;
  uv_getaddrinfo_t req;
  struct addrinfo *res;   /* what the resolver found, or NULL */
  int status;             /* 0, or a libuv error */
  char host[];            /* for the IOError's message */
} resolve_op;

static void on_resolved(uv_getaddrinfo_t *req, int status, struct addrinfo *res) {
  resolve_op *r = req->data;
  r->status = status;
  r->res = res;
  as__io_op_finish(&r->op);
}

/* The addresses, in the resolver's order, each once: it gives one entry per
 * socket type and may repeat an address across its sources. */
static int resolve_push(lua_State *L, as_io_op *op) {
  resolve_op *r = (resolve_op *)op;
  const struct addrinfo *ai;
  char name[AS_ADDRESS_MAX];
  int n = 0;
  if (r->status != 0) {
    as__io_error_push(L, r->status, "dns.resolve %s", r->host);
    return AS_IO_FAILED;
  }
  lua_newtable(L);
  lua_newtable(L);                       /* the addresses seen */
  for (ai = r->res; ai != NULL; ai = ai->ai_next) {
    as__dns_address_name(ai->ai_addr, name);
    if (name[0] == '\0') continue;
    lua_pushstring(L, name);
    if (lua_rawget(L, -2) == LUA_TNIL) {
      lua_pushstring(L, name);
      lua_rawseti(L, -4, ++n);
      lua_pushstring(L, name);
      lua_pushboolean(L, 1);
      lua_rawset(L, -4);
    }
    lua_pop(L, 1);
  }
  lua_pop(L, 1);
  return 1;
}

/* The caller is gone: a request still queued on the pool is taken off it (its
 * callback then reports UV_EAI_CANCELED); one already running finishes and
 * its callback releases the op. */
static void resolve_abort(as_io_op *op) {
  resolve_op *r = (resolve_op *)op;
  uv_cancel((uv_req_t *)&r->req);
}

static void resolve_release(as_io_op *op) {
  resolve_op *r = (resolve_op *)op;
  if (r->res) uv_freeaddrinfo(r->res);
  free(r);
}

static const as_io_op_type RESOLVE_TYPE = {AS_IO_WAIT("io"), "resolving a host name", resolve_push,
                                           resolve_abort, resolve_release};

int as__dns_resolve(lua_State *L, as_loop *loop, as_task *t, const char *host) {
  struct addrinfo hints;
  size_t size = strlen(host) + 1;
  resolve_op *r = calloc(1, sizeof *r + size);
  int status;
  if (r == NULL) return luaL_error(L, "not enough memory");
  memcpy(r->host, host, size);
  as__io_op_init(&r->op, &RESOLVE_TYPE, loop);
  memset(&hints, 0, sizeof hints);
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;     /* one entry per address, not one per socket type */
  r->req.data = r;
  status = uv_getaddrinfo(&loop->uv, &r->req, on_resolved, r->host, NULL, &hints);
  if (status != 0) {
    free(r);
    as__io_error_push(L, status, "dns.resolve %s", host);
    return lua_error(L);
  }
  return as__io_op_wait(L, &r->op, t);
}
