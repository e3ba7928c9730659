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

#include "held.h"
#include "task.h"
#include "vec.h"

extern const char as__timeline_lua[];
extern const size_t as__timeline_lua_size;
extern const char as__timeline_page_lua[];
extern const size_t as__timeline_page_lua_size;

#define HOLDERS_KEPT AS_HELD_NAMED   /* holders named per primitive on the page */

/* From `time` on, `task` is in `state`; `waker` is the task that made it
 * ready, or 0. */
typedef struct event {
  uint64_t time;        /* loop clock, ns */
  uint32_t task, waker;
  const char *state;    /* a static string */
} event;

/* A lock or semaphore the page shows, numbered in the order it was first
 * held or waited on: its holders as last logged, so a change is logged once.
 * `site` is only compared, never followed (the primitive may be gone). */
typedef struct primitive {
  const as_wait_site *site;
  const char *kind;     /* "lock", "semaphore": its wait type's static name */
  uint32_t ids[HOLDERS_KEPT];
  int n;                /* -1: not logged yet */
  lua_Integer more;
  uint64_t pass;        /* the last event at which it was in the loop's `held` */
} primitive;

typedef struct timeline {
  as_attachment attachment;
  as_observer observer;
  event *events;
  size_t count, capacity;
  int names_ref;        /* task id -> name, filled as tasks finish */
  int failed;           /* out of memory: the record is incomplete */
  char *draw_to;        /* NULL: no lanes; "": stderr; else an SVG or HTML path (owned) */
  char *trace_to;       /* NULL or a JSON path (owned) */
  int bounded;          /* keep only the newest AS_TIMELINE_KEPT events */
  /* The page (draw_to "*.html") also shows what each wait was and who held
   * what a task waited for; nothing of this is kept otherwise. */
  int detailed;
  int details_ref;      /* event index -> {wait, where, deadline, on} */
  int holders_ref;      /* list of {event index, primitive, kind, {holder ids}, more} */
  lua_Integer holders_count;
  primitive *prims;     /* malloc'd, `nprims` used of `prims_capacity`; number i + 1 */
  size_t nprims, prims_capacity;
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

/* `t` waits on something that is not the ready queue (as deadlock.c reads it). */
static int is_waiting(const as_task *t) {
  return t->state == AS_TASK_SUSPENDED && t->wait != NULL && !(t->flags & AS_TASK_IN_READY);
}

/* Logs that primitive `p` is held by its `ids`, from the event just recorded. */
static void log_holders(lua_State *L, timeline *tl, const primitive *p) {
  int k;
  lua_rawgeti(L, LUA_REGISTRYINDEX, tl->holders_ref);
  lua_createtable(L, 5, 0);
  lua_pushinteger(L, (lua_Integer)tl->count);
  lua_rawseti(L, -2, 1);
  lua_pushinteger(L, (lua_Integer)(p - tl->prims) + 1);
  lua_rawseti(L, -2, 2);
  lua_pushstring(L, p->kind);
  lua_rawseti(L, -2, 3);
  lua_createtable(L, p->n, 0);
  for (k = 0; k < p->n; k++) {
    lua_pushinteger(L, p->ids[k]);
    lua_rawseti(L, -2, k + 1);
  }
  lua_rawseti(L, -2, 4);
  lua_pushinteger(L, p->more);
  lua_rawseti(L, -2, 5);
  lua_rawseti(L, -2, ++tl->holders_count);
  lua_pop(L, 1);
}

/* The page's entry for the primitive whose waiters wait at `site`: found, or
 * made (log_held logs it next). NULL when out of memory. */
static primitive *primitive_at(timeline *tl, const as_wait_site *site) {
  primitive *p, *grown;
  size_t i;
  for (i = 0; i < tl->nprims; i++)
    if (tl->prims[i].site == site) return &tl->prims[i];
  if (tl->nprims == tl->prims_capacity) {
    grown = as_vec_grow(tl->prims, &tl->prims_capacity, tl->nprims + 1, sizeof *grown);
    if (grown == NULL) {
      tl->failed = 1;
      return NULL;
    }
    tl->prims = grown;
  }
  p = &tl->prims[tl->nprims++];
  memset(p, 0, sizeof *p);
  p->site = site;
  p->kind = site->type->timeline;
  p->n = -1;
  return p;
}

/* Logs the holders of every lock and semaphore whose holders changed since
 * the last event: those in the loop's `held` list, and those that left it
 * (held by no task now). O(held x primitives) per event: the page is for
 * runs a learner reads, not for a server's million events. */
static void log_held(lua_State *L, as_loop *loop, timeline *tl) {
  as_list *node;
  size_t i;
  for (node = loop->held.next; node != &loop->held; node = node->next) {
    const as_held *h = as_container_of(node, as_held, node);
    primitive *p = primitive_at(tl, h->site);
    int n = h->named < HOLDERS_KEPT ? h->named : HOLDERS_KEPT;
    lua_Integer more = h->unnamed + (h->named - n);
    if (p == NULL) return;
    p->pass = tl->count;
    if (n == p->n && more == p->more && memcmp(h->ids, p->ids, sizeof *p->ids * (size_t)n) == 0) continue;
    p->n = n;
    p->more = more;
    memcpy(p->ids, h->ids, sizeof *p->ids * (size_t)n);
    log_holders(L, tl, p);
  }
  for (i = 0; i < tl->nprims; i++) {
    primitive *p = &tl->prims[i];
    if (p->pass == tl->count || (p->n == 0 && p->more == 0)) continue;   /* held, or logged free */
    p->n = 0;
    p->more = 0;
    log_holders(L, tl, p);
  }
}

/* For the page: what the event just recorded for `t` was (its wait's own
 * description, the user's line, the deadline of a timer, the number of the
 * lock or semaphore it waits on), and who holds each lock and semaphore. */
static void note_detail(lua_State *L, as_loop *loop, timeline *tl, as_task *t) {
  if (is_waiting(t)) {
    lua_rawgeti(L, LUA_REGISTRYINDEX, tl->details_ref);
    lua_createtable(L, 0, 3);
    t->wait->type->describe(L, loop, t);
    lua_setfield(L, -2, "wait");
    as__task_push_where(L, t->co);
    lua_setfield(L, -2, "where");
    if (t->flags & AS_TASK_IN_TIMERS) {
      lua_pushnumber(L, (lua_Number)t->link.timer.deadline / 1e9);
      lua_setfield(L, -2, "deadline");
    }
    if (t->wait->type->held) {
      primitive *p = primitive_at(tl, t->wait);
      if (p != NULL) {
        lua_pushinteger(L, (lua_Integer)(p - tl->prims) + 1);
        lua_setfield(L, -2, "on");
      }
    }
    lua_rawseti(L, -2, (lua_Integer)tl->count);
    lua_pop(L, 1);
  }
  log_held(L, loop, tl);
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
  if (tl->detailed) note_detail(loop->L, loop, tl, t);
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
  if (!tl->detailed || as_text) return;
  lua_rawgeti(L, LUA_REGISTRYINDEX, tl->details_ref);
  lua_setfield(L, -2, "details");
  lua_rawgeti(L, LUA_REGISTRYINDEX, tl->holders_ref);
  lua_setfield(L, -2, "holders");
  if (luaL_loadbuffer(L, as__timeline_page_lua, as__timeline_page_lua_size,
                      "=[asched timeline_page.lua]") != LUA_OK)
    lua_error(L);
  lua_call(L, 0, 1);
  lua_setfield(L, -2, "page");
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
  luaL_unref(L, LUA_REGISTRYINDEX, tl->details_ref);
  luaL_unref(L, LUA_REGISTRYINDEX, tl->holders_ref);
  free(tl->prims);
  free(tl->events);
  free(tl->draw_to);
  free(tl->trace_to);
  free(tl);
}

/* `path` names an HTML page: drawn by timeline_page.lua, with details. */
static int is_page(const char *path) {
  size_t n = path ? strlen(path) : 0;
  return (n > 5 && strcmp(path + n - 5, ".html") == 0) || (n > 4 && strcmp(path + n - 4, ".htm") == 0);
}

void as__timeline_attach(lua_State *L, as_loop *loop, const char *draw_to, const char *trace_to, int bounded) {
  timeline *tl = calloc(1, sizeof *tl);
  if (tl == NULL) return;
  tl->draw_to = draw_to ? strdup(draw_to) : NULL;
  tl->trace_to = trace_to ? strdup(trace_to) : NULL;
  tl->bounded = bounded;
  tl->names_ref = tl->details_ref = tl->holders_ref = LUA_NOREF;
  tl->detailed = !bounded && is_page(draw_to);
  tl->attachment.key = &timeline_key;
  tl->attachment.close = close_timeline;
  tl->attachment.release = release_timeline;
  tl->observer.state = record;
  as__loop_attach(loop, &tl->attachment);   /* from here on, the loop frees it */
  lua_newtable(L);
  tl->names_ref = luaL_ref(L, LUA_REGISTRYINDEX);
  if (tl->detailed) {
    lua_newtable(L);
    tl->details_ref = luaL_ref(L, LUA_REGISTRYINDEX);
    lua_newtable(L);
    tl->holders_ref = luaL_ref(L, LUA_REGISTRYINDEX);
  }
  as__loop_observe(loop, &tl->observer);
}
