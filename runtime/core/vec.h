/* vec.h -- the one growable array of the runtime: capacity doubles, items of
 * any size. Owns nothing: the caller keeps the pointer, count and capacity. */
#ifndef ASCHED_VEC_H
#define ASCHED_VEC_H

#include <stddef.h>

/* Makes room for `need` items of `item_size` bytes in `items`, an array of
 * *capacity items (NULL and 0 at first), doubling the capacity until it fits.
 * Returns the array, possibly moved, with *capacity updated; or NULL when out
 * of memory or when the size overflows, leaving `items` and *capacity as they
 * were. O(1) amortised per item. */
void *as_vec_grow(void *items, size_t *capacity, size_t need, size_t item_size);

#endif
