/* group.c -- the task group's state machine (see group.h). Children are
 * linked to the group by a membership each, whose owner is the group: when a
 * child finishes, the group counts it, keeps its error (observed, so never
 * reported as lost) and starts cancelling the rest at the first one. */
#include "group.h"

#include <lauxlib.h>
#include <string.h>

#include "errors.h"

void as__group_push_table(lua_State *L, const as_group *g) {
  lua_rawgeti(L, LUA_REGISTRYINDEX, g->ref);
}

/* No child left and nobody waits for them: the table (and with it the
 * memberships and the group's anchor) goes. */
static void release_if_over(lua_State *L, as_group *g) {
  if (g->pending > 0 || g->ref == LUA_NOREF) return;
  if (g->state != AS_GROUP_DONE && !g->caller_gone) return;
  luaL_unref(L, LUA_REGISTRYINDEX, g->ref);
  g->ref = LUA_NOREF;
}

/* Pushes the Task of the group's i-th child (the group's table at `table`). */
static as_task *push_child(lua_State *L, int table, lua_Integer i) {
  lua_rawgeti(L, table, i);                /* its membership */
  lua_getiuservalue(L, -1, 1);
  lua_remove(L, -2);
  return lua_touserdata(L, -1);
}

/* Cancels the Task on top (popped) with a CancelledError saying why. */
static void cancel_child(lua_State *L, as_loop *loop, as_task *t) {
  lua_pop(L, 1);
  if (t->state == AS_TASK_DONE) return;
  as__error_push(L, "CancelledError", "cancelled with its task group");
  as__task_cancel(L, loop, t);
}

void as__group_abort(lua_State *L, as_loop *loop, as_group *g) {
  lua_Integer i, n;
  int table;
  if (g->aborting || g->ref == LUA_NOREF) return;
  g->aborting = 1;
  as__group_push_table(L, g);
  table = lua_gettop(L);
  n = (lua_Integer)lua_rawlen(L, table);
  for (i = 1; i <= n; i++) cancel_child(L, loop, push_child(L, table, i));
  /* The body runs in the parent: interrupt it at its suspension point. Its
   * own CancelledError, kept, tells it apart from one from outside. */
  if (g->state == AS_GROUP_BODY && !g->caller_gone && g->parent->state != AS_TASK_DONE) {
    as__error_push(L, "CancelledError", "cancelled by its task group");
    lua_pushvalue(L, -1);
    lua_setfield(L, -3, "cancel");
    as__task_cancel(L, loop, g->parent);
    g->parent_cancelled = 1;
  }
  lua_pop(L, 1);
}

/* Appends the value on top (popped) to the list in field `field` of the
 * table at `table`, at position `at`. */
static void append(lua_State *L, int table, const char *field, int32_t at) {
  if (lua_getfield(L, table, field) != LUA_TTABLE) {
    lua_pop(L, 1);
    lua_newtable(L);
    lua_pushvalue(L, -1);
    lua_setfield(L, table, field);
  }
  lua_insert(L, -2);
  lua_rawseti(L, -2, at);
  lua_pop(L, 1);
}

void as__group_record_error(lua_State *L, as_loop *loop, as_group *g) {
  int table;
  as__group_push_table(L, g);
  lua_rotate(L, -3, 1);                    /* [table traceback error] */
  table = lua_gettop(L) - 2;
  g->errors++;
  append(L, table, "errors", g->errors);
  append(L, table, "tracebacks", g->errors);
  lua_pop(L, 1);
  as__group_abort(L, loop, g);
}

/* A child finished: its membership `w`; the Task at `task`. */
static void child_done(lua_State *L, as_loop *loop, as_waiter *w, as_task *child, int task) {
  as_group *g = as_container_of(w->owner, as_group, owner);
  g->pending--;
  if (child->outcome == AS_OUTCOME_ERROR && g->ref != LUA_NOREF) {
    /* The error counts as observed: the group hands it on. */
    lua_getiuservalue(L, task, 1);
    lua_pushboolean(L, 1);
    lua_setfield(L, -2, "retrieved");
    lua_getfield(L, -1, "traceback");
    lua_getfield(L, -2, "error");
    lua_remove(L, -3);
    as__group_record_error(L, loop, g);
  }
  if (g->pending == 0 && g->waiting) as__task_wake(loop, g->parent);
  release_if_over(L, g);
}

/* The parent waits: "waiting for its task group: task-5, task-6". */
static void describe(lua_State *L, as_loop *loop, const as_task *t) {
  const as_group *g = as_container_of(t->wait, as_group, site);
  int line, named = 0;
  lua_Integer i, n;
  (void)loop;
  lua_pushliteral(L, "waiting for its task group:");
  line = lua_gettop(L);
  as__group_push_table(L, g);
  n = (lua_Integer)lua_rawlen(L, -1);
  for (i = 1; i <= n; i++) {
    as_task *child = push_child(L, line + 1, i);
    if (child->state != AS_TASK_DONE) {
      as__task_push_name(L, -1, child);
      lua_pushfstring(L, "%s%s %s", lua_tostring(L, line), named++ ? "," : "", lua_tostring(L, -1));
      lua_replace(L, line);
      lua_pop(L, 1);
    }
    lua_pop(L, 1);
  }
  lua_pop(L, 1);
}

static const as_wait_type group_wait = {.timeline = "task group", .describe = describe};

void as__group_init(lua_State *L, as_group *g, as_task *parent) {
  memset(g, 0, sizeof *g);
  lua_createtable(L, 4, 4);
  lua_pushvalue(L, -2);
  lua_rawseti(L, -2, 0);                   /* the group anchors itself while it lives */
  g->ref = luaL_ref(L, LUA_REGISTRYINDEX);
  g->parent = parent;
  g->site.type = &group_wait;
  g->owner.done = child_done;
  g->state = AS_GROUP_BODY;
}

as_task *as__group_spawn(lua_State *L, as_loop *loop, as_group *g, int fidx, int nargs) {
  as_group_member *m;
  as_task *child;
  int task;
  m = lua_newuserdatauv(L, sizeof *m, 1);  /* allocated first: nothing to undo */
  lua_insert(L, fidx);                     /* [member fn args...] */
  child = as__task_spawn(L, loop, fidx + 1, nargs);
  task = lua_gettop(L);
  lua_pushvalue(L, task);
  lua_setiuservalue(L, fidx, 1);
  m->waiter.owner = &g->owner;
  as_list_push_back(&child->waiters, &m->waiter.node);
  g->pending++;
  as__group_push_table(L, g);
  lua_pushvalue(L, fidx);
  lua_rawseti(L, -2, (lua_Integer)lua_rawlen(L, -2) + 1);
  lua_pop(L, 1);
  lua_remove(L, fidx);                     /* the membership: the table keeps it */
  return child;
}

int as__group_wait(lua_State *L, as_loop *loop, as_group *g, as_task *t, lua_KFunction k, lua_KContext ctx) {
  g->waiting = 1;
  as__task_set_wait(t, &g->site);
  as_list_init(&t->link.waiter.node);
  return as__task_suspend(L, loop, t, k, ctx);
}

int as__group_resumed(lua_State *L, as_loop *loop, as_group *g, as_task *t) {
  g->waiting = 0;
  return as__task_take_raise(L, loop, t);
}

void as__group_close(lua_State *L, as_loop *loop, as_group *g) {
  if (g->state != AS_GROUP_DONE && !g->caller_gone) {
    /* Its caller's frame closed first (its task was reset): the children
     * must not outlive it; nothing may touch the caller any more. */
    g->caller_gone = 1;
    g->waiting = 0;
    as__group_abort(L, loop, g);
  }
  release_if_over(L, g);
}
