/* list.h -- intrusive doubly linked circular lists and container_of.
 * Owns nothing: nodes live inside the structs that use them (tasks, waiters). */
#ifndef ASCHED_LIST_H
#define ASCHED_LIST_H

#include <stddef.h>

#define as_container_of(ptr, type, member) \
  ((type *)((char *)(ptr) - offsetof(type, member)))

/* A node, and also a list head (the head is a sentinel node).
 * An unlinked node points at itself, so unlinking twice is harmless. */
typedef struct as_list {
  struct as_list *prev, *next;
} as_list;

static inline void as_list_init(as_list *l) { l->prev = l->next = l; }

static inline int as_list_empty(const as_list *l) { return l->next == l; }

/* A node is linked when it is part of some list. */
static inline int as_list_linked(const as_list *n) { return n->next != n; }

static inline void as_list_push_back(as_list *head, as_list *n) {
  n->prev = head->prev;
  n->next = head;
  head->prev->next = n;
  head->prev = n;
}

/* O(1). Leaves the node self-linked. */
static inline void as_list_remove(as_list *n) {
  n->prev->next = n->next;
  n->next->prev = n->prev;
  n->prev = n->next = n;
}

static inline as_list *as_list_first(as_list *head) {
  return as_list_empty(head) ? NULL : head->next;
}

#endif
