/* timer_heap.c -- an intrusive binary min-heap of timers, shaped as a complete
 * binary tree of pointers (the shape of libuv's heap-inl.h). Touches no Lua. */
#include "timer_heap.h"

int as_timer_earlier(const as_timer *a, const as_timer *b) {
  if (a->deadline != b->deadline) return a->deadline < b->deadline;
  return a->seq < b->seq;
}

void as_timer_heap_init(as_timer_heap *h) {
  h->min = NULL;
  h->count = 0;
}

/* Swaps the tree positions of `parent` and its direct `child`; only the links
 * move, the keys stay with their nodes. */
static void swap_with_child(as_timer_heap *h, as_timer *parent, as_timer *child) {
  as_timer *left = parent->left, *right = parent->right, *up = parent->parent;
  as_timer *sibling;

  parent->left = child->left;
  parent->right = child->right;
  parent->parent = child;
  if (parent->left) parent->left->parent = parent;
  if (parent->right) parent->right->parent = parent;

  if (left == child) {
    child->left = parent;
    child->right = right;
    sibling = right;
  } else {
    child->right = parent;
    child->left = left;
    sibling = left;
  }
  if (sibling) sibling->parent = child;

  child->parent = up;
  if (up == NULL) h->min = child;
  else if (up->left == parent) up->left = child;
  else up->right = child;
}

/* The slot of node number `n` (1-based, breadth-first): the bits of `n` below
 * its highest one spell the path from the root, highest first. */
static as_timer **slot_of(as_timer_heap *h, size_t n, as_timer **parent) {
  as_timer **slot = &h->min;
  size_t path = 0;
  int depth = 0;
  *parent = NULL;
  for (; n >= 2; n /= 2, depth++) path = (path << 1) | (n & 1);
  for (; depth > 0; depth--, path >>= 1) {
    *parent = *slot;
    slot = (path & 1) ? &(*slot)->right : &(*slot)->left;
  }
  return slot;
}

static void sift_up(as_timer_heap *h, as_timer *t) {
  while (t->parent && as_timer_earlier(t, t->parent)) swap_with_child(h, t->parent, t);
}

static void sift_down(as_timer_heap *h, as_timer *t) {
  for (;;) {
    as_timer *smallest = t;
    if (t->left && as_timer_earlier(t->left, smallest)) smallest = t->left;
    if (t->right && as_timer_earlier(t->right, smallest)) smallest = t->right;
    if (smallest == t) return;
    swap_with_child(h, t, smallest);
  }
}

void as_timer_heap_insert(as_timer_heap *h, as_timer *t, uint64_t deadline, uint64_t seq) {
  as_timer *parent;
  as_timer **slot = slot_of(h, h->count + 1, &parent);
  t->deadline = deadline;
  t->seq = seq;
  t->left = t->right = NULL;
  t->parent = parent;
  *slot = t;
  h->count++;
  sift_up(h, t);
}

void as_timer_heap_remove(as_timer_heap *h, as_timer *t) {
  as_timer *parent;
  as_timer **last_slot = slot_of(h, h->count, &parent);
  as_timer *last = *last_slot;

  *last_slot = NULL;
  h->count--;
  if (last == t) {
    if (h->min == t) h->min = NULL;
    return;
  }
  /* Put the last node where `t` was, then restore order around it. */
  last->left = t->left;
  last->right = t->right;
  last->parent = t->parent;
  if (last->left) last->left->parent = last;
  if (last->right) last->right->parent = last;
  if (t->parent == NULL) h->min = last;
  else if (t->parent->left == t) t->parent->left = last;
  else t->parent->right = last;
  sift_down(h, last);
  sift_up(h, last);
}
