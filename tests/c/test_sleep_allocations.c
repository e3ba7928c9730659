/* test_sleep_allocations.c -- a sleep allocates nothing: a task sleeps a
 * thousand times (timer and sleep(0)) while an allocator counts blocks. */
#include <lauxlib.h>
#include <lualib.h>
#include <stdlib.h>

#include "test.h"

LUAMOD_API int luaopen_asched(lua_State *L);

static long allocations;

static void *counting_alloc(void *ud, void *ptr, size_t osize, size_t nsize) {
  (void)ud;
  (void)osize;
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

/* The first sleeps may grow the heap's callers' stacks; count after warm-up. */
static void a_timed_sleep_allocates_nothing(void) {
  CHECK(run_counting(
    "collectgarbage('stop')\n"
    "return asched.run({virtual_time = true}, function()\n"
    "  for _ = 1, 10 do asched.sleep(0.001) end\n"
    "  local before = allocations()\n"
    "  for _ = 1, 1000 do asched.sleep(0.001) end\n"
    "  return allocations() - before\n"
    "end)") == 0);
}

static void a_sleep_zero_allocates_nothing(void) {
  CHECK(run_counting(
    "collectgarbage('stop')\n"
    "return asched.run({virtual_time = true}, function()\n"
    "  for _ = 1, 10 do asched.sleep(0) end\n"
    "  local before = allocations()\n"
    "  for _ = 1, 1000 do asched.sleep(0) end\n"
    "  return allocations() - before\n"
    "end)") == 0);
}

static void sleeping_beside_other_tasks_allocates_nothing(void) {
  CHECK(run_counting(
    "collectgarbage('stop')\n"
    "return asched.run({virtual_time = true}, function()\n"
    "  local others = {}\n"
    "  for i = 1, 50 do others[i] = asched.spawn(function()\n"
    "    for _ = 1, 1000 do asched.sleep(0.001 * (i % 7)) end end) end\n"
    "  for _ = 1, 10 do asched.sleep(0.001) end\n"
    "  local before = allocations()\n"
    "  for _ = 1, 500 do asched.sleep(0.001) end\n"
    "  local counted = allocations() - before\n"
    "  for _, t in ipairs(others) do t:cancel() end\n"
    "  return counted\n"
    "end)") == 0);
}

int main(void) {
  static const test_case tests[] = {
    {"a_timed_sleep_allocates_nothing", a_timed_sleep_allocates_nothing},
    {"a_sleep_zero_allocates_nothing", a_sleep_zero_allocates_nothing},
    {"sleeping_beside_other_tasks_allocates_nothing", sleeping_beside_other_tasks_allocates_nothing},
    {NULL, NULL}
  };
  return run_tests(tests);
}
