/* tls.c (bindings) -- the `tls` option of tcp.connect, tcp.listen and
 * http.listen, read and checked whole (every key known, every value of its
 * type) before anything is made. Its strings stay owned by the caller's
 * options table, an argument of the call. */
#include <string.h>

#include "bindings.h"
#include "tls.h"

/* "option 'tls.<key>' must be <expected>, got <type>" for the value on top. */
static int bad_field(lua_State *L, int arg, const char *key, const char *expected) {
  const char *got = as__push_type_name(L, -1);
  return as__arg_error(L, arg, lua_pushfstring(L, "option 'tls.%s' must be %s, got %s", key, expected, got));
}

/* Pushes field `key` of the `tls` table at `tbl` (raw) and returns its type. */
static int field(lua_State *L, int tbl, const char *key) {
  lua_pushstring(L, key);
  return lua_rawget(L, tbl);
}

/* Field `key`: a string without zero bytes (a path, a name), or NULL. */
static const char *string_field(lua_State *L, int arg, int tbl, const char *key) {
  const char *s = NULL;
  size_t len;
  switch (field(L, tbl, key)) {
    case LUA_TNIL: break;
    case LUA_TSTRING:
      s = lua_tolstring(L, -1, &len);
      if (strlen(s) != len) bad_field(L, arg, key, "a string without zero bytes");
      break;
    default: bad_field(L, arg, key, "a string");
  }
  lua_pop(L, 1);
  return s;
}

/* The `tls` table of the options at `arg`, pushed and checked: only the keys
 * in `known`. Returns its stack index. */
static int tls_table(lua_State *L, int arg, const char *const known[]) {
  int tbl = lua_gettop(L);
  lua_pushnil(L);
  while (lua_next(L, tbl)) {
    int i;
    lua_pop(L, 1);
    for (i = 0; known[i] && (lua_type(L, -1) != LUA_TSTRING || strcmp(lua_tostring(L, -1), known[i]) != 0); i++) {
    }
    if (known[i] == NULL)
      as__arg_error(L, arg, lua_pushfstring(L, "unknown option 'tls.%s'", luaL_tolstring(L, -1, NULL)));
  }
  return tbl;
}

int as__option_tls_client(lua_State *L, int arg, as_tls_client_options *o) {
  static const char *const known[] = {"verify", "ca", "server_name", NULL};
  int tbl;
  o->verify = 1;
  o->ca = o->server_name = NULL;
  switch (as__option(L, arg, "tls")) {
    case LUA_TNIL: lua_pop(L, 1); return 0;
    case LUA_TBOOLEAN: {
      int on = lua_toboolean(L, -1);
      lua_pop(L, 1);
      return on;
    }
    case LUA_TTABLE: break;
    default: return as__option_error(L, arg, "tls", "true or a table");
  }
  tbl = tls_table(L, arg, known);
  switch (field(L, tbl, "verify")) {
    case LUA_TNIL: break;
    case LUA_TBOOLEAN: o->verify = lua_toboolean(L, -1); break;
    default: bad_field(L, arg, "verify", "a boolean");
  }
  lua_pop(L, 1);
  o->ca = string_field(L, arg, tbl, "ca");
  o->server_name = string_field(L, arg, tbl, "server_name");
  lua_pop(L, 1);
  return 1;
}

int as__option_tls_server(lua_State *L, int arg, as_tls_server_options *o) {
  static const char *const known[] = {"cert", "key", NULL};
  int tbl;
  o->cert = o->key = NULL;
  if (as__option(L, arg, "tls") == LUA_TNIL) {
    lua_pop(L, 1);
    return 0;
  }
  if (!lua_istable(L, -1)) return as__option_error(L, arg, "tls", "a table {cert =, key =}");
  tbl = tls_table(L, arg, known);
  o->cert = string_field(L, arg, tbl, "cert");
  o->key = string_field(L, arg, tbl, "key");
  if (o->cert == NULL || o->key == NULL)
    as__arg_error(L, arg, o->cert ? "option 'tls.key' expected (a path)" : "option 'tls.cert' expected (a path)");
  lua_pop(L, 1);
  return 1;
}
