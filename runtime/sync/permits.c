/* permits.c -- semaphore, bounded semaphore and lock over a wait queue (see
 * permits.h). A released permit is handed to the oldest waiter; a waiter
 * cancelled after its grant passes the permit on before raising, so nothing
 * is lost. Holders are tracked by task id for the deadlock report and for
 * the stepper's :held, which finds held permits in their loop's `held` list. */
#include "permits.h"

#include <lauxlib.h>
#include <string.h>

/* Task `id` of `loop` took a permit. The first holder links the permits in
 * the loop's `held` list, where :held finds them. */
static void holders_add(as_loop *loop, as_held *h, uint32_t id) {
  if (h->named < AS_HELD_NAMED) h->ids[h->named++] = id;
  else h->unnamed++;
  if (!as_list_linked(&h->node)) as_list_push_back(&loop->held, &h->node);
}

/* A permit of `id` (0: of whoever) was released. A release by a task that
 * holds none returns someone else's: an unnamed holder's, else the oldest
 * named one's. The last holder's unlinks the permits from `held`. */
static void holders_remove(as_held *h, uint32_t id) {
  int i;
  /* From the newest: a permit is most often released by its latest taker,
   * and then nothing moves. */
  for (i = h->named - 1; i >= 0; i--) {
    if (h->ids[i] == id) break;
  }
  if (i < 0 && h->unnamed > 0) {
    h->unnamed--;
  } else if (h->named > 0) {
    if (i < 0) i = 0;
    memmove(&h->ids[i], &h->ids[i + 1], (size_t)(h->named - i - 1) * sizeof h->ids[0]);
    h->named--;
  }
  if (h->named == 0 && h->unnamed == 0) as_list_remove(&h->node);
}

static as_permits *owner_of(as_waitq *q) { return as_container_of(q, as_permits, waiters); }

/* A permit granted to a waiter that was cancelled before it ran (nil on top,
 * popped) goes on to the next waiter. The waiter, running its continuation,
 * no longer holds it. */
static void pass_on(lua_State *L, as_loop *loop, as_waitq *q, int owner) {
  (void)owner;
  lua_pop(L, 1);
  holders_remove(&owner_of(q)->held, loop->current->id);
  as__permits_release(L, loop, owner_of(q));
}

static int holders_of(const as_task *t, uint32_t *ids, int max, lua_Integer *more) {
  const as_permits *p = as_container_of(as__waitq_of(t), as_permits, waiters);
  int i, n = p->held.named < max ? p->held.named : max;
  for (i = 0; i < n; i++) ids[i] = p->held.ids[i];
  *more = p->held.unnamed + (p->held.named - n);
  return n;
}

static const as_waitq_type types[] = {
  [AS_SEMAPHORE] = {.wait = {.timeline = "semaphore", .describe = as__waitq_describe,
                              .holders = holders_of, .held = 1,
                              .woken_by = "a release of the semaphore"},
                     .label = "semaphore", .pass_on = pass_on},
  [AS_BOUNDED_SEMAPHORE] = {.wait = {.timeline = "bounded_semaphore", .describe = as__waitq_describe,
                                     .holders = holders_of, .held = 1,
                                     .woken_by = "a release of the bounded semaphore"},
                            .label = "bounded_semaphore", .pass_on = pass_on},
  [AS_LOCK] = {.wait = {.timeline = "lock", .describe = as__waitq_describe, .holders = holders_of, .held = 1,
                        .woken_by = "a release of the lock"},
               .label = "lock", .pass_on = pass_on},
};

void as__permits_init(as_permits *p, as_permits_kind kind, lua_Integer n) {
  memset(p, 0, sizeof *p);
  as__waitq_init(&p->waiters, &types[kind]);
  as_list_init(&p->held.node);
  p->held.site = &p->waiters.site;
  p->free = n;
  p->bound = n;
  p->kind = kind;
}

int as__permits_try_acquire(as_loop *loop, as_permits *p, uint32_t holder) {
  if (p->free == 0 || !as__waitq_empty(&p->waiters)) return 0;
  p->free--;
  holders_add(loop, &p->held, holder);
  return 1;
}

int as__permits_can_release(const as_permits *p) {
  if (p->kind == AS_LOCK && p->free != 0) return AS_PERMITS_UNLOCKED;
  if (p->kind == AS_BOUNDED_SEMAPHORE && p->free >= p->bound) return AS_PERMITS_OVER_BOUND;
  return AS_PERMITS_OK;
}

void as__permits_forget_holder(as_permits *p, uint32_t holder) { holders_remove(&p->held, holder); }

void as__permits_free(as_permits *p) { as_list_remove(&p->held.node); }

/* The oldest waiter holds the permit from its grant on, before it runs: as
 * it is woken, observers already see it hold. */
void as__permits_release(lua_State *L, as_loop *loop, as_permits *p) {
  if (as__waitq_empty(&p->waiters)) {
    p->free++;
    return;
  }
  holders_add(loop, &p->held, as__waitq_first(&p->waiters)->id);
  lua_pushnil(L);
  as__waitq_grant(L, loop, &p->waiters);
}

void as__permits_push_guard(lua_State *L, int owner, uint32_t holder) {
  as_guard *g;
  owner = lua_absindex(L, owner);
  g = lua_newuserdatauv(L, sizeof *g, 1);
  g->released = 0;
  g->holder = holder;
  lua_pushvalue(L, owner);
  lua_setiuservalue(L, -2, 1);
  luaL_setmetatable(L, AS_GUARD_METATABLE);
}

int as__guard_close(lua_State *L, int idx) {
  as_guard *g = lua_touserdata(L, idx);
  if (g->released) return 0;
  g->released = 1;
  lua_getiuservalue(L, idx, 1);
  return 1;
}
