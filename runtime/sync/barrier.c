/* barrier.c -- a barrier over a wait queue (see barrier.h). Indices are given
 * when a round fills, in the order the waiters still in it arrived, so they
 * stay distinct however many waiters left before. */
#include "barrier.h"

/* A waiter cancelled before its round filled leaves it at once: the next
 * arrival must not count it. */
static void waiter_left(as_loop *loop, as_task *t) {
  as_barrier *b = as_container_of(as__waitq_of(t), as_barrier, waiters);
  (void)loop;
  b->arrived--;
}

static const as_waitq_type barrier_type = {
  .wait = {.timeline = "barrier", .describe = as__waitq_describe, .leave = waiter_left,
           .woken_by = "the barrier filling"}, .label = "barrier"};

void as__barrier_init(as_barrier *b, lua_Integer parties) {
  as__waitq_init(&b->waiters, &barrier_type);
  b->parties = parties;
  b->arrived = 0;
  b->broken = 0;
}

lua_Integer as__barrier_arrive(lua_State *L, as_loop *loop, as_barrier *b) {
  lua_Integer index = 0;
  if (++b->arrived < b->parties) return -1;
  /* The round is full: release it, and the barrier refills at once. */
  b->arrived = 0;
  while (!as__waitq_empty(&b->waiters)) {
    lua_pushinteger(L, index++);
    as__waitq_grant(L, loop, &b->waiters);
  }
  return index;
}

void as__barrier_break(lua_State *L, as_loop *loop, as_barrier *b, int stay_broken) {
  b->broken = stay_broken;
  b->arrived = 0;
  while (!as__waitq_empty(&b->waiters)) {
    lua_pushboolean(L, 0);
    as__waitq_grant(L, loop, &b->waiters);
  }
}
