/* waitq.h -- a FIFO queue of waiting tasks with cancellation-safe grants: the
 * one waiting mechanism under semaphore, lock, event, condition, queue and
 * the REPL's console. Owns nothing it does not embed; allocates nothing. */
#ifndef ASCHED_WAITQ_H
#define ASCHED_WAITQ_H

#include <lua.h>

#include "loop.h"
#include "task.h"

typedef struct as_waitq as_waitq;

/* What a wait queue is for. `wait` comes first: a waiting task's `wait`
 * points at it, and its `wait_on` at the queue. */
typedef struct as_waitq_type {
  as_wait_type wait;    /* describe: as__waitq_describe, or the owner's own */
  const char *label;    /* "lock", "queue get", ...: "waiting on <label>" */
  /* A value granted to a waiter that then left with an error (on top,
   * popped): give it to the next waiter or back to the owner, the userdata
   * the queue lives in, at stack index `owner`. NULL: drop it. */
  void (*pass_on)(lua_State *L, as_loop *loop, as_waitq *q, int owner);
  /* A waiter left before anything was granted (cancelled). NULL: nothing. */
  void (*left)(lua_State *L, as_loop *loop, as_waitq *q, int owner);
} as_waitq_type;

/* Embedded in what the tasks wait for. */
struct as_waitq {
  as_list waiters;      /* tasks, through link.waiter.node, oldest first */
  const as_waitq_type *type;
  as_wait_site site;    /* where its waiters wait: type->wait */
};

/* The queue a task waits in, from its wait site. */
static inline as_waitq *as__waitq_of(const as_task *t) {
  return as_container_of(t->wait, as_waitq, site);
}

void as__waitq_init(as_waitq *q, const as_waitq_type *type);

static inline int as__waitq_empty(const as_waitq *q) { return as_list_empty(&q->waiters); }

/* The oldest waiter (the queue must not be empty): the next grant's. */
static inline as_task *as__waitq_first(as_waitq *q) {
  return as_container_of(as_list_first(&q->waiters), as_task, link.waiter.node);
}

/* The describe function of most queue types: "waiting on <label>". */
void as__waitq_describe(lua_State *L, as_loop *loop, const as_task *t);

/* Queues the running task `t` at the back and suspends it; `k` then runs and
 * must start with as__waitq_resume or as__waitq_outcome. */
int as__waitq_wait(lua_State *L, as_loop *loop, as_waitq *q, as_task *t, lua_KFunction k, lua_KContext ctx);

/* In the continuation of a wait on `q` (in the userdata at stack index
 * `owner`) by `t`: returns 0 with the granted value on top (nil when none was
 * handed over), or 1 with an error on top (a cancellation) -- a value granted
 * before the error came has then been passed on (type->pass_on), and
 * type->left told when nothing was granted. */
int as__waitq_outcome(lua_State *L, as_loop *loop, as_waitq *q, as_task *t, int owner);

/* The one continuation step after a wait-queue wait: as__waitq_outcome, and
 * raise its error. Returns only when granted, the value on top. */
void as__waitq_resume(lua_State *L, as_loop *loop, as_waitq *q, as_task *t, int owner);

/* Hands the value on top of L (popped) to the oldest waiter and wakes it;
 * returns 0 (value popped all the same) when nobody waits. */
int as__waitq_grant(lua_State *L, as_loop *loop, as_waitq *q);

/* Grants nil to every waiter; returns how many. */
int as__waitq_grant_all(lua_State *L, as_loop *loop, as_waitq *q);

#endif
