/* queue.c (bindings) -- asched.queue: the Lua face of sync/queue.c. */
#include "bindings.h"
#include "errors.h"
#include "queue.h"

#define QUEUE "asched.Queue"

/* queue([maxsize]) -> a Queue; 0 or absent: unbounded. */
static int l_queue(lua_State *L) {
  lua_Integer maxsize = as__check_count(L, 1, 0);
  as_queue *q = lua_newuserdatauv(L, sizeof *q, 1);
  as__queue_init(q, maxsize);
  lua_newtable(L);
  lua_setiuservalue(L, -2, 1);
  luaL_setmetatable(L, QUEUE);
  return 1;
}

static int put_resumed(lua_State *L, int status, lua_KContext ctx) {
  as_loop *loop = as__loop(L);
  as_queue *q = lua_touserdata(L, 1);
  (void)status;
  (void)ctx;
  as__waitq_resume(L, loop, &q->putters, loop->current, 1);   /* a slot, or raise */
  lua_pop(L, 1);
  lua_pushvalue(L, 2);
  as__queue_put(L, loop, q, 1, 1);
  return 0;
}

/* put(v): suspends while the queue is full or other putters wait. */
static int queue_put(lua_State *L) {
  as_queue *q = as__check_self(L, 1);
  as_task *t = as__current_task(L);
  as_loop *loop = as__loop(L);
  lua_settop(L, 2);
  if (!as__queue_can_put(q)) return as__waitq_wait(L, loop, &q->putters, t, put_resumed, 0);
  as__queue_put(L, loop, q, 1, 0);
  return 0;
}

static int queue_put_nowait(lua_State *L) {
  as_queue *q = as__check_self(L, 1);
  lua_settop(L, 2);
  if (!as__queue_can_put(q)) return as__error_raise(L, "QueueFull", "the queue is full");
  as__queue_put(L, as__loop(L), q, 1, 0);
  return 0;
}

static int get_resumed(lua_State *L, int status, lua_KContext ctx) {
  as_loop *loop = as__loop(L);
  (void)status;
  (void)ctx;
  as__waitq_resume(L, loop, &((as_queue *)lua_touserdata(L, 1))->getters, loop->current, 1);
  return 1;                                /* the item */
}

/* get() -> the oldest item; suspends while the queue is empty. */
static int queue_get(lua_State *L) {
  as_queue *q = as__check_self(L, 1);
  as_task *t = as__current_task(L);
  as_loop *loop = as__loop(L);
  lua_settop(L, 1);
  if (as__queue_size(q) > 0) {
    as__queue_get(L, loop, q, 1);
    return 1;
  }
  return as__waitq_wait(L, loop, &q->getters, t, get_resumed, 0);
}

static int queue_get_nowait(lua_State *L) {
  as_queue *q = as__check_self(L, 1);
  lua_settop(L, 1);
  if (as__queue_size(q) == 0) return as__error_raise(L, "QueueEmpty", "the queue is empty");
  as__queue_get(L, as__loop(L), q, 1);
  return 1;
}

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

static int queue_tostring(lua_State *L) {
  as_queue *q = as__check_self(L, 1);
  lua_pushfstring(L, "Queue (%d items, maxsize %d)", (int)as__queue_size(q), (int)q->maxsize);
  return 1;
}

void as__open_queue(lua_State *L) {
  static const luaL_Reg methods[] = {
    {"put", queue_put}, {"put_nowait", queue_put_nowait}, {"get", queue_get},
    {"get_nowait", queue_get_nowait}, {"size", queue_size}, {"empty", queue_empty},
    {"full", queue_full}, {"task_done", queue_task_done}, {"join", queue_join}, {NULL, NULL}
  };
  static const luaL_Reg meta[] = {{"__tostring", queue_tostring}, {NULL, NULL}};
  static const luaL_Reg functions[] = {{"queue", l_queue}, {NULL, NULL}};
  as__register_type(L, QUEUE, methods, meta);
  as__register(L, functions);
}
