/* sync.c -- semaphore, bounded_semaphore, lock, event and queue, in C over
 * the wait queue (waitq.c); they are on the hot path of every program that
 * limits or passes work. Condition, composed of a lock and a wait queue, is
 * in bindings/sync.lua, which also adds `with` to the types here.
 *
 * Hand-over is what makes every queue FIFO with no barging: a released
 * permit, a freed queue slot or a put item goes straight to the oldest
 * waiter, so a task arriving later cannot take it. A waiter cancelled after
 * its grant passes it on before raising, so nothing is lost. */
#include "sync.h"

#include <lauxlib.h>
#include <string.h>

#include "errors.h"
#include "loop.h"
#include "waitq.h"

#define SEMAPHORE "asched.Semaphore"
#define BOUNDED "asched.BoundedSemaphore"
#define LOCK "asched.Lock"
#define GUARD "asched.Guard"
#define EVENT "asched.Event"
#define QUEUE "asched.Queue"

/* The running task, for a method that suspends; `name` for its error. */
static as_task *current_task(lua_State *L, const char *name) {
  return as__task_check_current(L, as__loop(L), name);
}

/* A count argument of constructor `fname`: absent (the default) or a
 * non-negative integer. The error names `fname` itself, however it was called. */
static lua_Integer check_count(lua_State *L, int arg, lua_Integer absent, const char *fname) {
  lua_Integer n;
  int is_integer;
  if (lua_isnoneornil(L, arg)) return absent;
  n = lua_tointegerx(L, arg, &is_integer);
  if (!is_integer || n < 0) {
    const char *got = lua_type(L, arg) == LUA_TNUMBER ? lua_tostring(L, arg) : luaL_typename(L, arg);
    return luaL_error(L, "bad argument #%d to '%s' (non-negative integer expected, got %s)", arg, fname, got);
  }
  return n;
}

/* ---- permits: semaphore, bounded semaphore, lock ---- */

typedef enum { PLAIN, BOUNDED_PERMITS, LOCK_PERMITS } permits_kind;

static const char SEMAPHORE_LABEL[] = "semaphore";
static const char BOUNDED_LABEL[] = "bounded_semaphore";
static const char LOCK_LABEL[] = "lock";

/* Who holds permits, for the deadlock report: the ids of the first
 * AS_HOLDERS_NAMED holders, and how many more there are. */
typedef struct holders {
  uint32_t ids[AS_HOLDERS_NAMED];
  int named;
  lua_Integer unnamed;
} holders;

typedef struct permits {
  as_waitq waiters;
  lua_Integer free, bound;
  permits_kind kind;
  holders held;
} permits;

static void holders_add(holders *h, uint32_t id) {
  if (h->named < AS_HOLDERS_NAMED) h->ids[h->named++] = id;
  else h->unnamed++;
}

/* A permit of `id` (0: of whoever) was released. A release by a task that
 * holds none returns someone else's: the oldest holder's is dropped. */
static void holders_remove(holders *h, uint32_t id) {
  int i;
  for (i = 0; i < h->named; i++) {
    if (h->ids[i] == id) break;
  }
  if (i == h->named) {
    if (h->unnamed > 0) {
      h->unnamed--;
      return;
    }
    if (h->named == 0) return;
    i = 0;
  }
  memmove(&h->ids[i], &h->ids[i + 1], (size_t)(h->named - i - 1) * sizeof h->ids[0]);
  h->named--;
}

int as__sync_holders(void *waitq, const uint32_t **ids, lua_Integer *unnamed) {
  const char *label = as__waitq_label(waitq);
  permits *p;
  if (label != SEMAPHORE_LABEL && label != BOUNDED_LABEL && label != LOCK_LABEL) return -1;
  p = as_container_of((as_waitq *)waitq, permits, waiters);
  *ids = p->held.ids;
  *unnamed = p->held.unnamed;
  return p->held.named;
}

static uint32_t running_task_id(lua_State *L) {
  as_loop *loop = as__loop(L);
  return loop && loop->current ? loop->current->id : 0;
}

/* The object at argument 1. The methods of each type have its metatable as
 * upvalue 2: comparing it costs nothing, where luaL_checkudata looks the
 * type's name up in the registry on every call; a wrong self still reads
 * "asched.Lock expected, got number". */
static void *check_self(lua_State *L) {
  void *p = lua_touserdata(L, 1);
  if (p != NULL && lua_getmetatable(L, 1)) {
    int same = lua_rawequal(L, -1, lua_upvalueindex(2));
    lua_pop(L, 1);
    if (same) return p;
  }
  lua_getfield(L, lua_upvalueindex(2), "__name");
  luaL_typeerror(L, 1, lua_tostring(L, -1));
  return NULL;
}

static permits *check_permits(lua_State *L) { return check_self(L); }

/* A released permit goes to the oldest waiter, else back to the count. */
static void release_permit(lua_State *L, permits *p) {
  lua_pushnil(L);
  if (!as__waitq_grant(L, as__loop(L), &p->waiters)) p->free++;
}

/* `releaser`: the id of the task that acquired the permit, or 0. */
static int release_checked(lua_State *L, permits *p, uint32_t releaser) {
  if (p->kind == LOCK_PERMITS && p->free != 0)
    return as__error_raise(L, "RuntimeError", "release of an unlocked lock");
  if (p->kind == BOUNDED_PERMITS && p->free >= p->bound)
    return as__error_raise(L, "ValueError", "bounded_semaphore released too many times");
  holders_remove(&p->held, releaser);
  release_permit(L, p);
  return 0;
}

/* The guard acquire returns: closing it (or guard:release()) releases once. */
typedef struct guard {
  int released;
  uint32_t holder;   /* the task that acquired */
} guard;

/* Task `holder` has a permit of the permits object at `owner`: returns its guard. */
static int push_guard(lua_State *L, int owner, uint32_t holder) {
  guard *g = lua_newuserdatauv(L, sizeof *g, 1);
  holders_add(&((permits *)lua_touserdata(L, owner))->held, holder);
  g->released = 0;
  g->holder = holder;
  lua_pushvalue(L, owner);
  lua_setiuservalue(L, -2, 1);
  luaL_setmetatable(L, GUARD);
  return 1;
}

static int guard_release(lua_State *L) {
  guard *g = check_self(L);
  if (g->released) return 0;
  g->released = 1;
  lua_getiuservalue(L, 1, 1);
  return release_checked(L, lua_touserdata(L, -1), g->holder);
}

static int acquire_resumed(lua_State *L, int status, lua_KContext ctx) {
  permits *p = lua_touserdata(L, 1);
  int outcome = as__waitq_outcome(L, (as_task *)ctx);
  (void)status;
  if (outcome == AS_WAITQ_GRANTED_THEN_FAILED) release_permit(L, p);  /* pass it on */
  if (outcome != AS_WAITQ_GRANTED) return lua_error(L);
  return push_guard(L, 1, ((as_task *)ctx)->id);
}

/* acquire() -> guard. Suspends until a permit is free and nobody is ahead. */
static int permits_acquire(lua_State *L) {
  permits *p = check_permits(L);
  as_task *t = current_task(L, "acquire");
  lua_settop(L, 1);
  if (p->free > 0 && as__waitq_empty(&p->waiters)) {
    p->free--;
    return push_guard(L, 1, t->id);
  }
  return as__waitq_suspend(L, &p->waiters, t, acquire_resumed);
}

static int permits_release(lua_State *L) {
  return release_checked(L, check_permits(L), running_task_id(L));
}

static int permits_locked(lua_State *L) {
  lua_pushboolean(L, check_permits(L)->free == 0);
  return 1;
}

static int permits_tostring(lua_State *L) {
  permits *p = check_permits(L);
  static const char *const names[] = {"Semaphore", "BoundedSemaphore", "Lock"};
  lua_pushfstring(L, "%s (%d free)", names[p->kind], (int)p->free);
  return 1;
}

static int new_permits(lua_State *L, lua_Integer n, permits_kind kind, const char *metatable,
                       const char *label) {
  permits *p = lua_newuserdatauv(L, sizeof *p, 0);
  as__waitq_init(&p->waiters, label);
  p->free = n;
  p->bound = n;
  p->kind = kind;
  memset(&p->held, 0, sizeof p->held);
  luaL_setmetatable(L, metatable);
  return 1;
}

static int l_semaphore(lua_State *L) {
  return new_permits(L, check_count(L, 1, 1, "semaphore"), PLAIN, SEMAPHORE, SEMAPHORE_LABEL);
}

static int l_bounded_semaphore(lua_State *L) {
  return new_permits(L, check_count(L, 1, 1, "bounded_semaphore"), BOUNDED_PERMITS, BOUNDED, BOUNDED_LABEL);
}

static int l_lock(lua_State *L) {
  return new_permits(L, 1, LOCK_PERMITS, LOCK, LOCK_LABEL);
}

/* ---- event ---- */

typedef struct event {
  as_waitq waiters;
  int set;
} event;

static int event_set(lua_State *L) {
  event *e = check_self(L);
  if (!e->set) {
    e->set = 1;
    as__waitq_grant_all(L, as__loop(L), &e->waiters);
  }
  return 0;
}

static int event_clear(lua_State *L) {
  ((event *)check_self(L))->set = 0;
  return 0;
}

static int event_is_set(lua_State *L) {
  lua_pushboolean(L, ((event *)check_self(L))->set);
  return 1;
}

static int event_wait_resumed(lua_State *L, int status, lua_KContext ctx) {
  (void)status;
  /* Woken by set, it returns true even if cleared since: nothing to pass on. */
  if (as__waitq_outcome(L, (as_task *)ctx) != AS_WAITQ_GRANTED) return lua_error(L);
  lua_pushboolean(L, 1);
  return 1;
}

static int event_wait(lua_State *L) {
  event *e = check_self(L);
  as_task *t = current_task(L, "wait");
  lua_settop(L, 1);
  if (e->set) {
    lua_pushboolean(L, 1);
    return 1;
  }
  return as__waitq_suspend(L, &e->waiters, t, event_wait_resumed);
}

static int l_event(lua_State *L) {
  event *e = lua_newuserdatauv(L, sizeof *e, 0);
  as__waitq_init(&e->waiters, "event");
  e->set = 0;
  luaL_setmetatable(L, EVENT);
  return 1;
}

/* ---- queue ---- */

/* The items are in the user value table, at head..tail (so nil is an item). */
typedef struct queue {
  as_waitq getters, putters, joiners;
  lua_Integer maxsize;
  lua_Integer head, tail;    /* size = tail - head + 1 */
  lua_Integer reserved;      /* free slots already handed to waiting putters */
  lua_Integer unfinished;    /* items put and not yet marked done */
} queue;

static queue *check_queue(lua_State *L) { return check_self(L); }

static lua_Integer size(const queue *q) { return q->tail - q->head + 1; }

static int full(const queue *q) { return q->maxsize > 0 && size(q) + q->reserved >= q->maxsize; }

/* A slot became free: reserve it for the oldest waiting putter. */
static void free_slot(lua_State *L, queue *q) {
  lua_pushnil(L);
  if (as__waitq_grant(L, as__loop(L), &q->putters)) q->reserved++;
}

/* The value on top (popped) enters: straight to the oldest getter -- then
 * the deque did not grow and a slot is still free -- or at the back. */
static void enqueue(lua_State *L, queue *q) {
  q->unfinished++;
  lua_pushvalue(L, -1);
  if (as__waitq_grant(L, as__loop(L), &q->getters)) {
    lua_pop(L, 1);
    if (!full(q)) free_slot(L, q);
    return;
  }
  lua_getiuservalue(L, 1, 1);
  lua_insert(L, -2);
  lua_rawseti(L, -2, ++q->tail);
  lua_pop(L, 1);
}

/* Takes the front item off the deque and pushes it; frees its slot. */
static int pop_front(lua_State *L, queue *q) {
  lua_getiuservalue(L, 1, 1);
  lua_rawgeti(L, -1, q->head);
  lua_pushnil(L);
  lua_rawseti(L, -3, q->head);
  lua_remove(L, -2);
  q->head++;
  free_slot(L, q);
  return 1;
}

/* An item given back by a getter cancelled after receiving it (on top,
 * popped): to the next getter, else to the front, where it was the oldest. */
static void give_back(lua_State *L, queue *q) {
  lua_pushvalue(L, -1);
  if (as__waitq_grant(L, as__loop(L), &q->getters)) {
    lua_pop(L, 1);
    return;
  }
  lua_getiuservalue(L, 1, 1);
  lua_insert(L, -2);
  lua_rawseti(L, -2, --q->head);
  lua_pop(L, 1);
}

static int put_resumed(lua_State *L, int status, lua_KContext ctx) {
  queue *q = lua_touserdata(L, 1);
  int outcome = as__waitq_outcome(L, (as_task *)ctx);
  (void)status;
  if (outcome != AS_WAITQ_GRANTED) {
    if (outcome == AS_WAITQ_GRANTED_THEN_FAILED) {   /* pass the reserved slot on */
      q->reserved--;
      free_slot(L, q);
    }
    return lua_error(L);
  }
  q->reserved--;
  lua_pushvalue(L, 2);
  enqueue(L, q);
  return 0;
}

/* put(v): suspends while the queue is full or other putters wait. */
static int queue_put(lua_State *L) {
  queue *q = check_queue(L);
  as_task *t = current_task(L, "put");
  lua_settop(L, 2);
  if (full(q) || !as__waitq_empty(&q->putters)) return as__waitq_suspend(L, &q->putters, t, put_resumed);
  enqueue(L, q);
  return 0;
}

static int queue_put_nowait(lua_State *L) {
  queue *q = check_queue(L);
  lua_settop(L, 2);
  if (full(q) || !as__waitq_empty(&q->putters)) return as__error_raise(L, "QueueFull", "the queue is full");
  enqueue(L, q);
  return 0;
}

static int get_resumed(lua_State *L, int status, lua_KContext ctx) {
  queue *q = lua_touserdata(L, 1);
  int outcome = as__waitq_outcome(L, (as_task *)ctx);
  (void)status;
  if (outcome == AS_WAITQ_GRANTED) return 1;
  if (outcome == AS_WAITQ_GRANTED_THEN_FAILED) {   /* [q, item, err]: pass the item on */
    lua_pushvalue(L, -2);
    give_back(L, q);
  }
  return lua_error(L);
}

/* get() -> the oldest item; suspends while the queue is empty. */
static int queue_get(lua_State *L) {
  queue *q = check_queue(L);
  as_task *t = current_task(L, "get");
  lua_settop(L, 1);
  if (size(q) > 0) return pop_front(L, q);
  return as__waitq_suspend(L, &q->getters, t, get_resumed);
}

static int queue_get_nowait(lua_State *L) {
  queue *q = check_queue(L);
  lua_settop(L, 1);
  if (size(q) == 0) return as__error_raise(L, "QueueEmpty", "the queue is empty");
  return pop_front(L, q);
}

static int queue_size(lua_State *L) {
  lua_pushinteger(L, size(check_queue(L)));
  return 1;
}

static int queue_empty(lua_State *L) {
  lua_pushboolean(L, size(check_queue(L)) == 0);
  return 1;
}

static int queue_full(lua_State *L) {
  lua_pushboolean(L, full(check_queue(L)));
  return 1;
}

static int queue_task_done(lua_State *L) {
  queue *q = check_queue(L);
  if (q->unfinished <= 0)
    return as__error_raise(L, "ValueError", "task_done() called more times than items were put");
  if (--q->unfinished == 0) as__waitq_grant_all(L, as__loop(L), &q->joiners);
  return 0;
}

static int join_resumed(lua_State *L, int status, lua_KContext ctx) {
  (void)status;
  if (as__waitq_outcome(L, (as_task *)ctx) != AS_WAITQ_GRANTED) return lua_error(L);
  return 0;
}

static int queue_join(lua_State *L) {
  queue *q = check_queue(L);
  as_task *t = current_task(L, "join");
  lua_settop(L, 1);
  if (q->unfinished == 0) return 0;
  return as__waitq_suspend(L, &q->joiners, t, join_resumed);
}

static int queue_tostring(lua_State *L) {
  queue *q = check_queue(L);
  lua_pushfstring(L, "Queue (%d items, maxsize %d)", (int)size(q), (int)q->maxsize);
  return 1;
}

static int l_queue(lua_State *L) {
  lua_Integer maxsize = check_count(L, 1, 0, "queue");
  queue *q = lua_newuserdatauv(L, sizeof *q, 1);
  memset(q, 0, sizeof *q);
  as__waitq_init(&q->getters, "queue get");
  as__waitq_init(&q->putters, "queue put");
  as__waitq_init(&q->joiners, "queue join");
  q->maxsize = maxsize;
  q->head = 1;
  q->tail = 0;
  lua_newtable(L);
  lua_setiuservalue(L, -2, 1);
  luaL_setmetatable(L, QUEUE);
  return 1;
}

/* ---- registration ---- */

/* Sets field `field` of the metatable on top to `fn` with the upvalues of a method. */
static void set_method(lua_State *L, const char *field, lua_CFunction fn) {
  as__push_box(L);
  lua_pushvalue(L, -2);
  lua_pushcclosure(L, fn, 2);
  lua_setfield(L, -2, field);
}

/* A metatable `name` whose methods (and __tostring, __close) have the box
 * and the metatable itself as upvalues. */
static void new_type(lua_State *L, const char *name, const luaL_Reg *methods, lua_CFunction tostring,
                     lua_CFunction close) {
  luaL_newmetatable(L, name);
  lua_newtable(L);
  as__push_box(L);
  lua_pushvalue(L, -3);
  luaL_setfuncs(L, methods, 2);
  lua_setfield(L, -2, "__index");
  if (tostring) set_method(L, "__tostring", tostring);
  if (close) set_method(L, "__close", close);
  lua_pop(L, 1);
}

void as__open_sync(lua_State *L) {
  static const luaL_Reg permits_methods[] = {
    {"acquire", permits_acquire}, {"release", permits_release}, {"locked", permits_locked}, {NULL, NULL}
  };
  static const luaL_Reg guard_methods[] = {{"release", guard_release}, {NULL, NULL}};
  static const luaL_Reg event_methods[] = {
    {"set", event_set}, {"clear", event_clear}, {"is_set", event_is_set}, {"wait", event_wait}, {NULL, NULL}
  };
  static const luaL_Reg queue_methods[] = {
    {"put", queue_put}, {"put_nowait", queue_put_nowait}, {"get", queue_get},
    {"get_nowait", queue_get_nowait}, {"size", queue_size}, {"empty", queue_empty},
    {"full", queue_full}, {"task_done", queue_task_done}, {"join", queue_join}, {NULL, NULL}
  };
  static const luaL_Reg functions[] = {
    {"semaphore", l_semaphore}, {"bounded_semaphore", l_bounded_semaphore}, {"lock", l_lock},
    {"event", l_event}, {"queue", l_queue}, {NULL, NULL}
  };
  new_type(L, SEMAPHORE, permits_methods, permits_tostring, NULL);
  new_type(L, BOUNDED, permits_methods, permits_tostring, NULL);
  new_type(L, LOCK, permits_methods, permits_tostring, NULL);
  new_type(L, GUARD, guard_methods, NULL, guard_release);
  new_type(L, EVENT, event_methods, NULL, NULL);
  new_type(L, QUEUE, queue_methods, queue_tostring, NULL);
  as__set_boxed(L, functions);
}
