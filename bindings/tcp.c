/* tcp.c (bindings) -- asched.tcp: connect, listen, and the Stream and Server
 * types; the Lua face of io/tcp.c. */
#include <string.h>

#include "bindings.h"
#include "tcp.h"

static int check_port(lua_State *L, int arg) {
  lua_Integer port = as__check_integer(L, arg);
  if (port < 0 || port > 65535) as__arg_error(L, arg, "port out of range");
  return (int)port;
}

/* connect(host, port [, {tls =}]) -> Stream. Suspends while resolving,
 * connecting and, with tls, shaking hands. */
static int l_connect(lua_State *L) {
  static const char *const known[] = {"tls", NULL};
  const char *host = as__check_host(L, 1);
  int port = check_port(L, 2), encrypted;
  as_tls_client_options tls;
  as__check_options(L, 3, known);
  encrypted = as__option_tls_client(L, 3, &tls);
  return as__tcp_connect(L, as__loop(L), as__current_task(L), host, port, encrypted ? &tls : NULL);
}

/* listen(host, port, handler [, {reuseport =, tls =}]) -> Server. host nil:
 * 127.0.0.1; port 0: any free port (server.port says which). */
static int l_listen(lua_State *L) {
  static const char *const known[] = {"reuseport", "tls", NULL};
  const char *host = lua_isnoneornil(L, 1) ? "127.0.0.1" : as__check_string(L, 1, NULL);
  int port = check_port(L, 2), reuseport, encrypted;
  as_tls_server_options tls;
  as_loop *loop;
  as__check_callable(L, 3);
  as__check_options(L, 4, known);
  reuseport = as__option_boolean(L, 4, "reuseport", 0);
  encrypted = as__option_tls_server(L, 4, &tls);
  if (!as__tcp_is_numeric(host)) return as__arg_error(L, 1, "a numeric IPv4 or IPv6 address expected");
  loop = as__running_loop(L);
  return as__tcp_listen(L, loop, host, port, 3, reuseport, encrypted ? &tls : NULL);
}

/* ---- Stream ---- */

/* read([n]) -> up to n bytes (any available, at least one), or nil at the end. */
static int stream_read(lua_State *L) {
  as_stream *s = as__check_self(L, 1);
  lua_Integer n = lua_isnoneornil(L, 2) ? 0 : as__check_integer(L, 2);
  if (n < 0) as__arg_error(L, 2, "non-negative integer expected");
  return as__stream_read(L, as__loop(L), as__current_task(L), s, AS_READ_ANY, (size_t)n);
}

/* read_line() -> the next line without its "\n" (or "\r\n"), or nil at the end. */
static int stream_read_line(lua_State *L) {
  as_stream *s = as__check_self(L, 1);
  return as__stream_read(L, as__loop(L), as__current_task(L), s, AS_READ_LINE, 0);
}

/* write(s): suspends until the bytes are handed to the kernel. */
static int stream_write(lua_State *L) {
  as_stream *s = as__check_self(L, 1);
  size_t size;
  const char *data = as__check_string(L, 2, &size);
  return as__stream_write(L, as__loop(L), as__current_task(L), s, data, size);
}

/* close(): closes the connection; pending reads end. Idempotent. Also __close. */
static int stream_close(lua_State *L) {
  as__stream_close(as__check_self(L, 1));
  return 0;
}

static int stream_gc(lua_State *L) {
  as__stream_collect(as__check_self(L, 1));
  return 0;
}

static int stream_tostring(lua_State *L) {
  lua_pushstring(L, as__stream_is_open(as__check_self(L, 1)) ? "Stream (open)" : "Stream (closed)");
  return 1;
}

/* ---- Server ---- */

/* close(): stops accepting; connections already made go on. Idempotent. */
static int server_close(lua_State *L) {
  as__server_close(as__check_self(L, 1));
  return 0;
}

/* server.port, and the methods. */
static int server_index(lua_State *L) {
  as_server *srv = as__check_self(L, 1);
  const char *key = lua_tostring(L, 2);
  if (key && strcmp(key, "port") == 0) {
    lua_pushinteger(L, srv->port);
    return 1;
  }
  return as__index_method(L);
}

void as__open_tcp(lua_State *L) {
  static const luaL_Reg stream_methods[] = {
    {"read", stream_read}, {"read_line", stream_read_line}, {"write", stream_write},
    {"close", stream_close}, {NULL, NULL}
  };
  static const luaL_Reg stream_meta[] = {
    {"__gc", stream_gc}, {"__close", stream_close}, {"__tostring", stream_tostring}, {NULL, NULL}
  };
  static const luaL_Reg server_methods[] = {{"close", server_close}, {NULL, NULL}};
  static const luaL_Reg server_meta[] = {
    {"__index", server_index}, {"__gc", server_close}, {"__close", server_close}, {NULL, NULL}
  };
  static const luaL_Reg functions[] = {{"connect", l_connect}, {"listen", l_listen}, {NULL, NULL}};
  as__register_type(L, AS_STREAM_METATABLE, stream_methods, stream_meta);
  as__register_type(L, AS_SERVER_METATABLE, server_methods, server_meta);
  lua_newtable(L);
  as__register(L, functions);
  lua_setfield(L, -2, "tcp");
}
