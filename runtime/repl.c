/* repl.c -- the stopgap interactive prompt: lua.c's REPL, where each input
 * runs as the main task of its own run. The real REPL replaces it later. */
#include <lauxlib.h>
#include <stdio.h>
#include <string.h>

#include "host.h"

#define LINE_BUFFER_SIZE 4096

static int read_line(lua_State *L, int first) {
  char buffer[LINE_BUFFER_SIZE];
  size_t len;
  fputs(first ? "> " : ">> ", stdout);
  fflush(stdout);
  if (fgets(buffer, sizeof buffer, stdin) == NULL) return 0;
  len = strlen(buffer);
  if (len > 0 && buffer[len - 1] == '\n') buffer[--len] = '\0';
  lua_pushlstring(L, buffer, len);
  return 1;
}

/* A syntax error ending at <eof> means the chunk may still be completed. */
static int incomplete(lua_State *L, int status) {
  size_t len;
  const char *msg;
  if (status != LUA_ERRSYNTAX) return 0;
  msg = lua_tolstring(L, -1, &len);
  return len >= 5 && strcmp(msg + len - 5, "<eof>") == 0;
}

/* Compiles "return <line>" first, so expressions print their values. */
static int load_input(lua_State *L) {
  int status;
  const char *line;
  if (!read_line(L, 1)) return -1;
  line = lua_tostring(L, -1);
  lua_pushfstring(L, "return %s", line);
  status = luaL_loadbuffer(L, lua_tostring(L, -1), lua_rawlen(L, -1), "=stdin");
  if (status == LUA_OK) {
    lua_remove(L, -2);
    lua_remove(L, -2);
    return LUA_OK;
  }
  lua_pop(L, 2);
  for (;;) {
    size_t len;
    const char *code = lua_tolstring(L, -1, &len);
    status = luaL_loadbuffer(L, code, len, "=stdin");
    if (!incomplete(L, status)) break;
    lua_pop(L, 1);
    if (!read_line(L, 0)) {
      lua_pop(L, 1);
      return -1;
    }
    lua_pushliteral(L, "\n");
    lua_insert(L, -2);
    lua_concat(L, 3);
  }
  lua_remove(L, -2);
  return status;
}

static void print_results(lua_State *L, int n) {
  if (n == 0) return;
  luaL_checkstack(L, LUA_MINSTACK, "too many results to print");
  lua_getglobal(L, "print");
  lua_insert(L, -n - 1);
  if (lua_pcall(L, n, 0, 0) != LUA_OK) {
    as_host_message(lua_tostring(L, -1));
    lua_pop(L, 1);
  }
}

void as_host_repl(lua_State *L) {
  int status;
  fprintf(stderr, "(the REPL is coming; for now each input runs as a main task of its own)\n");
  while ((status = load_input(L)) != -1) {
    int base = lua_gettop(L);
    if (status != LUA_OK) {
      as_host_message(lua_tostring(L, -1));
      lua_pop(L, 1);
      continue;
    }
    if (as_host_run(L, 0, 1) == LUA_OK) print_results(L, lua_gettop(L) - base + 1);
    lua_settop(L, 0);
  }
  fputs("\n", stdout);
  fflush(stdout);
}
