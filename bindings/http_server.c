/* http_server.c (bindings) -- asched.http.listen and the HttpServer type;
 * the Lua face of io/http_server.c. */
#include <math.h>
#include <string.h>

#include "bindings.h"
#include "clock.h"
#include "http_server.h"
#include "tcp.h"

#define DEFAULT_MAX_BODY (1024 * 1024)
#define DEFAULT_TIMEOUT 30.0

static int check_port(lua_State *L, int arg) {
  lua_Integer port = as__check_integer(L, arg);
  if (port < 0 || port > 65535) as__arg_error(L, arg, "port out of range");
  return (int)port;
}

/* The options table at `arg`: max_body, timeout, reuseport; and tls,
 * returning 1 when it is there. */
static int read_options(lua_State *L, int arg, as_http_options *o, as_tls_server_options *tls) {
  static const char *const known[] = {"max_body", "timeout", "reuseport", "tls", NULL};
  lua_Number timeout;
  int present;
  o->max_body = DEFAULT_MAX_BODY;
  o->timeout = as_clock_duration(DEFAULT_TIMEOUT);
  o->reuseport = 0;
  if (!as__check_options(L, arg, known)) return 0;
  switch (as__option(L, arg, "max_body")) {
    case LUA_TNIL: break;
    case LUA_TNUMBER:
      if (!lua_isinteger(L, -1) || lua_tointeger(L, -1) < 0)
        as__option_error(L, arg, "max_body", "a non-negative integer (bytes)");
      o->max_body = (size_t)lua_tointeger(L, -1);
      break;
    default: as__option_error(L, arg, "max_body", "a non-negative integer (bytes)");
  }
  lua_pop(L, 1);
  timeout = as__option_seconds(L, arg, "timeout", &present);
  if (present) {
    if (!(timeout > 0)) as__arg_error(L, arg, "option 'timeout' must be positive");
    o->timeout = as_clock_duration(timeout);
  }
  o->reuseport = as__option_boolean(L, arg, "reuseport", 0);
  return as__option_tls_server(L, arg, tls);
}

/* listen(host, port, handler [, opts]) -> HttpServer. host nil: 127.0.0.1;
 * port 0: any free port (server.port says which). */
static int l_listen(lua_State *L) {
  const char *host = lua_isnoneornil(L, 1) ? "127.0.0.1" : as__check_string(L, 1, NULL);
  int port = check_port(L, 2);
  as_http_options opts;
  as_tls_server_options tls;
  int encrypted;
  as__check_callable(L, 3);
  encrypted = read_options(L, 4, &opts, &tls);
  if (!as__tcp_is_numeric(host)) return as__arg_error(L, 1, "a numeric IPv4 or IPv6 address expected");
  return as__http_listen(L, as__running_loop(L), host, port, 3, &opts, encrypted ? &tls : NULL);
}

/* close(): stops accepting; requests in flight finish. Idempotent. */
static int server_close(lua_State *L) {
  as__http_server_close(as__check_self(L, 1));
  return 0;
}

/* server.port, and the methods. */
static int server_index(lua_State *L) {
  as_http_server *srv = as__check_self(L, 1);
  const char *key = lua_tostring(L, 2);
  if (key && strcmp(key, "port") == 0) {
    lua_pushinteger(L, srv->port);
    return 1;
  }
  return as__index_method(L);
}

static int server_tostring(lua_State *L) {
  as_http_server *srv = as__check_self(L, 1);
  if (srv->l) lua_pushfstring(L, "HttpServer (port %d)", srv->port);
  else lua_pushliteral(L, "HttpServer (closed)");
  return 1;
}

/* Adds listen to asched.http (made by as__open_http). */
void as__open_http_server(lua_State *L) {
  static const luaL_Reg methods[] = {{"close", server_close}, {NULL, NULL}};
  static const luaL_Reg meta[] = {
    {"__index", server_index}, {"__gc", server_close}, {"__close", server_close},
    {"__tostring", server_tostring}, {NULL, NULL}
  };
  static const luaL_Reg functions[] = {{"listen", l_listen}, {NULL, NULL}};
  as__register_type(L, AS_HTTP_SERVER_METATABLE, methods, meta);
  lua_getfield(L, -1, "http");
  as__register(L, functions);
  lua_pop(L, 1);
}
