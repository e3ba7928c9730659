/* buffer.h -- a growable byte buffer for I/O (reads, outputs, copies), on
 * core's growable array. Usable on any thread; owns its bytes. */
#ifndef ASCHED_BUFFER_H
#define ASCHED_BUFFER_H

#include <stddef.h>

typedef struct as_buffer {
  char *data;
  size_t size, capacity;
} as_buffer;

/* Makes room for `more` bytes after `size`; returns 0, or -1 when out of
 * memory (the buffer is then unchanged). */
int as_buffer_reserve(as_buffer *b, size_t more);

/* Appends `n` bytes; returns 0, or -1 when out of memory. */
int as_buffer_append(as_buffer *b, const void *bytes, size_t n);

/* Frees the bytes; the buffer is empty again. */
void as_buffer_free(as_buffer *b);

#endif
