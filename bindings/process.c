/* process.c (bindings) -- asched.process: run and spawn read argv and the
 * options once and check them all before anything starts. run runs the child
 * to completion (io/process.c); `timeout` runs it under a timeout scope, like
 * wait_for: on expiry the child is killed and TimeoutError raised. spawn
 * starts a Process (io/subprocess.c) with Streams on the pipes asked for. */
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "bindings.h"
#include "errors.h"
#include "io_op.h"
#include "process.h"
#include "scope.h"
#include "signals.h"
#include "subprocess.h"
#include "tcp.h"

static int is_string(lua_State *L, int idx) { return lua_type(L, idx) == LUA_TSTRING; }

/* A string a C function reads whole: no zero byte in it. */
static int is_c_string(lua_State *L, int idx) {
  size_t len;
  const char *s = lua_tolstring(L, idx, &len);
  return strlen(s) == len;
}

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
    if (lua_type(L, -2) != LUA_TSTRING || (lua_type(L, -1) != LUA_TSTRING && lua_type(L, -1) != LUA_TNUMBER) ||
        !is_c_string(L, -2) || !is_c_string(L, -1) || lua_rawlen(L, -2) == 0 || strchr(lua_tostring(L, -2), '='))
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

/* ---- spawn and the Process ---- */

static const char *const STDIO_NAMES[3] = {"stdin", "stdout", "stderr"};

/* Option `key` of the options at `opts`: "inherit" (or absent), "pipe" or "null". */
static as_stdio stdio_option(lua_State *L, int opts, const char *key) {
  as_stdio mode = AS_STDIO_INHERIT;
  const char *s = as__option_string(L, opts, key, NULL);
  if (s == NULL || strcmp(s, "inherit") == 0) return mode;
  if (strcmp(s, "pipe") == 0) return AS_STDIO_PIPE;
  if (strcmp(s, "null") == 0) return AS_STDIO_NULL;
  as__arg_error(L, opts, lua_pushfstring(L, "option '%s' must be \"pipe\", \"inherit\" or \"null\", got \"%s\"",
                                         key, s));
  return mode;
}

/* spawn(argv [, {cwd=, env=, stdin=, stdout=, stderr=}]) -> Process. */
static int l_spawn(lua_State *L) {
  static const char *const known[] = {"cwd", "env", "stdin", "stdout", "stderr", NULL};
  as_spawn_spec spec;
  size_t cwd_size;
  int32_t n;
  int opts, i;
  lua_settop(L, 2);
  n = as__check_list(L, 1, "table", is_string, "argv", "a string");   /* 3: argv */
  if (n == 0) return as__arg_error(L, 1, "argv must name a program");
  for (i = 1; i <= n; i++) {
    lua_rawgeti(L, 3, i);
    if (!is_c_string(L, -1)) as__arg_error(L, 1, lua_pushfstring(L, "argv[%d] holds a zero byte", (int)i));
    lua_pop(L, 1);
  }
  opts = as__check_options(L, 2, known) ? 2 : 0;
  spec.cwd = as__option_string(L, 2, "cwd", &cwd_size);
  if (spec.cwd && strlen(spec.cwd) != cwd_size) as__arg_error(L, 2, "option 'cwd' holds a zero byte");
  for (i = 0; i < 3; i++) spec.stdio[i] = stdio_option(L, 2, STDIO_NAMES[i]);
  spec.env = opts ? env_array(L, opts) : NULL;
  spec.argv = string_array(L, 3, n);
  return as__process_spawn(L, as__running_loop(L), &spec);
}

/* The signal argument at `arg`: a name, SIGTERM when absent. */
static int check_signal(lua_State *L, int arg) {
  const char *name;
  int signum;
  if (lua_isnoneornil(L, arg)) return SIGTERM;
  if (lua_type(L, arg) != LUA_TSTRING) return as__type_error(L, arg, "signal name");
  name = lua_tostring(L, arg);
  signum = as__signal_number(name);
  if (signum == 0) return as__arg_error(L, arg, lua_pushfstring(L, "unknown signal '%s'", name));
  return signum;
}

/* wait() -> code, signal name or nil. Suspends until the child has exited. */
static int process_wait(lua_State *L) {
  as_process *p = as__check_self(L, 1);
  as_loop *loop = as__loop(L);
  return as__process_wait(L, loop, as__current_task_in(L, loop), p);
}

/* kill([signal]) -> true when sent, false when the child had exited. */
static int process_kill(lua_State *L) {
  as_process *p = as__check_self(L, 1);
  int signum = check_signal(L, 2);
  int sent = as__process_kill(p, signum);
  if (sent < 0) {
    as__io_error_push(L, sent, "process.kill %d", p->pid);
    return lua_error(L);
  }
  lua_pushboolean(L, sent);
  return 1;
}

/* __close: kills the child if it runs, reaps it, and closes its pipes. */
static int process_close(lua_State *L) {
  as_process *p = as__check_self(L, 1);
  int i;
  as__process_close(p);
  for (i = 1; i <= 3; i++) {
    if (lua_getiuservalue(L, 1, i) == LUA_TUSERDATA) as__stream_close(lua_touserdata(L, -1));
    lua_pop(L, 1);
  }
  return 0;
}

static int process_gc(lua_State *L) {
  as__process_collect(as__check_self(L, 1));
  return 0;
}

static int process_tostring(lua_State *L) {
  as_process *p = as__check_self(L, 1);
  lua_pushfstring(L, "Process %d (%s)", p->pid, p->exited ? "exited" : "running");
  return 1;
}

/* proc.pid, proc.stdin, proc.stdout, proc.stderr, and the methods. */
static int process_index(lua_State *L) {
  as_process *p = as__check_self(L, 1);
  const char *key = lua_tostring(L, 2);
  int i;
  if (key && strcmp(key, "pid") == 0) {
    lua_pushinteger(L, p->pid);
    return 1;
  }
  for (i = 0; key && i < 3; i++) {
    if (strcmp(key, STDIO_NAMES[i]) == 0) {
      lua_getiuservalue(L, 1, i + 1);
      return 1;
    }
  }
  return as__index_method(L);
}

void as__open_process(lua_State *L) {
  static const luaL_Reg functions[] = {{"run", l_run}, {"spawn", l_spawn}, {NULL, NULL}};
  static const luaL_Reg methods[] = {{"wait", process_wait}, {"kill", process_kill}, {NULL, NULL}};
  static const luaL_Reg meta[] = {
    {"__index", process_index}, {"__close", process_close}, {"__gc", process_gc},
    {"__tostring", process_tostring}, {NULL, NULL}
  };
  as__register_type(L, AS_PROCESS_METATABLE, methods, meta);
  lua_newtable(L);
  as__register(L, functions);
  lua_setfield(L, -2, "process");
}
