/* queue.c -- the queue's state machine (see queue.h). */
#include "queue.h"

#include <math.h>
#include <stdlib.h>

#include "vec.h"

/* ---- the priority heap: (priority, seq) ordered, smallest on top ---- */

/* Integers that a double holds exactly: -2^53 .. 2^53. */
#define FITS_DOUBLE(i) ((i) >= -((lua_Integer)1 << 53) && (i) <= ((lua_Integer)1 << 53))

/* i < f, exactly (Lua's LTintfloat): beyond 2^53, i < f iff i < ceil(f). */
static int int_less_float(lua_Integer i, lua_Number f) {
  if (FITS_DOUBLE(i)) return (lua_Number)i < f;
  f = ceil(f);
  if (f >= -9223372036854775808.0 && f < 9223372036854775808.0) return i < (lua_Integer)f;
  return f > 0;
}

/* f < i, exactly (Lua's LTfloatint): f < i iff floor(f) < i. */
static int float_less_int(lua_Number f, lua_Integer i) {
  if (FITS_DOUBLE(i)) return f < (lua_Number)i;
  f = floor(f);
  if (f >= -9223372036854775808.0 && f < 9223372036854775808.0) return (lua_Integer)f < i;
  return f < 0;
}

/* Priority a < priority b, as Lua's < says for the two numbers. */
static int less(const as_queue_entry *a, const as_queue_entry *b) {
  if (a->is_integer && b->is_integer) return a->priority.i < b->priority.i;
  if (!a->is_integer && !b->is_integer) return a->priority.f < b->priority.f;
  if (a->is_integer) return int_less_float(a->priority.i, b->priority.f);
  return float_less_int(a->priority.f, b->priority.i);
}

static int before(const as_queue_entry *a, const as_queue_entry *b) {
  if (less(a, b)) return 1;
  return !less(b, a) && a->seq < b->seq;
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
  if (q->shut || as__waitq_empty(&q->putters)) return;
  lua_pushboolean(L, 1);
  if (as__waitq_grant(L, loop, &q->putters)) q->reserved++;
}

/* The running getter `t` holds the front item, handed to it by a put. */
static int holds_front(const as_queue *q, const as_task *t) {
  return q->front == AS_QUEUE_FRONT_HANDED && q->handed == t;
}

/* The handed front item (on top, popped) goes back into the front slot. */
static void store_front(lua_State *L, as_queue *q, int self) {
  lua_setiuservalue(L, self, AS_QUEUE_FRONT);
  q->front = AS_QUEUE_FRONT_STORED;
  q->handed = NULL;
}

/* What a getter cancelled before it ran was given (on top, popped): the
 * front item goes back to its slot, to be taken first; the ticket -- its
 * promise of an item -- goes to the next getter, else the item is free. */
static void pass_ticket_on(lua_State *L, as_loop *loop, as_waitq *w, int owner) {
  as_queue *q = as_container_of(w, as_queue, getters);
  if (holds_front(q, loop->current)) {
    store_front(L, q, owner);
    lua_pushboolean(L, 1);
  } else if (!lua_toboolean(L, -1)) {      /* a wake-up of shutdown: nothing to pass */
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
  .wait = {.timeline = "queue get", .describe = as__waitq_describe, .woken_by = "a queue put"}, .label = "queue get", .pass_on = pass_ticket_on};
static const as_waitq_type put_type = {
  .wait = {.timeline = "queue put", .describe = as__waitq_describe, .woken_by = "a queue get"}, .label = "queue put", .pass_on = pass_slot_on};
static const as_waitq_type join_type = {
  .wait = {.timeline = "queue join", .describe = as__waitq_describe,
           .woken_by = "the last task_done of the queue"}, .label = "queue join"};

void as__queue_init(as_queue *q, as_queue_kind kind, lua_Integer maxsize) {
  as__waitq_init(&q->getters, &get_type);
  as__waitq_init(&q->putters, &put_type);
  as__waitq_init(&q->joiners, &join_type);
  q->kind = kind;
  q->maxsize = maxsize;
  q->front = AS_QUEUE_FRONT_NONE;
  q->handed = NULL;
  q->head = 1;
  q->tail = 0;
  q->ring = 0;
  q->heap = NULL;
  q->heap_count = q->heap_capacity = 0;
  q->next_seq = 1;
  q->free_slots = NULL;
  q->free_count = q->free_capacity = 0;
  q->slots = 0;
  q->reserved = q->promised = q->unfinished = 0;
  q->shut = 0;
}

void as__queue_free(as_queue *q) {
  free(q->heap);
  q->heap = NULL;
  q->heap_count = q->heap_capacity = 0;
  free(q->free_slots);
  q->free_slots = NULL;
  q->free_count = q->free_capacity = 0;
}

/* A priority queue stores the value on top (popped) with the number at
 * `priority` in a new heap entry; returns 0 or -1 (out of memory). */
static int store_by_priority(lua_State *L, as_queue *q, int self, int priority) {
  as_queue_entry *e = as_vec_grow(q->heap, &q->heap_capacity, q->heap_count + 1, sizeof *e);
  uint32_t *free_slots = as_vec_grow(q->free_slots, &q->free_capacity, q->slots + 1, sizeof *free_slots);
  if (e == NULL || free_slots == NULL || q->slots == UINT32_MAX / 2) {
    if (e != NULL) q->heap = e;
    if (free_slots != NULL) q->free_slots = free_slots;
    lua_pop(L, 1);
    return -1;
  }
  q->heap = e;
  q->free_slots = free_slots;              /* room for every slot: taking never fails */
  e = &q->heap[q->heap_count];
  e->is_integer = lua_isinteger(L, priority);
  if (e->is_integer) e->priority.i = lua_tointeger(L, priority);
  else e->priority.f = lua_tonumber(L, priority);
  e->seq = q->next_seq++;
  /* A taken entry's slot first: the keys stay 2..2*slots+1, in the table's
   * array part, however long the queue is used. */
  e->slot = q->free_count > 0 ? q->free_slots[--q->free_count] : ++q->slots;
  lua_getiuservalue(L, self, AS_QUEUE_ITEMS);     /* [value items] */
  lua_insert(L, -2);
  lua_rawseti(L, -2, 2 * (lua_Integer)e->slot);
  lua_pushvalue(L, priority);
  lua_rawseti(L, -2, 2 * (lua_Integer)e->slot + 1);
  lua_pop(L, 1);
  sift_up(q->heap, q->heap_count++);
  return 0;
}

/* Where item `i` (head..tail) is in the items table. A FIFO queue that never
 * empties would otherwise put its items at ever-growing keys, which leave
 * the table's array part for its hash part; a LIFO queue's stay at 1..n. */
static lua_Integer slot_of(const as_queue *q, lua_Integer i) {
  return q->kind == AS_QUEUE_FIFO ? ((i - 1) & (q->ring - 1)) + 1 : i;
}

/* A FIFO queue's table is full: moves its items to a new table with twice
 * the slots (4 the first time), each to its slot there. Returns 0, or -1
 * past 2^30 slots. */
static int grow_ring(lua_State *L, as_queue *q, int self) {
  lua_Integer i, old = q->ring, ring = old ? 2 * old : 4;
  if (ring > (lua_Integer)1 << 30) return -1;
  lua_getiuservalue(L, self, AS_QUEUE_ITEMS);
  lua_createtable(L, (int)ring, 0);                 /* [old new] */
  q->ring = ring;
  for (i = q->head; i <= q->tail; i++) {
    lua_rawgeti(L, -2, ((i - 1) & (old - 1)) + 1);
    lua_rawseti(L, -2, slot_of(q, i));
  }
  lua_setiuservalue(L, self, AS_QUEUE_ITEMS);
  lua_pop(L, 1);
  return 0;
}

/* Stores the value on top (popped); returns 0 or -1 (out of memory). */
static int store(lua_State *L, as_queue *q, int self, int priority) {
  if (q->kind == AS_QUEUE_PRIORITY) return store_by_priority(L, q, self, priority);
  if (as__queue_size(q) == 0) {
    store_front(L, q, self);               /* alone: the front item */
    return 0;
  }
  if (q->kind == AS_QUEUE_FIFO && q->tail - q->head + 1 >= q->ring && grow_ring(L, q, self) != 0) {
    lua_pop(L, 1);
    return -1;
  }
  lua_getiuservalue(L, self, AS_QUEUE_ITEMS);     /* [value items] */
  lua_insert(L, -2);
  lua_rawseti(L, -2, slot_of(q, ++q->tail));
  lua_pop(L, 1);
  return 0;
}

int as__queue_put(lua_State *L, as_loop *loop, as_queue *q, int self, int priority, int slot_granted) {
  if (slot_granted && q->reserved > 0) q->reserved--;
  if (q->kind != AS_QUEUE_PRIORITY && as__queue_size(q) == 0 && !as__waitq_empty(&q->getters)) {
    /* The front item goes straight to the oldest getter, which would take
     * it anyway: the queue holds it in that getter's hands. */
    q->handed = as__waitq_first(&q->getters);
    q->front = AS_QUEUE_FRONT_HANDED;
    as__waitq_grant(L, loop, &q->getters);
    q->promised++;
  } else {
    if (store(L, q, self, priority) != 0) return -1;
    lua_pushboolean(L, 1);                 /* a ticket for the oldest getter */
    if (as__waitq_grant(L, loop, &q->getters)) q->promised++;
  }
  q->unfinished++;
  return 0;
}

/* Pushes the lowest entry's value and priority, with the items table at
 * `items` below them; forgets the entry. */
static void take_lowest(lua_State *L, as_queue *q) {
  lua_Integer at = 2 * (lua_Integer)q->heap[0].slot;
  q->free_slots[q->free_count++] = q->heap[0].slot;
  q->heap[0] = q->heap[--q->heap_count];
  sift_down(q->heap, q->heap_count, 0);
  lua_rawgeti(L, -1, at);                  /* the value */
  lua_rawgeti(L, -2, at + 1);              /* its priority, as given */
  lua_pushnil(L);
  lua_rawseti(L, -4, at);
  lua_pushnil(L);
  lua_rawseti(L, -4, at + 1);
}

/* Pushes the oldest (FIFO) or newest (LIFO) item, above the items table. */
static void take_end(lua_State *L, as_queue *q) {
  lua_Integer at = slot_of(q, q->kind == AS_QUEUE_FIFO ? q->head++ : q->tail--);
  lua_rawgeti(L, -1, at);
  lua_pushnil(L);
  lua_rawseti(L, -3, at);
  if (q->head > q->tail) {
    /* Empty: start again at 1 (a LIFO queue's keys stay 1..n). */
    q->head = 1;
    q->tail = 0;
  }
}

/* The stored front item is next: the oldest (FIFO), or the newest when the
 * table holds none (LIFO). */
static int front_is_next(const as_queue *q) {
  return q->front == AS_QUEUE_FRONT_STORED && (q->kind == AS_QUEUE_FIFO || q->tail < q->head);
}

int as__queue_take(lua_State *L, as_loop *loop, as_queue *q, int self) {
  int n = q->kind == AS_QUEUE_PRIORITY ? 2 : 1;
  if (q->front == AS_QUEUE_FRONT_HANDED && (q->kind == AS_QUEUE_FIFO || q->tail < q->head)) {
    /* Someone else takes first: the front item comes out of the hands of
     * the getter it was handed to, which keeps a ticket in its place. */
    lua_pushboolean(L, 1);
    as__task_swap_grant(L, q->handed);
    q->front = AS_QUEUE_FRONT_NONE;
    q->handed = NULL;
  } else if (front_is_next(q)) {
    lua_getiuservalue(L, self, AS_QUEUE_FRONT);
    lua_pushnil(L);
    lua_setiuservalue(L, self, AS_QUEUE_FRONT);
    q->front = AS_QUEUE_FRONT_NONE;
  } else {
    lua_getiuservalue(L, self, AS_QUEUE_ITEMS);
    if (n == 2) take_lowest(L, q);
    else take_end(L, q);
    lua_rotate(L, -n - 1, -1);             /* the items table goes on top, and away */
    lua_pop(L, 1);
  }
  free_slot(L, loop, q);
  return n;
}

int as__queue_getter_runs(lua_State *L, as_loop *loop, as_queue *q, int self) {
  int ticket;
  if (holds_front(q, loop->current)) {
    q->promised--;
    if (q->kind == AS_QUEUE_FIFO || q->tail < q->head) {
      q->front = AS_QUEUE_FRONT_NONE;      /* it is next: the getter keeps it */
      q->handed = NULL;
      free_slot(L, loop, q);
      return 1;
    }
    store_front(L, q, self);               /* LIFO: newer items came since */
    return as__queue_take(L, loop, q, self);
  }
  ticket = lua_toboolean(L, -1);
  lua_pop(L, 1);
  if (ticket && q->promised > 0) q->promised--;
  if (as__queue_available(q) <= 0) return 0;
  return as__queue_take(L, loop, q, self);
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
    lua_setiuservalue(L, self, AS_QUEUE_ITEMS);
    q->ring = 0;
    lua_pushnil(L);
    lua_setiuservalue(L, self, AS_QUEUE_FRONT);
    q->front = AS_QUEUE_FRONT_NONE;        /* a getter holding it raises instead */
    q->handed = NULL;
    q->head = 1;
    q->tail = 0;
    q->heap_count = 0;
    q->free_count = 0;
    q->slots = 0;
    q->promised = 0;
    q->unfinished = q->unfinished > dropped ? q->unfinished - dropped : 0;
    if (q->unfinished == 0) as__waitq_grant_all(L, loop, &q->joiners);
  }
  wake_all_for_shutdown(L, loop, &q->putters);
  q->reserved = 0;
  wake_all_for_shutdown(L, loop, &q->getters);
}
