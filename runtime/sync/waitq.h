/* waitq.h -- a FIFO queue of waiting tasks with cancellation-safe grants: the
 * one C primitive under semaphore, lock, event, condition and queue. */
#ifndef ASCHED_WAITQ_H
#define ASCHED_WAITQ_H

#include <lua.h>

#include "task.h"

#define AS_WAITQ_METATABLE "asched.WaitQueue"

struct as_loop;

/* A FIFO of waiting tasks, embedded in what they wait for. */
typedef struct as_waitq {
  as_list waiters;      /* tasks, through link.waiter.node, oldest first */
  const char *label;    /* "lock", "queue get", ...: a static string */
} as_waitq;

void as__waitq_init(as_waitq *q, const char *label);

static inline int as__waitq_empty(const as_waitq *q) { return as_list_empty(&q->waiters); }

/* Queues the running task `t` at the back and yields; `k` then runs with
 * ctx = t and must start with as__waitq_outcome. */
int as__waitq_suspend(lua_State *L, as_waitq *q, as_task *t, lua_KFunction k);

/* In the continuation: pushes the granted value (nil when none) and, when an
 * error (a cancellation) came, that error too. Returns AS_WAITQ_GRANTED,
 * AS_WAITQ_GRANTED_THEN_FAILED (pass the value on, then raise the error) or
 * AS_WAITQ_FAILED (raise the error: nothing was granted). */
enum { AS_WAITQ_GRANTED, AS_WAITQ_GRANTED_THEN_FAILED, AS_WAITQ_FAILED };
int as__waitq_outcome(lua_State *L, as_task *t);

/* Hands the value on top of L (popped) to the oldest waiter and wakes it;
 * returns 0 (value popped all the same) when nobody waits. */
int as__waitq_grant(lua_State *L, struct as_loop *loop, as_waitq *q);

/* Grants nil to every waiter; returns how many. */
int as__waitq_grant_all(lua_State *L, struct as_loop *loop, as_waitq *q);

/* Adds waitq(label) to the table on top (the facade's primitives). */
void as__open_waitq(lua_State *L);

/* The label a wait queue was made with ("lock", "queue get", ...). */
static inline const char *as__waitq_label(void *q) { return ((as_waitq *)q)->label; }

#endif
