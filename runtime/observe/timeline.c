/* timeline.c -- records task states for --timeline and --trace, and hands the
 * record to the Lua renderer (timeline.lua) when the run ends. */
#include "timeline.h"

#include <lauxlib.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "loop.h"

extern const char as__timeline_lua[];
extern const size_t as__timeline_lua_size;

void as__timeline_open(lua_State *L, as_loop *loop, const char *draw_to, const char *trace_to) {
  as_timeline *tl = calloc(1, sizeof *tl);
  if (tl == NULL) return;
  lua_newtable(L);
  tl->names_ref = luaL_ref(L, LUA_REGISTRYINDEX);
  tl->draw_to = draw_to ? strdup(draw_to) : NULL;
  tl->trace_to = trace_to ? strdup(trace_to) : NULL;
  loop->timeline = tl;
}

void as__timeline_open_bounded(lua_State *L, as_loop *loop) {
  as__timeline_open(L, loop, NULL, NULL);
  if (loop->timeline) loop->timeline->bounded = 1;
}

static int reserve_one(as_timeline *tl) {
  as_timeline_event *grown;
  size_t capacity;
  if (tl->count < tl->capacity) return 1;
  if (tl->bounded && tl->count >= AS_TIMELINE_KEPT) {
    /* forget the older half */
    size_t keep = tl->count / 2;
    memmove(tl->events, tl->events + (tl->count - keep), keep * sizeof *tl->events);
    tl->count = keep;
    return 1;
  }
  if (tl->failed) return 0;
  capacity = tl->capacity ? tl->capacity * 2 : 1024;
  grown = realloc(tl->events, capacity * sizeof *grown);
  if (grown == NULL) {
    tl->failed = 1;
    return 0;
  }
  tl->events = grown;
  tl->capacity = capacity;
  return 1;
}

void as__timeline_record(as_loop *loop, as_task *t, const char *state) {
  as_timeline *tl = loop->timeline;
  as_task *waker = loop->current ? loop->current : loop->finishing;
  as_timeline_event *e;
  if (!reserve_one(tl)) return;
  e = &tl->events[tl->count++];
  e->time = as_clock_now(&loop->clock);
  e->task = t->id;
  e->waker = waker && waker != t ? waker->id : 0;
  e->state = state;
}

void as__timeline_note_name(lua_State *L, as_loop *loop, as_task *t) {
  lua_rawgeti(L, LUA_REGISTRYINDEX, loop->timeline->names_ref);
  as__task_push_name(L, -2, t);
  lua_rawseti(L, -2, t->id);
  lua_pop(L, 1);
}

/* Pushes the record as a list of {time, task, state, waker} (seconds, ids). */
static void push_events(lua_State *L, const as_timeline *tl) {
  size_t i;
  lua_createtable(L, (int)tl->count, 0);
  for (i = 0; i < tl->count; i++) {
    const as_timeline_event *e = &tl->events[i];
    lua_createtable(L, 0, 4);
    lua_pushnumber(L, (lua_Number)e->time / 1e9);
    lua_setfield(L, -2, "time");
    lua_pushinteger(L, e->task);
    lua_setfield(L, -2, "task");
    lua_pushstring(L, e->state);
    lua_setfield(L, -2, "state");
    lua_pushinteger(L, e->waker);
    lua_setfield(L, -2, "waker");
    lua_rawseti(L, -2, (lua_Integer)i + 1);
  }
}

/* Sets info.rows and info.columns when `fd` is a terminal: lanes fold past
 * its height and fit its width. */
static void push_terminal_size(lua_State *L, int fd) {
  struct winsize size;
  if (ioctl(fd, TIOCGWINSZ, &size) != 0 || size.ws_row == 0) return;
  lua_pushinteger(L, size.ws_row);
  lua_setfield(L, -2, "rows");
  lua_pushinteger(L, size.ws_col);
  lua_setfield(L, -2, "columns");
}

/* `as_text`: draw the lanes into a string, whatever the run asked for. */
static void push_info(lua_State *L, as_loop *loop, const as_timeline *tl, double since, int as_text) {
  lua_createtable(L, 0, 7);
  lua_pushnumber(L, since);
  lua_setfield(L, -2, "since");
  lua_pushboolean(L, loop->clock.is_virtual);
  lua_setfield(L, -2, "virtual");
  lua_pushnumber(L, (lua_Number)as_clock_now(&loop->clock) / 1e9);
  lua_setfield(L, -2, "duration");
  lua_pushstring(L, as_text ? "text" : tl->draw_to);
  lua_setfield(L, -2, "draw_to");
  lua_pushstring(L, as_text ? NULL : tl->trace_to);
  lua_setfield(L, -2, "trace_to");
  lua_pushboolean(L, tl->failed);
  lua_setfield(L, -2, "incomplete");
  push_terminal_size(L, as_text ? STDOUT_FILENO : STDERR_FILENO);
}

/* Calls timeline.lua on the record from time `since` on; returns what it
 * returns (the text when info.draw_to is "text"). */
static int call_renderer(lua_State *L, as_loop *loop, double since, int as_text) {
  as_timeline *tl = loop->timeline;
  int32_t i, n;
  as_task **pending = as__loop_pending_tasks(L, loop, &n);
  for (i = 0; i < n; i++) {   /* names of tasks still running: as they are now */
    as__task_push(L, loop, pending[i]);
    as__timeline_note_name(L, loop, pending[i]);
    lua_pop(L, 1);
  }
  free(pending);
  if (luaL_loadbuffer(L, as__timeline_lua, as__timeline_lua_size, "=[asched timeline.lua]") != LUA_OK)
    return lua_error(L);
  push_events(L, tl);
  lua_rawgeti(L, LUA_REGISTRYINDEX, tl->names_ref);
  push_info(L, loop, tl, since, as_text);
  lua_call(L, 3, 1);
  return 1;
}

/* (loop) -> draws and writes at the end of the run; runs under lua_pcall. */
static int draw(lua_State *L) {
  return call_renderer(L, lua_touserdata(L, 1), 0, 0);
}

void as__timeline_push_recent(lua_State *L, as_loop *loop, double seconds) {
  as_timeline *tl = loop->timeline;
  double now = (double)as_clock_now(&loop->clock) / 1e9;
  if (tl == NULL || tl->count == 0) {
    lua_pushnil(L);
    return;
  }
  call_renderer(L, loop, seconds < now ? now - seconds : 0, 1);
}

void as__timeline_close(lua_State *L, as_loop *loop) {
  as_timeline *tl = loop->timeline;
  if (tl == NULL) return;
  lua_pushcfunction(L, draw);
  lua_pushlightuserdata(L, loop);
  if (lua_pcall(L, 1, 0, 0) != LUA_OK) {
    as__report(lua_pushfstring(L, "timeline: %s", lua_tostring(L, -1)), NULL);
    lua_pop(L, 2);
  }
  luaL_unref(L, LUA_REGISTRYINDEX, tl->names_ref);
  free(tl->events);
  free(tl->draw_to);
  free(tl->trace_to);
  free(tl);
  loop->timeline = NULL;
}
