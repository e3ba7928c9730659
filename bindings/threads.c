/* threads.c (bindings) -- asched.to_thread: the Lua face of io/threads.c. */
#include <string.h>

#include "bindings.h"
#include "errors.h"
#include "threads.h"

/* Checks that argument 1 is a Lua function whose only upvalue, if any, is _ENV. */
static void check_function(lua_State *L) {
  const char *name;
  int i;
  if (lua_type(L, 1) != LUA_TFUNCTION) as__type_error(L, 1, "function");
  if (lua_iscfunction(L, 1)) as__arg_error(L, 1, "a Lua function expected, got a C function");
  for (i = 1; (name = lua_getupvalue(L, 1, i)) != NULL; i++) {
    lua_pop(L, 1);
    if (strcmp(name, "_ENV") != 0)
      as__arg_error(L, 1, lua_pushfstring(L, "the function uses the local '%s' of an enclosing "
                                          "function; only globals reach a thread", name));
  }
}

/* to_thread(fn, ...) -> fn(...)'s values, run on the thread pool. Suspends. */
static int l_to_thread(lua_State *L) {
  as_loop *loop = as__loop(L);
  as_thread_job *job;
  as_task *t;
  int bad;
  check_function(L);
  t = as__current_task(L);
  if (as__in_thread_worker(L))
    return as__error_raise(L, "RuntimeError", "to_thread: called inside a to_thread worker, which would "
                           "wait on the thread pool it runs in (a hang once every pool thread does): "
                           "call the function directly instead");
  job = as__thread_job_new(L, 1, 2, lua_gettop(L) - 1, &bad);
  if (job == NULL)
    return as__arg_error(L, bad + 1, lua_pushfstring(L, "%s, which cannot be copied to a thread", lua_tostring(L, -1)));
  return as__thread_job_run(L, loop, t, job);
}

void as__open_threads(lua_State *L) {
  static const luaL_Reg functions[] = {{"to_thread", l_to_thread}, {NULL, NULL}};
  as__register(L, functions);
}
