/* udp.c (bindings) -- asched.udp: bind, and the Socket type; the Lua face of
 * io/udp.c. */
#include <string.h>

#include "bindings.h"
#include "tcp.h"
#include "udp.h"

static int check_port(lua_State *L, int arg) {
  lua_Integer port = as__check_integer(L, arg);
  if (port < 0 || port > 65535) as__arg_error(L, arg, "port out of range");
  return (int)port;
}

/* bind(host, port) -> Socket. host nil: 127.0.0.1; port 0: any free port
 * (sock.port says which). */
static int l_bind(lua_State *L) {
  const char *host = lua_isnoneornil(L, 1) ? "127.0.0.1" : as__check_host(L, 1);
  int port = check_port(L, 2);
  as_loop *loop;
  if (!as__tcp_is_numeric(host)) return as__arg_error(L, 1, "a numeric IPv4 or IPv6 address expected");
  loop = as__running_loop(L);
  return as__udp_bind(L, loop, host, port);
}

/* ---- Socket ---- */

/* send(data, host, port): suspends until the datagram is handed to the kernel. */
static int socket_send(lua_State *L) {
  as_socket *s = as__check_self(L, 1);
  size_t size;
  const char *data = as__check_string(L, 2, &size);
  const char *host = as__check_host(L, 3);
  int port = check_port(L, 4);
  return as__socket_send(L, as__loop(L), as__current_task(L), s, data, size, host, port);
}

/* recv() -> data, host, port: the next datagram, waiting for one if none is queued. */
static int socket_recv(lua_State *L) {
  as_socket *s = as__check_self(L, 1);
  return as__socket_recv(L, as__loop(L), as__current_task(L), s);
}

/* close(): closes the socket; waiting receivers end. Idempotent. Also __close. */
static int socket_close(lua_State *L) {
  as__socket_close(as__check_self(L, 1));
  return 0;
}

static int socket_gc(lua_State *L) {
  as__socket_collect(as__check_self(L, 1));
  return 0;
}

static int socket_tostring(lua_State *L) {
  as_socket *s = as__check_self(L, 1);
  if (as__socket_is_open(s)) lua_pushfstring(L, "Socket (port %d)", s->port);
  else lua_pushliteral(L, "Socket (closed)");
  return 1;
}

/* sock.port, and the methods. */
static int socket_index(lua_State *L) {
  as_socket *s = as__check_self(L, 1);
  const char *key = lua_tostring(L, 2);
  if (key && strcmp(key, "port") == 0) {
    lua_pushinteger(L, s->port);
    return 1;
  }
  return as__index_method(L);
}

void as__open_udp(lua_State *L) {
  static const luaL_Reg socket_methods[] = {
    {"send", socket_send}, {"recv", socket_recv}, {"close", socket_close}, {NULL, NULL}
  };
  static const luaL_Reg socket_meta[] = {
    {"__index", socket_index}, {"__gc", socket_gc}, {"__close", socket_close},
    {"__tostring", socket_tostring}, {NULL, NULL}
  };
  static const luaL_Reg functions[] = {{"bind", l_bind}, {NULL, NULL}};
  as__register_type(L, AS_SOCKET_METATABLE, socket_methods, socket_meta);
  lua_newtable(L);
  as__register(L, functions);
  lua_setfield(L, -2, "udp");
}
