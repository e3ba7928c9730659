/* counting.h -- runs a chunk in a fresh Lua state with asched loaded and an
 * allocator that counts every block it hands out or grows: the C tests of
 * hot paths that must allocate nothing. The chunk gets `allocations()` and
 * returns the count it measured; run_counting returns it, or -1 on error. */
#ifndef ASCHED_TEST_COUNTING_H
#define ASCHED_TEST_COUNTING_H

#include <lauxlib.h>
#include <lualib.h>
#include <stdio.h>
#include <stdlib.h>

LUAMOD_API int luaopen_asched(lua_State *L);

static long allocations;

static void *counting_alloc(void *ud, void *ptr, size_t osize, size_t nsize) {
  (void)ud;
  if (nsize == 0) {
    free(ptr);
    return NULL;
  }
  if (ptr == NULL || nsize > osize) allocations++;
  return realloc(ptr, nsize);
}

static int l_allocations(lua_State *L) {
  lua_pushinteger(L, allocations);
  return 1;
}

static long run_counting(const char *chunk) {
  long counted = -1;
  lua_State *L = lua_newstate(counting_alloc, NULL);
  luaL_openlibs(L);
  luaL_requiref(L, "asched", luaopen_asched, 1);
  lua_pop(L, 1);
  lua_register(L, "allocations", l_allocations);
  if (luaL_dostring(L, chunk) != LUA_OK) {
    fprintf(stderr, "%s\n", lua_tostring(L, -1));
  } else {
    counted = (long)lua_tointeger(L, -1);
  }
  lua_close(L);
  return counted;
}

#endif
