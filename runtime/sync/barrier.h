/* barrier.h -- a barrier (asyncio 3.11): `parties` tasks wait until all have
 * arrived, then each goes on with a distinct index 0 .. parties-1, and the
 * barrier at once refills for the next round. reset() and abort() break the
 * current round; abort() also every later one, until reset(). A waiter
 * cancelled before the round fills simply leaves it. */
#ifndef ASCHED_BARRIER_H
#define ASCHED_BARRIER_H

#include "waitq.h"

/* Lives in the Barrier userdata. */
typedef struct as_barrier {
  as_waitq waiters;      /* the tasks of this round, in arrival order */
  lua_Integer parties;
  lua_Integer arrived;   /* waiting in this round */
  int broken;
} as_barrier;

void as__barrier_init(as_barrier *b, lua_Integer parties);

/* The running task arrives. Returns its index when it completes the round
 * (the others are released with theirs, in arrival order), else -1: the
 * caller waits on b->waiters, and is granted its index, or false when the
 * round is broken. The barrier must not be broken. */
lua_Integer as__barrier_arrive(lua_State *L, as_loop *loop, as_barrier *b);

/* Breaks the current round: every waiter is woken with false. `stay_broken`
 * (abort) keeps the barrier broken; reset leaves it empty and whole. */
void as__barrier_break(lua_State *L, as_loop *loop, as_barrier *b, int stay_broken);

#endif
