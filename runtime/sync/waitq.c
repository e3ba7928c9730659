/* waitq.c -- see waitq.h. A task waits at the back of the queue; grant(v)
 * takes the task at the front, hands it v (a resume argument) and wakes it.
 * Nothing is lost to cancellation: a waiter cancelled before its grant has
 * simply left the queue (its wake-up unlinked it); one cancelled after its
 * grant gets the grant back together with the error, so the primitive in
 * Lua can pass it on before raising. A wait allocates nothing. */
#include "waitq.h"

#include <lauxlib.h>

#include "loop.h"

void as__waitq_init(as_waitq *q, const char *label) {
  as_list_init(&q->waiters);
  q->label = label;
}

int as__waitq_suspend(lua_State *L, as_waitq *q, as_task *t, lua_KFunction k) {
  t->wait_kind = AS_WAIT_QUEUE;
  t->wait_on = q;
  as_list_push_back(&q->waiters, &t->link.waiter.node);
  return as__task_suspend(L, as__loop(L), t, k, (lua_KContext)t);
}

int as__waitq_outcome(lua_State *L, as_task *t) {
  int granted = (t->flags & AS_TASK_GRANTED) != 0;
  t->flags &= ~AS_TASK_GRANTED;
  if (!granted) lua_pushnil(L);            /* no value */
  if (!as__task_take_raise(L, as__loop(L), t)) return AS_WAITQ_GRANTED;
  return granted ? AS_WAITQ_GRANTED_THEN_FAILED : AS_WAITQ_FAILED;
}

int as__waitq_grant(lua_State *L, as_loop *loop, as_waitq *q) {
  as_list *first = as_list_first(&q->waiters);
  if (first == NULL) {
    lua_pop(L, 1);
    return 0;
  }
  as_list_remove(first);
  as__task_grant(L, loop, as_container_of(first, as_task, link.waiter.node));
  return 1;
}

int as__waitq_grant_all(lua_State *L, as_loop *loop, as_waitq *q) {
  int n = 0;
  while (!as__waitq_empty(q)) {
    lua_pushnil(L);
    as__waitq_grant(L, loop, q);
    n++;
  }
  return n;
}

/* ---- the Lua face, for the facade (Condition) ---- */

/* A userdata; user value 1: its label (the struct points into it). */
static as_waitq *check_waitq(lua_State *L) {
  return luaL_checkudata(L, 1, AS_WAITQ_METATABLE);
}

/* waitq(label) -> a WaitQueue */
static int waitq_new(lua_State *L) {
  as_waitq *q;
  luaL_checkstring(L, 1);
  q = lua_newuserdatauv(L, sizeof *q, 1);
  lua_pushvalue(L, 1);
  as__waitq_init(q, lua_tostring(L, -1));
  lua_setiuservalue(L, -2, 1);
  luaL_setmetatable(L, AS_WAITQ_METATABLE);
  return 1;
}

/* Returns (granted, value, err): (true, v) granted; (true, v, err) granted,
 * then cancelled (or another error) before it ran: pass v on, then raise err;
 * (false, nil, err): the error came first, nothing was granted. */
static int wait_resumed(lua_State *L, int status, lua_KContext ctx) {
  int outcome = as__waitq_outcome(L, (as_task *)ctx);
  int failed = outcome != AS_WAITQ_GRANTED;
  (void)status;
  lua_pushboolean(L, outcome != AS_WAITQ_FAILED);
  lua_rotate(L, -2 - failed, 1);           /* granted, value [, err] */
  return 2 + failed;
}

/* wait([name]) -> see wait_resumed. Suspends; `name` says which API function
 * waits, for "asched.<name>: not inside a task". */
static int waitq_wait(lua_State *L) {
  as_waitq *q = check_waitq(L);
  as_task *t = as__task_check_current(L, as__loop(L), luaL_optstring(L, 2, q->label));
  lua_settop(L, 1);
  return as__waitq_suspend(L, q, t, wait_resumed);
}

/* grant([value]) -> true when the oldest waiter was handed `value` and woken,
 * false when nobody waits. */
static int waitq_grant(lua_State *L) {
  as_waitq *q = check_waitq(L);
  lua_settop(L, 2);
  lua_pushboolean(L, as__waitq_grant(L, as__loop(L), q));
  return 1;
}

/* grant_all() -> how many waiters were woken (each with nil). */
static int waitq_grant_all(lua_State *L) {
  lua_pushinteger(L, as__waitq_grant_all(L, as__loop(L), check_waitq(L)));
  return 1;
}

static int waitq_empty(lua_State *L) {
  lua_pushboolean(L, as__waitq_empty(check_waitq(L)));
  return 1;
}

void as__open_waitq(lua_State *L) {
  static const luaL_Reg methods[] = {
    {"wait", waitq_wait},
    {"grant", waitq_grant},
    {"grant_all", waitq_grant_all},
    {"empty", waitq_empty},
    {NULL, NULL}
  };
  as__new_type(L, AS_WAITQ_METATABLE, methods, NULL);
  as__push_boxed(L, waitq_new);
  lua_setfield(L, -2, "waitq");
}
