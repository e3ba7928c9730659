/* queue.c -- the queue's state machine (see queue.h). */
#include "queue.h"

/* A slot became free: reserve it for the oldest waiting putter. */
static void free_slot(lua_State *L, as_loop *loop, as_queue *q) {
  lua_pushnil(L);
  if (as__waitq_grant(L, loop, &q->putters)) q->reserved++;
}

/* An item handed to a getter cancelled before it ran (on top, popped) goes to
 * the next getter, else back to the front, where it was the oldest. The
 * queue's userdata is `owner`. */
static void give_back(lua_State *L, as_loop *loop, as_waitq *w, int owner) {
  as_queue *q = as_container_of(w, as_queue, getters);
  lua_pushvalue(L, -1);
  if (as__waitq_grant(L, loop, &q->getters)) {
    lua_pop(L, 1);
    return;
  }
  lua_getiuservalue(L, owner, 1);
  lua_insert(L, -2);
  lua_rawseti(L, -2, --q->head);
  lua_pop(L, 1);
}

/* A slot reserved for a putter cancelled before it ran goes to the next one. */
static void pass_slot_on(lua_State *L, as_loop *loop, as_waitq *w, int owner) {
  as_queue *q = as_container_of(w, as_queue, putters);
  (void)owner;
  lua_pop(L, 1);
  q->reserved--;
  free_slot(L, loop, q);
}

static const as_waitq_type get_type = {
  .wait = {.timeline = "queue get", .describe = as__waitq_describe}, .label = "queue get", .pass_on = give_back};
static const as_waitq_type put_type = {
  .wait = {.timeline = "queue put", .describe = as__waitq_describe}, .label = "queue put", .pass_on = pass_slot_on};
static const as_waitq_type join_type = {
  .wait = {.timeline = "queue join", .describe = as__waitq_describe}, .label = "queue join"};

void as__queue_init(as_queue *q, lua_Integer maxsize) {
  as__waitq_init(&q->getters, &get_type);
  as__waitq_init(&q->putters, &put_type);
  as__waitq_init(&q->joiners, &join_type);
  q->maxsize = maxsize;
  q->head = 1;
  q->tail = 0;
  q->reserved = 0;
  q->unfinished = 0;
}

void as__queue_put(lua_State *L, as_loop *loop, as_queue *q, int self, int slot_granted) {
  if (slot_granted) q->reserved--;
  q->unfinished++;
  lua_pushvalue(L, -1);
  if (as__waitq_grant(L, loop, &q->getters)) {
    /* Straight to a getter: the deque did not grow, so a slot is still free. */
    lua_pop(L, 1);
    if (!as__queue_full(q)) free_slot(L, loop, q);
    return;
  }
  lua_getiuservalue(L, self, 1);
  lua_insert(L, -2);
  lua_rawseti(L, -2, ++q->tail);
  lua_pop(L, 1);
}

void as__queue_get(lua_State *L, as_loop *loop, as_queue *q, int self) {
  lua_getiuservalue(L, self, 1);
  lua_rawgeti(L, -1, q->head);
  lua_pushnil(L);
  lua_rawseti(L, -3, q->head);
  lua_remove(L, -2);
  q->head++;
  free_slot(L, loop, q);
}

int as__queue_task_done(lua_State *L, as_loop *loop, as_queue *q) {
  if (q->unfinished <= 0) return -1;
  if (--q->unfinished == 0) as__waitq_grant_all(L, loop, &q->joiners);
  return 0;
}
