/* signal.c (bindings) -- asched.signal: wait(name), the Lua face of
 * io/signals.c. Checks the name before anything is watched. */
#include "bindings.h"
#include "signals.h"

/* wait(name) -> name, once the signal arrives. Suspends. */
static int l_wait(lua_State *L) {
  const char *name = as__check_string(L, 1, NULL);
  int signum = as__signal_number(name);
  as_loop *loop;
  if (signum == 0) return as__arg_error(L, 1, lua_pushfstring(L, "unknown signal '%s'", name));
  if (!as__signal_waitable(signum))
    return as__arg_error(L, 1, lua_pushfstring(L, "%s cannot be waited for", name));
  loop = as__loop(L);
  return as__signal_wait(L, loop, as__current_task_in(L, loop), signum);
}

void as__open_signal(lua_State *L) {
  static const luaL_Reg functions[] = {{"wait", l_wait}, {NULL, NULL}};
  lua_newtable(L);
  as__register(L, functions);
  lua_setfield(L, -2, "signal");
}
