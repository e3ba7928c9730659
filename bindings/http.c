/* http.c (bindings) -- asched.http: request, get and post; reads the options
 * once, checks them all, then starts the transfer (io/http.c). */
#include <limits.h>
#include <math.h>
#include <string.h>

#include "bindings.h"
#include "http.h"

static int has_crlf(const char *s) { return strpbrk(s, "\r\n") != NULL; }

/* The checked headers table at `idx` of options argument `arg`: its names and
 * values in two arrays of userdata pushed on the stack. */
static void read_headers(lua_State *L, int arg, int idx, as_http_request *r) {
  const char **names, **values;
  size_t n = 0, i = 0;
  lua_pushnil(L);
  while (lua_next(L, idx)) {
    if (lua_type(L, -2) != LUA_TSTRING || lua_type(L, -1) != LUA_TSTRING)
      as__arg_error(L, arg, "option 'headers' must map names to strings");
    if (lua_rawlen(L, -2) == 0 || strpbrk(lua_tostring(L, -2), ":\r\n \t") != NULL || has_crlf(lua_tostring(L, -1)))
      as__arg_error(L, arg, lua_pushfstring(L, "invalid header %s", lua_tostring(L, -2)));
    lua_pop(L, 1);
    n++;
  }
  names = lua_newuserdatauv(L, sizeof *names * (n ? n : 1), 0);
  values = lua_newuserdatauv(L, sizeof *values * (n ? n : 1), 0);
  lua_pushnil(L);
  while (lua_next(L, idx)) {              /* strings kept alive by the table */
    names[i] = lua_tostring(L, -2);
    values[i++] = lua_tostring(L, -1);
    lua_pop(L, 1);
  }
  r->header_names = names;
  r->header_values = values;
  r->header_count = n;
}

/* The options table at `arg`: headers and timeout, and with `full` (request)
 * url, method and body too. Leaves what it keeps on the stack. */
static void read_options(lua_State *L, int arg, int full, as_http_request *r) {
  static const char *const some[] = {"headers", "timeout", NULL};
  static const char *const all[] = {"url", "method", "headers", "body", "timeout", NULL};
  int present;
  lua_Number timeout;
  if (!as__check_options(L, arg, full ? all : some)) return;
  if (full) {
    r->url = as__option_string(L, arg, "url", NULL);
    if (r->url == NULL) as__arg_error(L, arg, "option 'url' must be a string");
    r->method = as__option_string(L, arg, "method", NULL);
    if (r->method && (*r->method == '\0' ||
                      strspn(r->method, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz-_") != strlen(r->method)))
      as__arg_error(L, arg, "option 'method' must be a word such as \"GET\"");
    r->body = as__option_string(L, arg, "body", &r->body_size);
  }
  switch (as__option(L, arg, "headers")) {
    case LUA_TNIL: lua_pop(L, 1); break;
    case LUA_TTABLE: read_headers(L, arg, lua_gettop(L), r); break;
    default: as__option_error(L, arg, "headers", "a table");
  }
  timeout = as__option_seconds(L, arg, "timeout", &present);
  if (present) {
    if (!(timeout > 0)) as__arg_error(L, arg, "option 'timeout' must be positive");
    r->timeout_ms = timeout * 1000 >= (lua_Number)LONG_MAX ? LONG_MAX : (long)ceil(timeout * 1000);
  }
}

static int start(lua_State *L, as_http_request *r) {
  as_task *t = as__current_task(L);
  if (r->method == NULL) r->method = r->body ? "POST" : "GET";
  return as__http_request(L, as__loop(L), t, r);
}

/* request{method=, url=, headers=, body=, timeout=} -> {status=, headers=, body=}. */
static int l_request(lua_State *L) {
  as_http_request r = {.opname = "http.request"};
  as__check_table(L, 1);
  lua_settop(L, 1);
  read_options(L, 1, 1, &r);
  return start(L, &r);
}

/* get(url [, opts]). */
static int l_get(lua_State *L) {
  as_http_request r = {.opname = "http.get", .method = "GET"};
  r.url = as__check_string(L, 1, NULL);
  lua_settop(L, 2);
  read_options(L, 2, 0, &r);
  return start(L, &r);
}

/* post(url, body [, opts]). */
static int l_post(lua_State *L) {
  as_http_request r = {.opname = "http.post", .method = "POST"};
  r.url = as__check_string(L, 1, NULL);
  r.body = as__check_string(L, 2, &r.body_size);
  lua_settop(L, 3);
  read_options(L, 3, 0, &r);
  return start(L, &r);
}

void as__open_http(lua_State *L) {
  static const luaL_Reg functions[] = {
    {"request", l_request},
    {"get", l_get},
    {"post", l_post},
    {NULL, NULL}
  };
  lua_newtable(L);
  as__register(L, functions);
  lua_setfield(L, -2, "http");
}
