/* libfuzzer.c -- a libFuzzer target (clang -fsanitize=fuzzer) over the
 * random task-program generator of tests/fuzz: each input's bytes are the
 * generator's choices (libfuzzer.lua), the program runs on a fresh loop in
 * one long-lived Lua state, and a broken invariant aborts, so libFuzzer keeps
 * the input. Built with -DASCHED_LIBFUZZER=ON (see the README). */
#include <lauxlib.h>
#include <lualib.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

LUAMOD_API int luaopen_asched(lua_State *L);

static lua_State *state;
static int check_ref;   /* the function libfuzzer.lua returns */

int LLVMFuzzerInitialize(int *argc, char ***argv) {
  (void)argc;
  (void)argv;
  state = luaL_newstate();
  if (state == NULL) abort();
  luaL_openlibs(state);
  luaL_requiref(state, "asched", luaopen_asched, 1);
  lua_pop(state, 1);
  if (luaL_loadfile(state, ASCHED_FUZZ_DIR "libfuzzer.lua") != LUA_OK) {
    fprintf(stderr, "%s\n", lua_tostring(state, -1));
    abort();
  }
  lua_pushstring(state, ASCHED_FUZZ_DIR);
  if (lua_pcall(state, 1, 1, 0) != LUA_OK) {
    fprintf(stderr, "%s\n", lua_tostring(state, -1));
    abort();
  }
  check_ref = luaL_ref(state, LUA_REGISTRYINDEX);
  return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  int kept;
  lua_rawgeti(state, LUA_REGISTRYINDEX, check_ref);
  lua_pushlstring(state, (const char *)data, size);
  if (lua_pcall(state, 1, 1, 0) != LUA_OK) {   /* the driver itself failed */
    fprintf(stderr, "%s\n", lua_tostring(state, -1));
    abort();
  }
  kept = lua_toboolean(state, -1);
  lua_pop(state, 1);
  lua_gc(state, LUA_GCCOLLECT);   /* what a run left unreachable goes now */
  if (!kept) abort();
  return 0;
}
