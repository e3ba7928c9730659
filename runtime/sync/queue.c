/* queue.c -- the queue's state machine (see queue.h). */
#include "queue.h"

#include <stdlib.h>

#include "vec.h"

/* ---- the priority heap: (priority, seq) ordered, smallest on top ---- */

static int before(const as_queue_entry *a, const as_queue_entry *b) {
  return a->priority != b->priority ? a->priority < b->priority : a->seq < b->seq;
}

static void sift_up(as_queue_entry *h, size_t i) {
  while (i > 0) {
    size_t parent = (i - 1) / 2;
    as_queue_entry swap;
    if (!before(&h[i], &h[parent])) return;
    swap = h[i];
    h[i] = h[parent];
    h[parent] = swap;
    i = parent;
  }
}

static void sift_down(as_queue_entry *h, size_t n, size_t i) {
  for (;;) {
    size_t l = 2 * i + 1, r = l + 1, m = i;
    as_queue_entry swap;
    if (l < n && before(&h[l], &h[m])) m = l;
    if (r < n && before(&h[r], &h[m])) m = r;
    if (m == i) return;
    swap = h[i];
    h[i] = h[m];
    h[m] = swap;
    i = m;
  }
}

/* ---- waiting ---- */

/* A slot became free: reserve it for the oldest waiting putter. */
static void free_slot(lua_State *L, as_loop *loop, as_queue *q) {
  if (q->shut) return;
  lua_pushboolean(L, 1);
  if (as__waitq_grant(L, loop, &q->putters)) q->reserved++;
}

/* A ticket given to a getter cancelled before it ran (true on top, popped)
 * goes to the next getter, else the item is free again. */
static void pass_ticket_on(lua_State *L, as_loop *loop, as_waitq *w, int owner) {
  as_queue *q = as_container_of(w, as_queue, getters);
  int ticket = lua_toboolean(L, -1);
  (void)owner;
  if (!ticket) {                           /* a wake-up of shutdown: nothing to pass */
    lua_pop(L, 1);
    return;
  }
  if (!as__waitq_grant(L, loop, &q->getters) && q->promised > 0) q->promised--;
}

/* A slot reserved for a putter cancelled before it ran goes to the next one. */
static void pass_slot_on(lua_State *L, as_loop *loop, as_waitq *w, int owner) {
  as_queue *q = as_container_of(w, as_queue, putters);
  int slot = lua_toboolean(L, -1);
  (void)owner;
  lua_pop(L, 1);
  if (!slot) return;
  if (q->reserved > 0) q->reserved--;
  free_slot(L, loop, q);
}

static const as_waitq_type get_type = {
  .wait = {.timeline = "queue get", .describe = as__waitq_describe}, .label = "queue get", .pass_on = pass_ticket_on};
static const as_waitq_type put_type = {
  .wait = {.timeline = "queue put", .describe = as__waitq_describe}, .label = "queue put", .pass_on = pass_slot_on};
static const as_waitq_type join_type = {
  .wait = {.timeline = "queue join", .describe = as__waitq_describe}, .label = "queue join"};

void as__queue_init(as_queue *q, as_queue_kind kind, lua_Integer maxsize) {
  as__waitq_init(&q->getters, &get_type);
  as__waitq_init(&q->putters, &put_type);
  as__waitq_init(&q->joiners, &join_type);
  q->kind = kind;
  q->maxsize = maxsize;
  q->head = 1;
  q->tail = 0;
  q->heap = NULL;
  q->heap_count = q->heap_capacity = 0;
  q->next_seq = 1;
  q->reserved = q->promised = q->unfinished = 0;
  q->shut = 0;
}

void as__queue_free(as_queue *q) {
  free(q->heap);
  q->heap = NULL;
  q->heap_count = q->heap_capacity = 0;
}

lua_Integer as__queue_size(const as_queue *q) {
  return q->kind == AS_QUEUE_PRIORITY ? (lua_Integer)q->heap_count : q->tail - q->head + 1;
}

int as__queue_full(const as_queue *q) {
  return q->maxsize > 0 && as__queue_size(q) + q->reserved >= q->maxsize;
}

/* Stores the value on top (popped); returns 0 or -1 (out of memory). */
static int store(lua_State *L, as_queue *q, int self, int priority) {
  lua_getiuservalue(L, self, 1);
  lua_insert(L, -2);
  if (q->kind != AS_QUEUE_PRIORITY) {
    lua_rawseti(L, -2, ++q->tail);
  } else {
    as_queue_entry *grown = as_vec_grow(q->heap, &q->heap_capacity, q->heap_count + 1, sizeof *grown);
    uint64_t seq = q->next_seq++;
    if (grown == NULL) {
      lua_pop(L, 2);
      return -1;
    }
    q->heap = grown;
    q->heap[q->heap_count].priority = lua_tonumber(L, priority);
    q->heap[q->heap_count].seq = seq;
    lua_rawseti(L, -2, (lua_Integer)(2 * seq));
    lua_pushvalue(L, priority);
    lua_rawseti(L, -2, (lua_Integer)(2 * seq + 1));
    sift_up(q->heap, q->heap_count++);
  }
  lua_pop(L, 1);
  return 0;
}

int as__queue_put(lua_State *L, as_loop *loop, as_queue *q, int self, int priority, int slot_granted) {
  if (slot_granted && q->reserved > 0) q->reserved--;
  if (store(L, q, self, priority) != 0) return -1;
  q->unfinished++;
  lua_pushboolean(L, 1);
  if (as__waitq_grant(L, loop, &q->getters)) q->promised++;
  return 0;
}

int as__queue_take(lua_State *L, as_loop *loop, as_queue *q, int self) {
  int n = 1;
  lua_getiuservalue(L, self, 1);
  if (q->kind == AS_QUEUE_PRIORITY) {
    lua_Integer at = (lua_Integer)(2 * q->heap[0].seq);
    q->heap[0] = q->heap[--q->heap_count];
    sift_down(q->heap, q->heap_count, 0);
    lua_rawgeti(L, -1, at);                /* the value */
    lua_rawgeti(L, -2, at + 1);            /* its priority, as given */
    lua_pushnil(L);
    lua_rawseti(L, -4, at);
    lua_pushnil(L);
    lua_rawseti(L, -4, at + 1);
    n = 2;
  } else {
    lua_Integer at = q->kind == AS_QUEUE_FIFO ? q->head++ : q->tail--;
    lua_rawgeti(L, -1, at);
    lua_pushnil(L);
    lua_rawseti(L, -3, at);
  }
  lua_rotate(L, -n - 1, n);                /* the items table goes above the values */
  lua_pop(L, 1);
  free_slot(L, loop, q);
  return n;
}

int as__queue_getter_runs(as_queue *q, int ticket) {
  if (ticket && q->promised > 0) q->promised--;
  return as__queue_available(q) > 0;
}

int as__queue_putter_runs(as_queue *q, int slot) {
  if (slot && q->shut && q->reserved > 0) q->reserved--;
  return !q->shut;
}

int as__queue_task_done(lua_State *L, as_loop *loop, as_queue *q) {
  if (q->unfinished <= 0) return -1;
  if (--q->unfinished == 0) as__waitq_grant_all(L, loop, &q->joiners);
  return 0;
}

/* Wakes every waiter of `w` with `false`: woken by shutdown. */
static void wake_all_for_shutdown(lua_State *L, as_loop *loop, as_waitq *w) {
  while (!as__waitq_empty(w)) {
    lua_pushboolean(L, 0);
    as__waitq_grant(L, loop, w);
  }
}

void as__queue_shutdown(lua_State *L, as_loop *loop, as_queue *q, int self, int immediate) {
  q->shut = 1;
  if (immediate) {
    lua_Integer dropped = as__queue_size(q);
    lua_newtable(L);                       /* a fresh items table drops them all */
    lua_setiuservalue(L, self, 1);
    q->head = 1;
    q->tail = 0;
    q->heap_count = 0;
    q->promised = 0;
    q->unfinished = q->unfinished > dropped ? q->unfinished - dropped : 0;
    if (q->unfinished == 0) as__waitq_grant_all(L, loop, &q->joiners);
  }
  wake_all_for_shutdown(L, loop, &q->putters);
  q->reserved = 0;
  wake_all_for_shutdown(L, loop, &q->getters);
}
