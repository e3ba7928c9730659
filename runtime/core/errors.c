/* errors.c -- asched's error objects (see errors.h). Plain tables, so scripts
 * can read err.name and err.message and compare names. */
#include "errors.h"

#include <lauxlib.h>
#include <string.h>

static void push_error_v(lua_State *L, const char *name, const char *fmt, va_list ap) {
  lua_createtable(L, 0, 2);
  lua_pushstring(L, name);
  lua_setfield(L, -2, "name");
  lua_pushvfstring(L, fmt, ap);
  lua_setfield(L, -2, "message");
  luaL_setmetatable(L, AS_ERROR_METATABLE);
}

void as__error_push(lua_State *L, const char *name, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  push_error_v(L, name, fmt, ap);
  va_end(ap);
}

int as__error_raise(lua_State *L, const char *name, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  push_error_v(L, name, fmt, ap);
  va_end(ap);
  return lua_error(L);
}

int as__error_is(lua_State *L, int idx, const char *name) {
  int is;
  if (!lua_istable(L, idx) || !lua_getmetatable(L, idx)) return 0;
  luaL_getmetatable(L, AS_ERROR_METATABLE);
  is = lua_rawequal(L, -1, -2);
  lua_pop(L, 2);
  if (!is) return 0;
  lua_getfield(L, idx, "name");
  is = lua_type(L, -1) == LUA_TSTRING && strcmp(lua_tostring(L, -1), name) == 0;
  lua_pop(L, 1);
  return is;
}

static int tostring(lua_State *L) {
  luaL_tolstring(L, 1, NULL);
  return 1;
}

const char *as__error_message(lua_State *L, int idx) {
  int t = lua_type(L, idx);
  idx = lua_absindex(L, idx);
  if (t == LUA_TSTRING || t == LUA_TNUMBER) {
    lua_pushvalue(L, idx);                 /* tostring converts a number in place: a copy */
    return lua_tostring(L, -1);
  }
  if (luaL_getmetafield(L, idx, "__tostring") == LUA_TNIL)
    return lua_pushfstring(L, "(error object is a %s value)", luaL_typename(L, idx));
  lua_pop(L, 1);
  /* A __tostring that fails must not take the scheduler down with it. */
  lua_pushcfunction(L, tostring);
  lua_pushvalue(L, idx);
  if (lua_pcall(L, 1, 1, 0) != LUA_OK || lua_type(L, -1) != LUA_TSTRING) {
    lua_pop(L, 1);
    return lua_pushfstring(L, "(error object is a %s value whose __tostring failed)",
                           luaL_typename(L, idx));
  }
  return lua_tostring(L, -1);
}
