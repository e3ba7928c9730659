/* queue.c (bindings) -- asched.queue, lifo_queue and priority_queue: the Lua
 * face of sync/queue.c. A priority queue's put takes (priority, value) and its
 * get returns (value, priority). */
#include "bindings.h"
#include "errors.h"
#include "queue.h"

#define QUEUE "asched.Queue"
#define LIFO_QUEUE "asched.LifoQueue"
#define PRIORITY_QUEUE "asched.PriorityQueue"

static int new_queue(lua_State *L, as_queue_kind kind, const char *metatable) {
  lua_Integer maxsize = as__check_count(L, 1, 0);
  as_queue *q = lua_newuserdatauv(L, sizeof *q, AS_QUEUE_USER_VALUES);
  as__queue_init(q, kind, maxsize);
  lua_newtable(L);
  lua_setiuservalue(L, -2, AS_QUEUE_ITEMS);
  luaL_setmetatable(L, metatable);
  return 1;
}

/* queue([maxsize]) and its kinds; 0 or absent: unbounded. */
static int l_queue(lua_State *L) { return new_queue(L, AS_QUEUE_FIFO, QUEUE); }
static int l_lifo_queue(lua_State *L) { return new_queue(L, AS_QUEUE_LIFO, LIFO_QUEUE); }
static int l_priority_queue(lua_State *L) { return new_queue(L, AS_QUEUE_PRIORITY, PRIORITY_QUEUE); }

static int raise_shut_down(lua_State *L) {
  return as__error_raise(L, "QueueShutDown", "the queue is shut down");
}

/* ---- put ---- */

/* The put's arguments are [q, value] or, for a priority queue,
 * [q, priority, value]: the priority is at 2, checked. */
static int priority_arg(lua_State *L, as_queue *q) {
  lua_Number p;
  if (q->kind != AS_QUEUE_PRIORITY) return 0;
  if (lua_type(L, 2) != LUA_TNUMBER) as__type_error(L, 2, "number");
  p = lua_tonumber(L, 2);
  if (p != p) as__arg_error(L, 2, "priority is NaN");
  return 2;
}

static int put_now(lua_State *L, as_loop *loop, as_queue *q, int slot) {
  lua_pushvalue(L, q->kind == AS_QUEUE_PRIORITY ? 3 : 2);
  if (as__queue_put(L, loop, q, 1, priority_arg(L, q), slot) != 0) return luaL_error(L, "not enough memory");
  return 0;
}

static int put_resumed(lua_State *L, int status, lua_KContext ctx) {
  as_loop *loop = as__loop(L);
  as_queue *q = lua_touserdata(L, 1);
  int slot;
  (void)status;
  (void)ctx;
  as__waitq_resume(L, loop, &q->putters, loop->current, 1);   /* a slot, or raise */
  slot = lua_toboolean(L, -1);
  lua_pop(L, 1);
  if (!as__queue_putter_runs(q, slot)) return raise_shut_down(L);
  return put_now(L, loop, q, slot);
}

/* put(v) / put(priority, v): suspends while the queue is full or other
 * putters wait. */
static int queue_put(lua_State *L) {
  as_queue *q = as__check_self(L, 1);
  as_loop *loop = as__loop(L);
  as_task *t;
  priority_arg(L, q);
  t = as__current_task_in(L, loop);
  lua_settop(L, q->kind == AS_QUEUE_PRIORITY ? 3 : 2);
  if (q->shut) return raise_shut_down(L);
  if (!as__queue_can_put(q)) return as__waitq_wait(L, loop, &q->putters, t, put_resumed, 0);
  return put_now(L, loop, q, 0);
}

static int queue_put_nowait(lua_State *L) {
  as_queue *q = as__check_self(L, 1);
  priority_arg(L, q);
  lua_settop(L, q->kind == AS_QUEUE_PRIORITY ? 3 : 2);
  if (q->shut) return raise_shut_down(L);
  if (!as__queue_can_put(q)) return as__error_raise(L, "QueueFull", "the queue is full");
  return put_now(L, as__loop(L), q, 0);
}

/* ---- get ---- */

static int get_resumed(lua_State *L, int status, lua_KContext ctx) {
  as_loop *loop = as__loop(L);
  as_queue *q = lua_touserdata(L, 1);
  int n;
  (void)status;
  (void)ctx;
  as__waitq_resume(L, loop, &q->getters, loop->current, 1);   /* granted, or raise */
  n = as__queue_getter_runs(L, loop, q, 1);
  return n > 0 ? n : raise_shut_down(L);
}

/* get() -> the next item (and its priority); suspends while there is none. */
static int queue_get(lua_State *L) {
  as_queue *q = as__check_self(L, 1);
  as_loop *loop = as__loop(L);
  as_task *t = as__current_task_in(L, loop);
  lua_settop(L, 1);
  if (as__queue_available(q) > 0) return as__queue_take(L, loop, q, 1);
  if (q->shut) return raise_shut_down(L);
  return as__waitq_wait(L, loop, &q->getters, t, get_resumed, 0);
}

static int queue_get_nowait(lua_State *L) {
  as_queue *q = as__check_self(L, 1);
  lua_settop(L, 1);
  if (as__queue_available(q) > 0) return as__queue_take(L, as__loop(L), q, 1);
  if (q->shut) return raise_shut_down(L);
  return as__error_raise(L, "QueueEmpty", "the queue is empty");
}

/* ---- the rest ---- */

static int queue_size(lua_State *L) {
  lua_pushinteger(L, as__queue_size(as__check_self(L, 1)));
  return 1;
}

static int queue_empty(lua_State *L) {
  lua_pushboolean(L, as__queue_size(as__check_self(L, 1)) == 0);
  return 1;
}

static int queue_full(lua_State *L) {
  lua_pushboolean(L, as__queue_full(as__check_self(L, 1)));
  return 1;
}

static int queue_task_done(lua_State *L) {
  if (as__queue_task_done(L, as__loop(L), as__check_self(L, 1)) != 0)
    return as__error_raise(L, "ValueError", "task_done() called more times than items were put");
  return 0;
}

static int join_resumed(lua_State *L, int status, lua_KContext ctx) {
  as_loop *loop = as__loop(L);
  (void)status;
  (void)ctx;
  as__waitq_resume(L, loop, &((as_queue *)lua_touserdata(L, 1))->joiners, loop->current, 1);
  return 0;
}

/* join(): suspends until every item put was marked done. */
static int queue_join(lua_State *L) {
  as_queue *q = as__check_self(L, 1);
  as_task *t = as__current_task(L);
  lua_settop(L, 1);
  if (q->unfinished == 0) return 0;
  return as__waitq_wait(L, as__loop(L), &q->joiners, t, join_resumed, 0);
}

/* shutdown([immediate]) (Python 3.13). */
static int queue_shutdown(lua_State *L) {
  as_queue *q = as__check_self(L, 1);
  int immediate = lua_isnoneornil(L, 2) ? 0 : as__check_boolean(L, 2);
  lua_settop(L, 1);
  as__queue_shutdown(L, as__loop(L), q, 1, immediate);
  return 0;
}

static int queue_tostring(lua_State *L) {
  static const char *const names[] = {"Queue", "LifoQueue", "PriorityQueue"};
  as_queue *q = as__check_self(L, 1);
  lua_pushfstring(L, "%s (%d items, maxsize %d%s)", names[q->kind], (int)as__queue_size(q), (int)q->maxsize,
                  q->shut ? ", shut down" : "");
  return 1;
}

static int queue_gc(lua_State *L) {
  as__queue_free(as__check_self(L, 1));
  return 0;
}

void as__open_queue(lua_State *L) {
  static const luaL_Reg methods[] = {
    {"put", queue_put}, {"put_nowait", queue_put_nowait}, {"get", queue_get},
    {"get_nowait", queue_get_nowait}, {"size", queue_size}, {"empty", queue_empty},
    {"full", queue_full}, {"task_done", queue_task_done}, {"join", queue_join},
    {"shutdown", queue_shutdown}, {NULL, NULL}
  };
  static const luaL_Reg meta[] = {{"__tostring", queue_tostring}, {"__gc", queue_gc}, {NULL, NULL}};
  static const luaL_Reg functions[] = {
    {"queue", l_queue}, {"lifo_queue", l_lifo_queue}, {"priority_queue", l_priority_queue}, {NULL, NULL}
  };
  as__register_type(L, QUEUE, methods, meta);
  as__register_type(L, LIFO_QUEUE, methods, meta);
  as__register_type(L, PRIORITY_QUEUE, methods, meta);
  as__register(L, functions);
}
