/* condition.c -- a condition's notifications (see condition.h). The wait
 * itself -- release the lock, wait, take the lock back even when cancelled --
 * is composed by its binding over this queue and the lock's. */
#include "condition.h"

/* A notification handed to a waiter cancelled before it ran goes on. */
static void pass_on(lua_State *L, as_loop *loop, as_waitq *q, int owner) {
  (void)owner;
  lua_pop(L, 1);
  lua_pushnil(L);
  as__waitq_grant(L, loop, q);
}

static const as_waitq_type condition_type = {
  .wait = {.timeline = "condition", .describe = as__waitq_describe,
           .woken_by = "a notify of the condition"},
  .label = "condition", .pass_on = pass_on};

void as__condition_init(as_condition *c, as_permits *lock) {
  as__waitq_init(&c->waiters, &condition_type);
  c->lock = lock;
}

void as__condition_notify(lua_State *L, as_loop *loop, as_condition *c, lua_Integer n) {
  for (; n > 0; n--) {
    lua_pushnil(L);
    if (!as__waitq_grant(L, loop, &c->waiters)) break;
  }
}
