/* vec.c -- the growable array (see vec.h). Owns no memory of its own; touches
 * no Lua and no libuv. */
#include "vec.h"

#include <stdint.h>
#include <stdlib.h>

#define FIRST_CAPACITY 16

void *as_vec_grow(void *items, size_t *capacity, size_t need, size_t item_size) {
  size_t grown = *capacity ? *capacity : FIRST_CAPACITY;
  void *moved;
  if (need <= *capacity) return items;
  while (grown < need) {
    if (grown > SIZE_MAX / 2) return NULL;
    grown *= 2;
  }
  if (item_size != 0 && grown > SIZE_MAX / item_size) return NULL;
  moved = realloc(items, grown * item_size);
  if (moved == NULL) return NULL;
  *capacity = grown;
  return moved;
}
