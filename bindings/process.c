/* process.c (bindings) -- asched.process.run: reads argv and the options
 * once, checks them all, then runs the child (io/process.c); `timeout` runs
 * it under a timeout scope, like wait_for: on expiry the child is killed and
 * TimeoutError raised. */
#include <stdio.h>

#include "bindings.h"
#include "errors.h"
#include "process.h"
#include "scope.h"

static int is_string(lua_State *L, int idx) { return lua_type(L, idx) == LUA_TSTRING; }

/* The strings of the checked list at `list` as a NULL-terminated array, in
 * a userdata pushed on the stack (the strings stay alive in the list). */
static char **string_array(lua_State *L, int list, int32_t n) {
  char **array = lua_newuserdatauv(L, sizeof *array * ((size_t)n + 1), 0);
  int32_t i;
  for (i = 0; i < n; i++) {
    lua_rawgeti(L, list, i + 1);
    array[i] = (char *)lua_tostring(L, -1);
    lua_pop(L, 1);
  }
  array[n] = NULL;
  return array;
}

/* The env option {NAME = value}: "NAME=value" strings in a list pushed on
 * the stack, then their array (both kept until the call returns). */
static char **env_array(lua_State *L, int opts) {
  int32_t n = 0;
  int strings;
  if (as__option(L, opts, "env") == LUA_TNIL) {
    lua_pop(L, 1);
    return NULL;
  }
  if (lua_type(L, -1) != LUA_TTABLE) as__option_error(L, opts, "env", "a table");
  lua_newtable(L);
  strings = lua_gettop(L);
  lua_pushnil(L);
  while (lua_next(L, strings - 1)) {
    if (lua_type(L, -2) != LUA_TSTRING || (lua_type(L, -1) != LUA_TSTRING && lua_type(L, -1) != LUA_TNUMBER))
      as__arg_error(L, opts, "option 'env' must map names to strings");
    lua_pushfstring(L, "%s=%s", lua_tostring(L, -2), lua_tostring(L, -1));
    lua_rawseti(L, strings, ++n);
    lua_pop(L, 1);
  }
  return string_array(L, strings, n);
}

static int raise_timeout(lua_State *L, lua_Number seconds) {
  char text[32];
  snprintf(text, sizeof text, "%g", (double)seconds);
  return as__error_raise(L, "TimeoutError", "timed out after %s s", text);
}

/* run(argv [, {stdin=, cwd=, env=, timeout=}]) -> {code=, signal=, stdout=, stderr=}. */
static int l_run(lua_State *L) {
  static const char *const known[] = {"stdin", "cwd", "env", "timeout", NULL};
  as_loop *loop = as__loop(L);
  as_process_spec spec = {0};
  lua_Number timeout;
  int has_timeout, opts;
  int32_t n;
  as_task *t;
  lua_settop(L, 2);
  n = as__check_list(L, 1, "table", is_string, "argv", "a string");   /* 3: argv */
  if (n == 0) return as__arg_error(L, 1, "argv must name a program");
  opts = as__check_options(L, 2, known) ? 2 : 0;
  spec.input = as__option_string(L, 2, "stdin", &spec.input_size);
  spec.cwd = as__option_string(L, 2, "cwd", NULL);
  timeout = as__option_seconds(L, 2, "timeout", &has_timeout);
  spec.env = opts ? env_array(L, opts) : NULL;
  spec.argv = string_array(L, 3, n);
  t = as__current_task(L);
  if (!has_timeout) return as__process_run(L, loop, t, &spec);
  if (timeout <= 0) return raise_timeout(L, timeout);
  /* Under a timeout scope, as wait_for runs a function: its expiry cancels
   * the wait, which kills the child; the scope is a to-be-closed slot of
   * this frame, closed when the results return or the error passes. */
  as__scope_open(L, loop, t, as__loop_now(loop) + as_clock_duration(timeout))->seconds = timeout;
  lua_toclose(L, -1);
  return as__process_run(L, loop, t, &spec);
}

void as__open_process(lua_State *L) {
  static const luaL_Reg functions[] = {{"run", l_run}, {NULL, NULL}};
  lua_newtable(L);
  as__register(L, functions);
  lua_setfield(L, -2, "process");
}
