/* module.c -- the asched module table: run, spawn, current_task, all_tasks,
 * version; luaopen_asched gathers what the other binding files register. */
#include <lauxlib.h>
#include <stdlib.h>
#include <string.h>

#include "bindings.h"
#include "errors.h"
#include "loop.h"
#include "scope.h"
#include "sync.h"
#include "fs.h"
#include "http.h"
#include "process.h"
#include "tcp.h"
#include "threads.h"
#include "waitq.h"
#include "waitset.h"

extern const char as__combine_lua[], as__sync_lua[], as__process_lua[];
extern const size_t as__combine_lua_size, as__sync_lua_size, as__process_lua_size;

static int is_callable(lua_State *L, int idx) {
  if (lua_type(L, idx) == LUA_TFUNCTION) return 1;
  if (luaL_getmetafield(L, idx, "__call") == LUA_TNIL) return 0;
  lua_pop(L, 1);
  return 1;
}

void as__check_callable(lua_State *L, int arg) {
  if (!is_callable(L, arg)) luaL_typeerror(L, arg, "function");
}

/* Reads run's options table at index 1:
 * {virtual_time = bool, seed = integer, debug = bool}. */
static void check_run_options(lua_State *L, as_run_options *opts) {
  lua_getfield(L, 1, "virtual_time");
  opts->virtual_time = lua_toboolean(L, -1);
  lua_getfield(L, 1, "debug");
  opts->debug = lua_toboolean(L, -1);
  lua_pop(L, 2);
  switch (lua_getfield(L, 1, "timeline")) {
    case LUA_TNIL: break;
    case LUA_TBOOLEAN: opts->timeline = lua_toboolean(L, -1) ? "" : NULL; break;
    case LUA_TSTRING: opts->timeline = lua_tostring(L, -1); break;
    default: luaL_argerror(L, 1, "field 'timeline' must be a boolean or a file name");
  }
  if (lua_getfield(L, 1, "trace") != LUA_TNIL) {
    if (lua_type(L, -1) != LUA_TSTRING) luaL_argerror(L, 1, "field 'trace' must be a file name");
    opts->trace = lua_tostring(L, -1);
  }
  lua_pop(L, 2);   /* l_run keeps the table, so the strings stay alive */
  if (lua_getfield(L, 1, "seed") != LUA_TNIL) {
    int is_integer;
    lua_Integer seed = lua_tointegerx(L, -1, &is_integer);
    if (!is_integer) luaL_argerror(L, 1, "field 'seed' must be an integer");
    opts->seeded = 1;
    opts->seed = (uint64_t)seed;
  }
  lua_pop(L, 1);
}

/* run([options,] fn, ...) -> fn's results. */
static int l_run(lua_State *L) {
  as_run_options opts = {0};
  int nresults = 0, status, fn = 1;
  if (lua_type(L, 1) == LUA_TTABLE && !is_callable(L, 1)) {
    check_run_options(L, &opts);   /* the table stays below fn: its strings live */
    fn = 2;
  }
  as__check_callable(L, fn);
  status = as_run(L, lua_gettop(L) - fn, &opts, &nresults);
  if (status != LUA_OK) {
    lua_pop(L, 1);   /* the traceback: the caller gets the error value unchanged */
    return lua_error(L);
  }
  return nresults;
}

/* debug([on]) -> whether debug mode was on. With an argument, turns it on or
 * off for the running loop and the runs that follow in this Lua state. */
static int l_debug(lua_State *L) {
  as_box *box = lua_touserdata(L, AS_BOX_UPVALUE);
  int was_on = box->loop ? box->loop->debug : box->debug;
  if (!lua_isnone(L, 1)) {
    luaL_checktype(L, 1, LUA_TBOOLEAN);
    box->debug = lua_toboolean(L, 1);
    if (box->loop) box->loop->debug = box->debug;
  }
  lua_pushboolean(L, was_on);
  return 1;
}

/* spawn(fn, ...) -> Task, started on a later loop step. */
static int l_spawn(lua_State *L) {
  as_loop *loop;
  as__check_callable(L, 1);
  loop = as__loop(L);
  if (loop == NULL)
    return luaL_error(L, "asched.spawn: no running loop (call it from a task, "
                      "inside asched.run or an asched script)");
  as__task_spawn(L, loop, 1, lua_gettop(L) - 1);
  return 1;
}

static int l_current_task(lua_State *L) {
  as_loop *loop = as__loop(L);
  if (loop == NULL || loop->current == NULL) return 0;
  as__task_push(L, loop, loop->current);
  return 1;
}

/* all_tasks() -> the tasks not yet done, in spawn order. */
static int l_all_tasks(lua_State *L) {
  as_loop *loop = as__loop(L);
  int32_t i, n = 0;
  as_task **list = loop ? as__loop_pending_tasks(L, loop, &n) : NULL;
  lua_createtable(L, n, 0);
  for (i = 0; i < n; i++) {
    as__task_push(L, loop, list[i]);
    lua_rawseti(L, -2, i + 1);
  }
  free(list);
  return 1;
}

/* ---- what the Lua facade (combine.lua) is given ---- */

static int prim_is_callable(lua_State *L) {
  lua_pushboolean(L, is_callable(L, 1));
  return 1;
}

/* check_in_task(name): raises "asched.<name>: not inside a task" and the like. */
static int prim_check_in_task(lua_State *L) {
  as__task_check_current(L, as__loop(L), luaL_checkstring(L, 1));
  return 0;
}

/* type_name(v) -> v's type as Lua's own errors say it (its __name if any). */
static int prim_type_name(lua_State *L) {
  luaL_checkany(L, 1);
  if (luaL_getmetafield(L, 1, "__name") == LUA_TSTRING) return 1;
  lua_pushstring(L, luaL_typename(L, 1));
  return 1;
}

/* arg_error(n, fname, msg): raises "bad argument #n to 'fname' (msg)" with the
 * position of the call to the API function, the first frame outside asched's
 * own chunks -- where Lua's own argument errors point. */
static int prim_arg_error(lua_State *L) {
  lua_Debug ar;
  int level = 1;
  int n = (int)luaL_checkinteger(L, 1);
  const char *fname = luaL_checkstring(L, 2), *msg = luaL_checkstring(L, 3);
  while (lua_getstack(L, level, &ar)) {
    lua_getinfo(L, "S", &ar);
    if (ar.what[0] != 'C' &&
        strncmp(ar.source, AS_INTERNAL_CHUNK, sizeof AS_INTERNAL_CHUNK - 1) != 0) break;
    level++;
  }
  /* Called as a method (obj:f()), the API function counts arguments after
   * self, as luaL_argerror does. */
  if (lua_getstack(L, level - 1, &ar) && lua_getinfo(L, "n", &ar) && ar.namewhat &&
      strcmp(ar.namewhat, "method") == 0 && --n == 0)
    return luaL_error(L, "calling '%s' on bad self (%s)", fname, msg);
  luaL_where(L, level);
  lua_pushfstring(L, "bad argument #%d to '%s' (%s)", n, fname, msg);
  lua_concat(L, 2);
  return lua_error(L);
}

/* new_list(n) -> {n = n}, with room for n items. */
static int prim_new_list(lua_State *L) {
  lua_Integer n = luaL_checkinteger(L, 1);
  lua_createtable(L, (int)n, 1);
  lua_pushinteger(L, n);
  lua_setfield(L, -2, "n");
  return 1;
}

/* new_error(name, message) -> an asched error object. */
static int prim_new_error(lua_State *L) {
  as__error_push(L, luaL_checkstring(L, 1), "%s", luaL_checkstring(L, 2));
  return 1;
}

/* Runs each chunk of the Lua facade with the module table (on top) and the
 * primitives it composes. */
static void open_facade(lua_State *L) {
  static const struct { const char *code; const size_t *size; const char *name; } chunks[] = {
    {as__combine_lua, &as__combine_lua_size, AS_INTERNAL_CHUNK " combine.lua]"},
    {as__sync_lua, &as__sync_lua_size, AS_INTERNAL_CHUNK " sync.lua]"},
    {as__process_lua, &as__process_lua_size, AS_INTERNAL_CHUNK " process.lua]"},
  };
  int module = lua_gettop(L);
  size_t i;
  lua_newtable(L);
  as__open_waitset(L);
  as__open_scope(L);
  as__open_waitq(L);
  lua_pushcfunction(L, prim_is_callable);
  lua_setfield(L, -2, "is_callable");
  as__push_boxed(L, prim_check_in_task);
  lua_setfield(L, -2, "check_in_task");
  lua_pushcfunction(L, prim_new_error);
  lua_setfield(L, -2, "new_error");
  lua_pushcfunction(L, prim_type_name);
  lua_setfield(L, -2, "type_name");
  lua_pushcfunction(L, prim_arg_error);
  lua_setfield(L, -2, "arg_error");
  lua_pushcfunction(L, prim_new_list);
  lua_setfield(L, -2, "new_list");
  as__push_boxed(L, as__process_run);
  lua_setfield(L, -2, "process_run");
  for (i = 0; i < sizeof chunks / sizeof chunks[0]; i++) {
    if (luaL_loadbuffer(L, chunks[i].code, *chunks[i].size, chunks[i].name) != LUA_OK) lua_error(L);
    lua_pushvalue(L, module);
    lua_pushvalue(L, module + 1);
    lua_call(L, 2, 0);
  }
  lua_pop(L, 1);
}

LUAMOD_API int luaopen_asched(lua_State *L) {
  static const luaL_Reg functions[] = {
    {"run", l_run},
    {"debug", l_debug},
    {"spawn", l_spawn},
    {"create_task", l_spawn},
    {"current_task", l_current_task},
    {"all_tasks", l_all_tasks},
    {NULL, NULL}
  };
  as__error_open(L);
  luaL_newlibtable(L, functions);
  as__set_boxed(L, functions);
  as__open_task(L);
  as__open_time(L);
  as__open_threads(L);
  as__open_fs(L);
  as__open_http(L);
  as__open_tcp(L);
  as__open_sync(L);
  open_facade(L);
  lua_pushliteral(L, ASCHED_VERSION);
  lua_setfield(L, -2, "version");
  return 1;
}
