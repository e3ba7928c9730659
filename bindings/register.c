/* register.c -- the one way the module registers functions and types (see
 * bindings.h): every function carries the box and its public name, every
 * method its type's metatable too, so a method checks `self` by comparing
 * metatables, and every argument error names what the user called. */
#include "bindings.h"

#include <string.h>

/* Pushes `fn` as a closure with upvalues (box, name) and, when `type` is
 * not 0, the table at `type` as upvalue 3 and its address as upvalue 4. */
static void push_function(lua_State *L, const char *name, lua_CFunction fn, int type) {
  as__push_box(L);
  lua_pushstring(L, name);
  if (type) {
    lua_pushvalue(L, type);
    lua_pushlightuserdata(L, (void *)lua_topointer(L, type));
  }
  lua_pushcclosure(L, fn, type ? 4 : 2);
}

void as__push_function(lua_State *L, const char *name, lua_CFunction fn) {
  push_function(L, name, fn, 0);
}

/* Sets the functions of `list` into the table at `into`. */
static void set_functions(lua_State *L, int into, const luaL_Reg *list, int type) {
  for (; list->name != NULL; list++) {
    push_function(L, list->name, list->func, type);
    lua_setfield(L, into, list->name);
  }
}

void as__register(lua_State *L, const luaL_Reg *functions) {
  set_functions(L, lua_gettop(L), functions, 0);
}

void as__register_type(lua_State *L, const char *name, const luaL_Reg *methods,
                       const luaL_Reg *metamethods) {
  int mt, own_index = 0;
  const luaL_Reg *m;
  if (!luaL_newmetatable(L, name)) {
    lua_pop(L, 1);
    return;
  }
  mt = lua_gettop(L);
  for (m = metamethods; m && m->name; m++) {
    if (strcmp(m->name, "__index") == 0) own_index = 1;
  }
  if (methods) {
    lua_newtable(L);
    set_functions(L, lua_gettop(L), methods, mt);
    lua_setfield(L, mt, own_index ? "__methods" : "__index");
  }
  if (metamethods) set_functions(L, mt, metamethods, mt);
  lua_pop(L, 1);
}

int as__index_method(lua_State *L) {
  lua_getfield(L, AS_TYPE_UPVALUE, "__methods");
  lua_pushvalue(L, 2);
  lua_rawget(L, -2);
  return 1;
}
