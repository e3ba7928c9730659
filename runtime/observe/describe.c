/* describe.c -- task descriptions (see describe.h). What a wait is comes from
 * its as_wait_type; nothing here knows a primitive by name. */
#include "describe.h"

#include <string.h>

void as__describe_wait(lua_State *L, as_loop *loop, as_task *t) {
  if (t->state == AS_TASK_NEW) {
    lua_pushliteral(L, "not started");
    return;
  }
  if (t->state == AS_TASK_SUSPENDED && t->wait != NULL && !(t->flags & AS_TASK_IN_READY))
    t->wait->type->describe(L, loop, t);
  else
    lua_pushliteral(L, "ready");
  as__task_push_where(L, t->co);
  lua_pushfstring(L, "%s at %s", lua_tostring(L, -2), lua_tostring(L, -1));
  lua_replace(L, -3);
  lua_pop(L, 1);
}

const char *as__describe_wake_reason(as_loop *loop, const as_task *t, const char *waited, uint32_t *by) {
  *by = 0;
  if (t->state == AS_TASK_NEW) {
    if (loop->current) *by = loop->current->id;
    return "spawn";
  }
  if (loop->waking) return loop->waking;
  if (loop->current == t) return "yield";
  if (loop->current) {
    *by = loop->current->id;
    return "ready";
  }
  if (loop->finishing) {        /* the end of the task it awaited */
    *by = loop->finishing->id;
    return "ready";
  }
  if (waited && strcmp(waited, "io") == 0) return "io";
  if (waited && strcmp(waited, "thread") == 0) return "thread";
  return "loop";
}

void as__describe_task_line(lua_State *L, as_loop *loop, as_task *t) {
  as__task_push_pending_name(L, loop, t);
  as__describe_wait(L, loop, t);
  lua_pushfstring(L, "%s (%s)", lua_tostring(L, -2), lua_tostring(L, -1));
  lua_replace(L, -3);
  lua_pop(L, 1);
}
