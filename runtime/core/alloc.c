/* alloc.c -- a slab allocator for the asched program's Lua state. Lua tells an
 * allocator the size of every block it frees, so blocks need no header: a
 * suspended task (lua_State, stack, two call frames, Task userdata) costs
 * exactly what Lua asks for instead of glibc's 8-byte header and 16-byte
 * rounding on each of its five blocks (72 bytes a task). Blocks up to
 * SMALL_MAX bytes live in 256 KiB slabs holding one size class each; an empty
 * slab's pages go back to the system and the slab serves any class next.
 * Larger blocks go to malloc. Not thread-safe: one allocator per Lua state. */
#define _DEFAULT_SOURCE /* MAP_ANONYMOUS and madvise */

#include "alloc.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "vec.h"

/* 256 KiB: the two big blocks of a suspended task, its stack (720 bytes) and
 * its lua_State (208), fill such a slab (after the header) exactly. */
#define SLAB_SIZE ((size_t)256 * 1024)
#define SLABS_PER_MAPPING 16            /* 4 MiB of address space at a time */
#define GRAIN 8                         /* Lua needs no more alignment */
#define SMALL_MAX 1024
#define CLASSES (SMALL_MAX / GRAIN + 1) /* class c holds blocks of c * GRAIN bytes */
#define SLAB_HEADER 64                  /* blocks start here in a slab */

/* A slab's header, at its start. A slab with room is linked in its class's
 * list; a full slab is in no list; an empty one is in the allocator's stack
 * of free slabs with its pages released. */
typedef struct slab {
  struct slab *prev, *next;
  void *free_blocks;   /* freed blocks, linked through their first word */
  char *untouched;     /* blocks from here to the end were never handed out */
  uint32_t live;       /* blocks in use */
  uint32_t block_size;
  int in_list;
} slab;

struct as_allocator {
  slab *with_room[CLASSES];
  slab **free_slabs;       /* a stack */
  size_t free_count, free_capacity;
  size_t in_use;
  void **mappings;         /* every mapping, to unmap at the end */
  size_t mapping_count, mapping_capacity;
};

static slab *slab_of(void *block) {
  return (slab *)((uintptr_t)block & ~(uintptr_t)(SLAB_SIZE - 1));
}

static size_t class_of(size_t size) { return (size + GRAIN - 1) / GRAIN; }

static void list_remove(as_allocator *a, slab *s, size_t c) {
  if (s->prev) s->prev->next = s->next;
  else a->with_room[c] = s->next;
  if (s->next) s->next->prev = s->prev;
  s->prev = s->next = NULL;
  s->in_list = 0;
}

static void list_push(as_allocator *a, slab *s, size_t c) {
  s->prev = NULL;
  s->next = a->with_room[c];
  if (s->next) s->next->prev = s;
  a->with_room[c] = s;
  s->in_list = 1;
}

static int push_free_slab(as_allocator *a, slab *s) {
  slab **grown = as_vec_grow(a->free_slabs, &a->free_capacity, a->free_count + 1, sizeof *grown);
  if (grown == NULL) return 0;
  a->free_slabs = grown;
  a->free_slabs[a->free_count++] = s;
  return 1;
}

/* Maps SLABS_PER_MAPPING slabs aligned to SLAB_SIZE and adds them to the free stack. */
static int map_slabs(as_allocator *a) {
  size_t length = SLAB_SIZE * SLABS_PER_MAPPING, i;
  char *raw, *start;
  void **grown;
  raw = mmap(NULL, length + SLAB_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (raw == MAP_FAILED) return 0;
  start = (char *)(((uintptr_t)raw + SLAB_SIZE - 1) & ~(uintptr_t)(SLAB_SIZE - 1));
  if (start > raw) munmap(raw, (size_t)(start - raw));
  munmap(start + length, (size_t)(raw + SLAB_SIZE - start));
  grown = as_vec_grow(a->mappings, &a->mapping_capacity, a->mapping_count + 1, sizeof *grown);
  if (grown == NULL) {
    munmap(start, length);
    return 0;
  }
  a->mappings = grown;
  a->mappings[a->mapping_count++] = start;
  for (i = SLABS_PER_MAPPING; i-- > 0;)
    if (!push_free_slab(a, (slab *)(start + i * SLAB_SIZE))) return 0;
  return 1;
}

static slab *new_slab(as_allocator *a, size_t c) {
  slab *s;
  if (a->free_count == 0 && !map_slabs(a)) return NULL;
  s = a->free_slabs[--a->free_count];
  memset(s, 0, sizeof *s);
  s->block_size = (uint32_t)(c * GRAIN);
  s->untouched = (char *)s + SLAB_HEADER;
  a->in_use++;
  list_push(a, s, c);
  return s;
}

static int slab_full(const slab *s) {
  return s->free_blocks == NULL && s->untouched + s->block_size > (char *)s + SLAB_SIZE;
}

static void *alloc_small(as_allocator *a, size_t size) {
  size_t c = class_of(size);
  slab *s = a->with_room[c];
  void *block;
  if (s == NULL && (s = new_slab(a, c)) == NULL) return NULL;
  if (s->free_blocks) {
    block = s->free_blocks;
    s->free_blocks = *(void **)block;
  } else {
    block = s->untouched;
    s->untouched += s->block_size;
  }
  s->live++;
  if (slab_full(s)) list_remove(a, s, c);
  return block;
}

/* An emptied slab is released unless it is the only one its class has room
 * in, so a class that allocates and frees one block at a time does not churn. */
static void free_small(as_allocator *a, void *block, size_t size) {
  size_t c = class_of(size);
  slab *s = slab_of(block);
  *(void **)block = s->free_blocks;
  s->free_blocks = block;
  s->live--;
  if (!s->in_list) list_push(a, s, c);
  if (s->live == 0 && (s->prev || s->next)) {
    list_remove(a, s, c);
    madvise(s, SLAB_SIZE, MADV_DONTNEED);
    if (!push_free_slab(a, s)) return; /* kept mapped, unused: harmless */
    a->in_use--;
  }
}

void *as_alloc(void *ud, void *ptr, size_t osize, size_t nsize) {
  as_allocator *a = ud;
  void *block;
  if (ptr == NULL) osize = 0; /* Lua passes a type tag then, not a size */
  if (nsize == 0) {
    if (ptr == NULL) return NULL;
    if (osize <= SMALL_MAX) free_small(a, ptr, osize);
    else free(ptr);
    return NULL;
  }
  if (ptr != NULL) {
    if (osize > SMALL_MAX && nsize > SMALL_MAX) return realloc(ptr, nsize);
    if (osize <= SMALL_MAX && nsize <= SMALL_MAX && class_of(osize) == class_of(nsize)) return ptr;
  }
  block = nsize <= SMALL_MAX ? alloc_small(a, nsize) : malloc(nsize);
  if (block == NULL) return NULL; /* Lua keeps the old block on failure */
  if (ptr != NULL) {
    memcpy(block, ptr, osize < nsize ? osize : nsize);
    as_alloc(a, ptr, osize, 0);
  }
  return block;
}

as_allocator *as_allocator_new(void) { return calloc(1, sizeof(as_allocator)); }

void as_allocator_free(as_allocator *a) {
  size_t i;
  if (a == NULL) return;
  for (i = 0; i < a->mapping_count; i++) munmap(a->mappings[i], SLAB_SIZE * SLABS_PER_MAPPING);
  free(a->mappings);
  free(a->free_slabs);
  free(a);
}

size_t as_allocator_slabs_in_use(const as_allocator *a) { return a->in_use; }

size_t as_allocator_slabs_free(const as_allocator *a) { return a->free_count; }
