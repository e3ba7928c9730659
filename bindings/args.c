/* args.c -- reading a public function's arguments (see bindings.h): the one
 * argument error, the checks, option tables and lists. Errors name the public
 * function (upvalue 2 of every registered function) in Lua's own form. */
#include "bindings.h"

#include <string.h>

const char *as__public_name(lua_State *L) {
  const char *name = lua_tostring(L, AS_NAME_UPVALUE);
  return name ? name : "?";
}

int as__arg_error(lua_State *L, int arg, const char *msg) {
  lua_Debug ar;
  const char *fname = as__public_name(L);
  if (lua_getstack(L, 0, &ar) && lua_getinfo(L, "n", &ar) && ar.namewhat &&
      strcmp(ar.namewhat, "method") == 0) {
    arg--;                                 /* do not count self */
    if (arg == 0) return luaL_error(L, "calling '%s' on bad self (%s)", fname, msg);
  }
  return luaL_error(L, "bad argument #%d to '%s' (%s)", arg, fname, msg);
}

const char *as__push_type_name(lua_State *L, int idx) {
  int field;
  if (lua_isnone(L, idx)) return lua_pushliteral(L, "no value");
  idx = lua_absindex(L, idx);
  field = luaL_getmetafield(L, idx, "__name");
  if (field == LUA_TSTRING) return lua_tostring(L, -1);
  if (field != LUA_TNIL) lua_pop(L, 1);
  return lua_pushstring(L, luaL_typename(L, idx));
}

int as__type_error(lua_State *L, int arg, const char *expected) {
  const char *got = as__push_type_name(L, arg);
  return as__arg_error(L, arg, lua_pushfstring(L, "%s expected, got %s", expected, got));
}

lua_Number as__check_number(lua_State *L, int arg) {
  int is_number;
  lua_Number n = lua_tonumberx(L, arg, &is_number);
  if (!is_number) as__type_error(L, arg, "number");
  return n;
}

lua_Integer as__check_integer(lua_State *L, int arg) {
  int is_integer;
  lua_Integer n = lua_tointegerx(L, arg, &is_integer);
  if (!is_integer) {
    if (lua_isnumber(L, arg)) as__arg_error(L, arg, "number has no integer representation");
    else as__type_error(L, arg, "number");
  }
  return n;
}

const char *as__check_string(lua_State *L, int arg, size_t *len) {
  const char *s = lua_type(L, arg) == LUA_TSTRING ? lua_tolstring(L, arg, len) : NULL;
  if (s == NULL) as__type_error(L, arg, "string");
  return s;
}

const char *as__opt_string(lua_State *L, int arg, size_t *len) {
  if (lua_isnoneornil(L, arg)) return NULL;
  return as__check_string(L, arg, len);
}

void as__check_table(lua_State *L, int arg) {
  if (lua_type(L, arg) != LUA_TTABLE) as__type_error(L, arg, "table");
}

int as__check_boolean(lua_State *L, int arg) {
  if (lua_type(L, arg) != LUA_TBOOLEAN) as__type_error(L, arg, "boolean");
  return lua_toboolean(L, arg);
}

lua_Number as__check_seconds(lua_State *L, int arg, int nil_ok, int *present) {
  lua_Number s;
  if (present) *present = 1;
  if (nil_ok && lua_isnoneornil(L, arg)) {
    if (present) *present = 0;
    return 0;
  }
  if (lua_type(L, arg) != LUA_TNUMBER) as__type_error(L, arg, "number");   /* not "1" */
  s = lua_tonumber(L, arg);
  if (s != s) as__arg_error(L, arg, "number is NaN");
  return s;
}

lua_Integer as__check_count(lua_State *L, int arg, lua_Integer absent) {
  lua_Integer n;
  int is_integer;
  if (lua_isnoneornil(L, arg)) return absent;
  n = lua_tointegerx(L, arg, &is_integer);
  if (!is_integer || n < 0) {
    const char *got = lua_type(L, arg) == LUA_TNUMBER ? lua_tostring(L, arg) : as__push_type_name(L, arg);
    return as__arg_error(L, arg, lua_pushfstring(L, "non-negative integer expected, got %s", got));
  }
  return n;
}

int as__is_callable(lua_State *L, int idx) {
  if (lua_type(L, idx) == LUA_TFUNCTION) return 1;
  if (luaL_getmetafield(L, idx, "__call") == LUA_TNIL) return 0;
  lua_pop(L, 1);
  return 1;
}

void as__check_callable(lua_State *L, int arg) {
  if (!as__is_callable(L, arg)) as__type_error(L, arg, "function");
}

void *as__check_self(lua_State *L, int arg) {
  void *p = lua_touserdata(L, arg);
  if (p != NULL && lua_getmetatable(L, arg)) {
    const void *mt = lua_topointer(L, -1);
    lua_pop(L, 1);
    if (mt == lua_touserdata(L, AS_TYPE_ADDRESS_UPVALUE)) return p;
  }
  {
    /* Named before anything is pushed: a missing self stays "no value". */
    const char *got = as__push_type_name(L, arg);
    lua_getfield(L, AS_TYPE_UPVALUE, "__name");
    as__arg_error(L, arg, lua_pushfstring(L, "%s expected, got %s", lua_tostring(L, -1), got));
  }
  return NULL;
}

/* The box (upvalue 1 of every registered function) keeps the address of the
 * Task metatable: one comparison, no lookup in the registry (a light-userdata
 * key there costs ~150 instructions a call, a name ~75). */
as_task *as__to_task(lua_State *L, int arg) {
  const as_box *box = lua_touserdata(L, AS_BOX_UPVALUE);
  const void *mt;
  if (lua_type(L, arg) != LUA_TUSERDATA || !lua_getmetatable(L, arg)) return NULL;
  mt = lua_topointer(L, -1);
  lua_pop(L, 1);
  return mt == box->task_metatable ? lua_touserdata(L, arg) : NULL;
}

as_task *as__check_task(lua_State *L, int arg) {
  as_task *t = as__to_task(L, arg);
  if (t == NULL) as__type_error(L, arg, AS_TASK_METATABLE);
  return t;
}

as_task *as__not_in_task(lua_State *L) {
  return as__task_check_current(L, as__loop(L), as__public_name(L));
}

as_loop *as__running_loop(lua_State *L) {
  as_loop *loop = as__loop(L);
  if (loop == NULL)
    luaL_error(L, "asched.%s: no running loop (call it from a task, inside asched.run or an "
               "asched script)", as__public_name(L));
  return loop;
}

/* ---- options ---- */

static int is_known(const char *key, const char *const known[]) {
  for (; *known; known++) {
    if (strcmp(key, *known) == 0) return 1;
  }
  return 0;
}

int as__check_options(lua_State *L, int arg, const char *const known[]) {
  if (lua_isnoneornil(L, arg)) return 0;
  if (lua_type(L, arg) != LUA_TTABLE) return as__type_error(L, arg, "table of options");
  lua_pushnil(L);
  while (lua_next(L, arg)) {
    lua_pop(L, 1);
    if (lua_type(L, -1) != LUA_TSTRING)
      return as__arg_error(L, arg, lua_pushfstring(L, "unknown option [%s]", luaL_tolstring(L, -1, NULL)));
    if (!is_known(lua_tostring(L, -1), known))
      return as__arg_error(L, arg, lua_pushfstring(L, "unknown option '%s'", lua_tostring(L, -1)));
  }
  return 1;
}

int as__option(lua_State *L, int arg, const char *key) {
  if (lua_type(L, arg) != LUA_TTABLE) {
    lua_pushnil(L);
    return LUA_TNIL;
  }
  lua_pushstring(L, key);
  return lua_rawget(L, arg < 0 ? arg - 1 : arg);
}

int as__option_error(lua_State *L, int arg, const char *key, const char *expected) {
  const char *got = lua_type(L, -1) == LUA_TNUMBER ? lua_tostring(L, -1) : as__push_type_name(L, -1);
  return as__arg_error(L, arg, lua_pushfstring(L, "option '%s' must be %s, got %s", key, expected, got));
}

int as__option_boolean(lua_State *L, int arg, const char *key, int absent) {
  int value = absent;
  switch (as__option(L, arg, key)) {
    case LUA_TNIL: break;
    case LUA_TBOOLEAN: value = lua_toboolean(L, -1); break;
    default: as__option_error(L, arg, key, "a boolean");
  }
  lua_pop(L, 1);
  return value;
}

lua_Number as__option_seconds(lua_State *L, int arg, const char *key, int *present) {
  lua_Number s = 0;
  *present = 0;
  switch (as__option(L, arg, key)) {
    case LUA_TNIL: break;
    case LUA_TNUMBER:
      s = lua_tonumber(L, -1);
      if (s != s) as__arg_error(L, arg, lua_pushfstring(L, "option '%s' is NaN", key));
      *present = 1;
      break;
    default: as__option_error(L, arg, key, "a number");
  }
  lua_pop(L, 1);
  return s;
}

const char *as__option_string(lua_State *L, int arg, const char *key, size_t *len) {
  const char *s = NULL;
  switch (as__option(L, arg, key)) {
    case LUA_TNIL: break;
    case LUA_TSTRING: s = lua_tolstring(L, -1, len); break;   /* kept alive by the options table */
    default: as__option_error(L, arg, key, "a string");
  }
  lua_pop(L, 1);
  return s;
}

/* ---- lists ---- */

/* The item at `idx` is refused: an argument error naming it. */
static int bad_item(lua_State *L, int arg, lua_Integer i, const char *list, const char *item_what) {
  const char *got = as__push_type_name(L, -1);
  const char *item = list ? lua_pushfstring(L, "%s[%d]", list, (int)i) : lua_pushfstring(L, "item %d", (int)i);
  return as__arg_error(L, arg, lua_pushfstring(L, "%s is a %s, not %s", item, got, item_what));
}

/* Room a copy is made with before its items are read: all of them for a
 * plain table, whose length is its own; a proxy's copy grows as it is read,
 * so a length it claims costs nothing until its items are there. */
#define PROXY_PREALLOCATED 1024

int32_t as__check_list(lua_State *L, int arg, const char *what, as_item_check check, const char *list,
                       const char *item_what) {
  lua_Integer n, i;
  int is_integer, copy, proxy;
  arg = lua_absindex(L, arg);
  if (lua_type(L, arg) != LUA_TTABLE) as__type_error(L, arg, what);
  proxy = lua_getmetatable(L, arg);
  if (proxy) lua_pop(L, 1);
  lua_len(L, arg);
  n = lua_tointegerx(L, -1, &is_integer);
  if (!is_integer || n < 0 || n > AS_LIST_MAX) {
    const char *got = lua_type(L, -1) == LUA_TNUMBER ? lua_tostring(L, -1) : as__push_type_name(L, -1);
    if (!is_integer || n < 0) as__arg_error(L, arg, lua_pushfstring(L, "list length must be a non-negative integer, got %s", got));
    as__arg_error(L, arg, lua_pushfstring(L, "list too long (%s items; at most %d)", got, AS_LIST_MAX));
  }
  lua_pop(L, 1);
  lua_createtable(L, (int)(proxy && n > PROXY_PREALLOCATED ? PROXY_PREALLOCATED : n), 1);
  copy = lua_gettop(L);
  for (i = 1; i <= n; i++) {
    lua_geti(L, arg, i);
    if (!check(L, -1)) bad_item(L, arg, i, list, item_what);
    lua_rawseti(L, copy, i);
  }
  return (int32_t)n;
}
