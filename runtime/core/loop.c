/* loop.c -- the services of a run's state (see loop.h): the box, registry
 * tables, the queue of done callbacks, observers, attachments, alarms and
 * reports. Knows no task field: tasks are task.c, the scheduler scheduler.c. */
#include "loop.h"

#include <lauxlib.h>
#include <stdio.h>
#include <stdlib.h>

static const char box_key = 'B'; /* registry[&box_key] = this state's as_box */

void as__push_box(lua_State *L) {
  if (lua_rawgetp(L, LUA_REGISTRYINDEX, &box_key) != LUA_TNIL) return;
  lua_pop(L, 1);
  *(as_box *)lua_newuserdatauv(L, sizeof(as_box), 0) = (as_box){.loop = NULL, .debug = 0, .task_metatable = NULL};
  lua_pushvalue(L, -1);
  lua_rawsetp(L, LUA_REGISTRYINDEX, &box_key);
}

as_box *as__box(lua_State *L) {
  as_box *box;
  as__push_box(L);
  box = lua_touserdata(L, -1);
  lua_pop(L, 1);
  return box;
}

as_loop *as_loop_of(lua_State *L) { return as__box(L)->loop; }

void as__loop_push_table(lua_State *L, int ref) { lua_rawgeti(L, LUA_REGISTRYINDEX, ref); }

void as__push_table(lua_State *L, const char *mode) {
  lua_newtable(L);
  if (mode == NULL) return;
  lua_createtable(L, 0, 1);
  lua_pushstring(L, mode);
  lua_setfield(L, -2, "__mode");
  lua_setmetatable(L, -2);
}

/* ---- done callbacks: {task, fn} pairs in a FIFO table (scheduler.c runs them) ---- */

void as__loop_queue_callback(as_loop *loop, lua_State *L, int tidx) {
  tidx = lua_absindex(L, tidx);
  as__loop_push_table(L, loop->callback_queue_ref);
  lua_pushvalue(L, tidx);
  lua_rawseti(L, -2, 2 * loop->callback_tail + 1);
  lua_rotate(L, -2, 1);
  lua_rawseti(L, -2, 2 * loop->callback_tail + 2);
  lua_pop(L, 1);
  loop->callback_tail++;
}

/* ---- observers and attachments ---- */

void as__loop_observe(as_loop *loop, as_observer *o) {
  as_list_push_back(&loop->observers, &o->node);
}

void as__loop_unobserve(as_observer *o) { as_list_remove(&o->node); }

void as__loop_notify_state(as_loop *loop, struct as_task *t, const char *state) {
  as_list *n;
  for (n = loop->observers.next; n != &loop->observers; n = n->next) {
    as_observer *o = as_container_of(n, as_observer, node);
    if (o->state) o->state(o, loop, t, state);
  }
}

void as__loop_attach(as_loop *loop, as_attachment *a) {
  as_list_push_back(&loop->attachments, &a->node);
}

as_attachment *as__loop_attachment(as_loop *loop, const void *key) {
  as_list *n;
  for (n = loop->attachments.next; n != &loop->attachments; n = n->next) {
    as_attachment *a = as_container_of(n, as_attachment, node);
    if (a->key == key) return a;
  }
  return NULL;
}

static void free_attachment(as_attachment *a, lua_State *L, as_loop *loop) {
  (void)L;
  (void)loop;
  free(a);
}

as_attachment *as__loop_attachment_make(as_loop *loop, const void *key, size_t size,
                                        void (*close)(as_attachment *, lua_State *, as_loop *),
                                        void (*release)(as_attachment *, lua_State *, as_loop *),
                                        int *made) {
  as_attachment *a = as__loop_attachment(loop, key);
  *made = 0;
  if (a != NULL) return a;
  a = calloc(1, size);
  if (a == NULL) return NULL;
  a->key = key;
  a->close = close;
  a->release = release ? release : free_attachment;
  as__loop_attach(loop, a);
  *made = 1;
  return a;
}

/* ---- alarms ---- */

void as__alarm_start(as_loop *loop, as_alarm *a, uint64_t deadline) {
  as_timer_wheel_insert(&loop->alarms, &a->timer, deadline, loop->timer_seq++);
  a->armed = 1;
}

void as__alarm_stop(as_loop *loop, as_alarm *a) {
  if (!a->armed) return;
  as_timer_wheel_remove(&loop->alarms, &a->timer);
  a->armed = 0;
}

/* ---- reports ---- */

void as__report(const char *msg, const char *traceback) {
  fprintf(stderr, "asched: %s\n", msg);
  if (traceback) fprintf(stderr, "%s\n", traceback);
  fflush(stderr);
}

void as__report_failure(lua_State *L, int record) {
  const char *task, *traceback;
  int top = lua_gettop(L);
  record = lua_absindex(L, record);
  lua_getfield(L, record, "task");
  lua_getfield(L, record, "traceback");
  task = lua_tostring(L, -2);
  traceback = lua_tostring(L, -1);
  if (traceback == NULL) {             /* no traceback: at least the message */
    lua_getfield(L, record, "error");
    traceback = luaL_tolstring(L, -1, NULL);
  }
  if (lua_getfield(L, record, "spawned_at") == LUA_TSTRING)
    task = lua_pushfstring(L, "%s (spawned at %s)", task, lua_tostring(L, -1));
  as__report(lua_pushfstring(L, "error in %s was never retrieved:", task), traceback);
  lua_settop(L, top);
}
