/* buffer.c -- the growable byte buffer (see buffer.h). */
#include "buffer.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "vec.h"

int as_buffer_reserve(as_buffer *b, size_t more) {
  char *grown;
  if (more <= b->capacity - b->size) return 0;   /* room already: the common case */
  if (more > SIZE_MAX - b->size) return -1;
  grown = as_vec_grow(b->data, &b->capacity, b->size + more, 1);
  if (grown == NULL) return -1;
  b->data = grown;
  return 0;
}

int as_buffer_append(as_buffer *b, const void *bytes, size_t n) {
  if (n == 0) return 0;
  if (as_buffer_reserve(b, n) != 0) return -1;
  memcpy(b->data + b->size, bytes, n);
  b->size += n;
  return 0;
}

void as_buffer_free(as_buffer *b) {
  free(b->data);
  b->data = NULL;
  b->size = b->capacity = 0;
}
