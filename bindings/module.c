/* module.c -- the asched module table: run, debug, spawn, current_task,
 * all_tasks, version; luaopen_asched gathers what the other binding files
 * register. */
#include <stdlib.h>

#include "bindings.h"
#include "errors.h"
#include "run.h"

static const char *const run_options[] = {"virtual_time", "seed", "debug", "timeline", "trace", NULL};

/* Reads run's options table at argument 1 (its strings stay alive below fn). */
static void check_run_options(lua_State *L, as_run_options *opts) {
  as__check_options(L, 1, run_options);
  opts->virtual_time = as__option_boolean(L, 1, "virtual_time", 0);
  opts->debug = as__option_boolean(L, 1, "debug", 0);
  switch (as__option(L, 1, "timeline")) {
    case LUA_TNIL: break;
    case LUA_TBOOLEAN: opts->timeline = lua_toboolean(L, -1) ? "" : NULL; break;
    case LUA_TSTRING: opts->timeline = lua_tostring(L, -1); break;
    default: as__option_error(L, 1, "timeline", "a boolean or a file name");
  }
  lua_pop(L, 1);
  opts->trace = as__option_string(L, 1, "trace", NULL);
  if (as__option(L, 1, "seed") != LUA_TNIL) {
    int is_integer;
    lua_Integer seed = lua_tointegerx(L, -1, &is_integer);
    if (!is_integer || lua_type(L, -1) != LUA_TNUMBER) as__option_error(L, 1, "seed", "an integer");
    opts->seeded = 1;
    opts->seed = (uint64_t)seed;
  }
  lua_pop(L, 1);
}

/* run([options,] fn, ...) -> fn's results. */
static int l_run(lua_State *L) {
  as_run_options opts = {0};
  int nresults = 0, status, fn = 1;
  if (lua_type(L, 1) == LUA_TTABLE && !as__is_callable(L, 1)) {
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
  if (!lua_isnone(L, 1)) was_on = as__set_debug(L, as__check_boolean(L, 1));
  lua_pushboolean(L, was_on);
  return 1;
}

/* spawn(fn, ...) -> Task, started on a later loop step. */
static int l_spawn(lua_State *L) {
  as__check_callable(L, 1);
  as__task_spawn(L, as__running_loop(L), 1, lua_gettop(L) - 1);
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
  as_task **list = loop ? as__task_pending(L, loop, &n) : NULL;
  lua_createtable(L, n, 0);
  for (i = 0; i < n; i++) {
    as__task_push(L, loop, list[i]);
    lua_rawseti(L, -2, i + 1);
  }
  free(list);
  return 1;
}

/* An error object's __tostring: "name: message"; a field that is not a
 * string reads as absent. */
static int error_tostring(lua_State *L) {
  const char *name, *message;
  lua_getfield(L, 1, "name");
  lua_getfield(L, 1, "message");
  name = lua_type(L, -2) == LUA_TSTRING ? lua_tostring(L, -2) : "Error";
  message = lua_type(L, -1) == LUA_TSTRING ? lua_tostring(L, -1) : "";
  lua_pushfstring(L, "%s: %s", name, message);
  return 1;
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
  static const luaL_Reg error_meta[] = {{"__tostring", error_tostring}, {NULL, NULL}};
  as__register_type(L, AS_ERROR_METATABLE, NULL, error_meta);
  luaL_newlibtable(L, functions);
  as__register(L, functions);
  as__open_task(L);
  as__open_time(L);
  as__open_combine(L);
  as__open_sync(L);
  as__open_queue(L);
  as__open_barrier(L);
  as__open_group(L);
  as__open_threads(L);
  as__open_fs(L);
  as__open_process(L);
  as__open_signal(L);
  as__open_tcp(L);
  as__open_http(L);
  as__open_http_server(L);   /* adds listen to asched.http */
  as__open_udp(L);
  as__open_dns(L);
  lua_pushliteral(L, ASCHED_VERSION);
  lua_setfield(L, -2, "version");
  return 1;
}
