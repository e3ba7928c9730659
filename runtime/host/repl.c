/* repl.c -- starts the REPL (runtime/repl.lua, compiled in) as the main task
 * of a run, on a script's globals and tasks when there is one (asched -i),
 * with its session scope (repl_session.lua: locals that last the session). */
#include <lauxlib.h>
#include <stdio.h>

#include "console.h"
#include "errors.h"
#include "host.h"
#include "interrupt.h"

extern const char as__repl_lua[];
extern const size_t as__repl_lua_size;
extern const char as__repl_session_lua[];
extern const size_t as__repl_session_lua_size;

/* Pushes a new session scope over the globals, or returns 0 with the
 * error reported. */
static int push_session(lua_State *L) {
  if (luaL_loadbuffer(L, as__repl_session_lua, as__repl_session_lua_size, "=[asched repl_session.lua]") != LUA_OK ||
      (lua_pushglobaltable(L), lua_pcall(L, 1, 1, 0)) != LUA_OK) {
    as_host_message(lua_tostring(L, -1));
    lua_pop(L, 1);
    return 0;
  }
  return 1;
}

void as_host_repl(lua_State *L, int script, int nargs) {
  char banner[128];
  int i, status;
  as_run_options options = as_host_options;
  snprintf(banner, sizeof banner, "asched %s (%s)", ASCHED_VERSION, LUA_RELEASE);
  if (luaL_loadbuffer(L, as__repl_lua, as__repl_lua_size, "=[asched repl.lua]") != LUA_OK) {
    as_host_message(lua_tostring(L, -1));
    lua_pop(L, 1);
    return;
  }
  lua_getglobal(L, "asched");
  as__open_console(L);
  if (script) lua_pushvalue(L, script);
  else lua_pushnil(L);
  lua_createtable(L, nargs, 1);
  for (i = 1; i <= nargs; i++) {
    lua_pushvalue(L, script + i);
    lua_rawseti(L, -2, i);
  }
  lua_pushinteger(L, nargs);
  lua_setfield(L, -2, "n");
  lua_pushstring(L, banner);
  if (!push_session(L)) {
    lua_pop(L, 6);   /* the chunk and its five arguments so far */
    return;
  }
  /* The console takes Ctrl-C (cancel the input, or clear the line); SIGTERM
   * ends the session as it ends a script. */
  options.host_setup = as__terminate_setup;
  options.record_timeline = 1;   /* for :timeline */
  status = as_run(L, 6, &options, &i);
  as__interrupt_stop();
  if (status == LUA_OK) {
    lua_pop(L, i);
  } else {   /* a session ended by SIGTERM is not an error: main() says "terminated" */
    if (as_interrupt_signal() == 0)
      as_host_message(lua_type(L, -1) == LUA_TSTRING ? lua_tostring(L, -1) : as__error_message(L, -2));
    lua_pop(L, 2);
  }
}
