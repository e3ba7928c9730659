/* timeline.c -- records task states for --timeline and --trace (see
 * timeline.h), and hands the record to the Lua renderer (timeline.lua) when
 * the run ends. Owns the record: an attachment of the loop that is also its
 * observer. */
#include "timeline.h"

#include <lauxlib.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "task.h"
#include "vec.h"

extern const char as__timeline_lua[];
extern const size_t as__timeline_lua_size;

/* From `time` on, `task` is in `state`; `waker` is the task that made it
 * ready, or 0. */
typedef struct event {
  uint64_t time;        /* loop clock, ns */
  uint32_t task, waker;
  const char *state;    /* a static string */
} event;

typedef struct timeline {
  as_attachment attachment;
  as_observer observer;
  event *events;
  size_t count, capacity;
  int names_ref;        /* task id -> name, filled as tasks finish */
  int failed;           /* out of memory: the record is incomplete */
  char *draw_to;        /* NULL: no lanes; "": stderr; else an SVG path (owned) */
  char *trace_to;       /* NULL or a JSON path (owned) */
  int bounded;          /* keep only the newest AS_TIMELINE_KEPT events */
} timeline;

static const char timeline_key = 'L';

static int reserve_one(timeline *tl) {
  event *grown;
  if (tl->count < tl->capacity) return 1;
  if (tl->bounded && tl->count >= AS_TIMELINE_KEPT) {
    /* forget the older half */
    size_t keep = tl->count / 2;
    memmove(tl->events, tl->events + (tl->count - keep), keep * sizeof *tl->events);
    tl->count = keep;
    return 1;
  }
  if (tl->failed) return 0;
  grown = as_vec_grow(tl->events, &tl->capacity, tl->count + 1, sizeof *grown);
  if (grown == NULL) {
    tl->failed = 1;
    return 0;
  }
  tl->events = grown;
  return 1;
}

/* Keeps the name of the pending task `t`. */
static void note_name(lua_State *L, as_loop *loop, timeline *tl, as_task *t) {
  lua_rawgeti(L, LUA_REGISTRYINDEX, tl->names_ref);
  as__task_push_pending_name(L, loop, t);
  lua_rawseti(L, -2, t->id);
  lua_pop(L, 1);
}

/* as_observer.state */
static void record(as_observer *o, as_loop *loop, as_task *t, const char *state) {
  timeline *tl = as_container_of(o, timeline, observer);
  as_task *waker = loop->current ? loop->current : loop->finishing;
  event *e;
  if (t->state == AS_TASK_DONE) note_name(loop->L, loop, tl, t);
  if (!reserve_one(tl)) return;
  e = &tl->events[tl->count++];
  e->time = as_clock_now(&loop->clock);
  e->task = t->id;
  e->waker = waker && waker != t ? waker->id : 0;
  e->state = state;
}

/* Pushes the record as a list of {time, task, state, waker} (seconds, ids). */
static void push_events(lua_State *L, const timeline *tl) {
  size_t i;
  lua_createtable(L, (int)tl->count, 0);
  for (i = 0; i < tl->count; i++) {
    const event *e = &tl->events[i];
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
static void push_info(lua_State *L, as_loop *loop, const timeline *tl, double since, int as_text) {
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
static int call_renderer(lua_State *L, as_loop *loop, timeline *tl, double since, int as_text) {
  int32_t i, n;
  as_task **pending = as__task_pending(L, loop, &n);
  for (i = 0; i < n; i++) note_name(L, loop, tl, pending[i]);  /* as they are now */
  free(pending);
  if (luaL_loadbuffer(L, as__timeline_lua, as__timeline_lua_size, "=[asched timeline.lua]") != LUA_OK)
    return lua_error(L);
  push_events(L, tl);
  lua_rawgeti(L, LUA_REGISTRYINDEX, tl->names_ref);
  push_info(L, loop, tl, since, as_text);
  lua_call(L, 3, 1);
  return 1;
}

/* (loop, timeline) -> draws and writes at the end of the run; in lua_pcall. */
static int draw(lua_State *L) {
  return call_renderer(L, lua_touserdata(L, 1), lua_touserdata(L, 2), 0, 0);
}

void as__timeline_push_recent(lua_State *L, as_loop *loop, double seconds) {
  timeline *tl = (timeline *)as__loop_attachment(loop, &timeline_key);
  double now = (double)as_clock_now(&loop->clock) / 1e9;
  if (tl == NULL || tl->count == 0) {
    lua_pushnil(L);
    return;
  }
  call_renderer(L, loop, tl, seconds < now ? now - seconds : 0, 1);
}

/* The run is over: draw and write what was asked for. */
static void close_timeline(as_attachment *a, lua_State *L, as_loop *loop) {
  timeline *tl = (timeline *)a;
  as__loop_unobserve(&tl->observer);
  if (tl->bounded) return;
  lua_pushcfunction(L, draw);
  lua_pushlightuserdata(L, loop);
  lua_pushlightuserdata(L, tl);
  if (lua_pcall(L, 2, 0, 0) != LUA_OK) {
    as__report(lua_pushfstring(L, "timeline: %s", lua_tostring(L, -1)), NULL);
    lua_pop(L, 2);
  }
}

static void release_timeline(as_attachment *a, lua_State *L, as_loop *loop) {
  timeline *tl = (timeline *)a;
  (void)loop;
  luaL_unref(L, LUA_REGISTRYINDEX, tl->names_ref);
  free(tl->events);
  free(tl->draw_to);
  free(tl->trace_to);
  free(tl);
}

void as__timeline_attach(lua_State *L, as_loop *loop, const char *draw_to, const char *trace_to, int bounded) {
  timeline *tl = calloc(1, sizeof *tl);
  if (tl == NULL) return;
  tl->draw_to = draw_to ? strdup(draw_to) : NULL;
  tl->trace_to = trace_to ? strdup(trace_to) : NULL;
  tl->bounded = bounded;
  tl->names_ref = LUA_NOREF;
  tl->attachment.key = &timeline_key;
  tl->attachment.close = close_timeline;
  tl->attachment.release = release_timeline;
  tl->observer.state = record;
  as__loop_attach(loop, &tl->attachment);   /* from here on, the loop frees it */
  lua_newtable(L);
  tl->names_ref = luaL_ref(L, LUA_REGISTRYINDEX);
  as__loop_observe(loop, &tl->observer);
}
