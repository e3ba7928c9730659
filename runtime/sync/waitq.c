/* waitq.c -- see waitq.h. A task waits at the back of the queue; grant(v)
 * takes the task at the front, hands it v (a resume argument) and wakes it.
 * Nothing is lost to cancellation: a waiter cancelled before its grant has
 * simply left the queue (its wake-up unlinked it); one cancelled after its
 * grant finds the grant beside the error, and passes it on before raising. */
#include "waitq.h"

void as__waitq_init(as_waitq *q, const as_waitq_type *type) {
  as_list_init(&q->waiters);
  q->type = type;
  q->site.type = &type->wait;
}

void as__waitq_describe(lua_State *L, as_loop *loop, const as_task *t) {
  const as_waitq *q = as__waitq_of(t);
  (void)loop;
  lua_pushfstring(L, "waiting on %s", q->type->label);
}

int as__waitq_wait(lua_State *L, as_loop *loop, as_waitq *q, as_task *t, lua_KFunction k, lua_KContext ctx) {
  as__task_set_wait(t, &q->site);
  as_list_push_back(&q->waiters, &t->link.waiter.node);
  return as__task_suspend(L, loop, t, k, ctx);
}

int as__waitq_outcome(lua_State *L, as_loop *loop, as_waitq *q, as_task *t, int owner) {
  int granted = (t->flags & AS_TASK_GRANTED) != 0;
  t->flags &= ~AS_TASK_GRANTED;
  if (!granted) lua_pushnil(L);            /* no value */
  if (!(t->flags & AS_TASK_PENDING_RAISE)) return 0;
  owner = lua_absindex(L, owner);
  as__task_take_raise(L, loop, t);
  lua_insert(L, -2);                       /* error value */
  if (!granted) {
    lua_pop(L, 1);
    if (q->type->left) q->type->left(L, loop, q, owner);
  } else if (q->type->pass_on) {
    q->type->pass_on(L, loop, q, owner);
  } else {
    lua_pop(L, 1);
  }
  return 1;
}

void as__waitq_resume(lua_State *L, as_loop *loop, as_waitq *q, as_task *t, int owner) {
  if (as__waitq_outcome(L, loop, q, t, owner)) lua_error(L);
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
