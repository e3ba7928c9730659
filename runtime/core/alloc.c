/* alloc.c -- a slab allocator for the asched program's Lua state. Lua tells an
 * allocator the size of every block it frees, so blocks need no header: a
 * suspended task (lua_State, stack, two call frames, Task userdata) costs
 * exactly what Lua asks for instead of glibc's 8-byte header and 16-byte
 * rounding on each of its five blocks (72 bytes a task). Blocks up to
 * SMALL_MAX bytes live in 256 KiB slabs holding one size class each; an empty
 * slab serves any class next. Larger blocks go to malloc. Not thread-safe:
 * one allocator per Lua state.
 *
 * Memory is faulted in once. Slabs come in 16 MiB mappings aligned to their
 * size and, past the first, backed by transparent huge pages where the kernel
 * offers them (a million tasks then cost a few hundred faults, not three
 * hundred thousand).
 * An emptied slab stays mapped and warm, for the next slab any class needs; a
 * mapping goes back to the system only as a whole, once all its slabs are
 * empty and more than a reserve of empty slabs is kept -- never a page at a
 * time, which would split its huge pages and fault them in again. */
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
#define SLABS_PER_MAPPING 64            /* 16 MiB: eight huge pages */
#define MAPPING_SIZE (SLAB_SIZE * SLABS_PER_MAPPING)
#define RESERVE_SLABS (2 * SLABS_PER_MAPPING) /* empty slabs always kept */
#define GRAIN 8                         /* Lua needs no more alignment */
#define SMALL_MAX 1024
#define CLASSES (SMALL_MAX / GRAIN + 1) /* class c holds blocks of c * GRAIN bytes */
#define SLAB_HEADER 64                  /* blocks start here in a slab */

/* A slab's header, at its start. A slab with room is linked in its class's
 * list; a full slab is in no list; an empty one is linked in the allocator's
 * list of empty slabs. */
typedef struct slab {
  struct slab *prev, *next;
  void *free_blocks;   /* freed blocks, linked through their first word */
  char *untouched;     /* blocks from here to the end were never handed out */
  uint32_t live;       /* blocks in use */
  uint32_t block_size; /* 0 while empty */
  uint32_t mapping;    /* index in the allocator's mappings */
  int in_list;
} slab;

/* A mapping of SLABS_PER_MAPPING slabs, handed out from its start; NULL
 * `base` once given back. Slabs past `used` were never touched. */
typedef struct mapping {
  char *base;
  uint32_t used;       /* slabs handed out at least once */
  uint32_t empty;      /* of those, the ones in the list of empty slabs */
} mapping;

struct as_allocator {
  slab *with_room[CLASSES];
  slab *empty;             /* empty slabs, the most recently emptied (warmest) first */
  size_t empty_count;
  size_t in_use;
  mapping *mappings;
  size_t mapping_count, mapping_capacity;
  size_t fresh;            /* the mapping new slabs come from, when the list is empty */
};

static slab *slab_of(void *block) {
  return (slab *)((uintptr_t)block & ~(uintptr_t)(SLAB_SIZE - 1));
}

static size_t class_of(size_t size) { return (size + GRAIN - 1) / GRAIN; }

/* ---- lists: a class's slabs with room (head a->with_room[c]), the empty slabs ---- */

static void unlink_slab(slab **head, slab *s) {
  if (s->prev) s->prev->next = s->next;
  else *head = s->next;
  if (s->next) s->next->prev = s->prev;
  s->prev = s->next = NULL;
  s->in_list = 0;
}

static void push_slab(slab **head, slab *s) {
  s->prev = NULL;
  s->next = *head;
  if (s->next) s->next->prev = s;
  *head = s;
  s->in_list = 1;
}

static void push_empty(as_allocator *a, slab *s) {
  s->block_size = 0;
  push_slab(&a->empty, s);
  a->empty_count++;
  a->mappings[s->mapping].empty++;
}

static void take_empty(as_allocator *a, slab *s) {
  unlink_slab(&a->empty, s);
  a->empty_count--;
  a->mappings[s->mapping].empty--;
}

/* ---- mappings ---- */

/* Maps SLABS_PER_MAPPING slabs, aligned to MAPPING_SIZE (so to a huge page
 * and to a slab), asks for huge pages, and makes it the source of fresh
 * slabs. Nothing in it is touched yet. */
static int map_slabs(as_allocator *a) {
  char *raw, *start;
  size_t index;
  raw = mmap(NULL, MAPPING_SIZE * 2, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (raw == MAP_FAILED) return 0;
  start = (char *)(((uintptr_t)raw + MAPPING_SIZE - 1) & ~(uintptr_t)(MAPPING_SIZE - 1));
  if (start > raw) munmap(raw, (size_t)(start - raw));
  munmap(start + MAPPING_SIZE, (size_t)(raw + MAPPING_SIZE - start));
#ifdef MADV_HUGEPAGE
  /* A hint (without it, 4 KiB pages), from the second mapping on: a small
   * program would pay for zeroing whole 2 MiB pages it hardly uses. */
  if (a->mapping_count > 0) madvise(start, MAPPING_SIZE, MADV_HUGEPAGE);
#endif
  for (index = 0; index < a->mapping_count && a->mappings[index].base != NULL; index++) continue;
  if (index == a->mapping_count) {
    mapping *grown = as_vec_grow(a->mappings, &a->mapping_capacity, a->mapping_count + 1, sizeof *grown);
    if (grown == NULL) {
      munmap(start, MAPPING_SIZE);
      return 0;
    }
    a->mappings = grown;
    a->mapping_count++;
  }
  a->mappings[index].base = start;
  a->mappings[index].used = 0;
  a->mappings[index].empty = 0;
  a->fresh = index;
  return 1;
}

/* A slab never used yet, from the fresh mapping (a new one when it has no
 * more); NULL when out of memory. */
static slab *fresh_slab(as_allocator *a) {
  mapping *m;
  slab *s;
  if (a->mapping_count == 0 || a->mappings[a->fresh].base == NULL ||
      a->mappings[a->fresh].used == SLABS_PER_MAPPING) {
    if (!map_slabs(a)) return NULL;
  }
  m = &a->mappings[a->fresh];
  s = (slab *)(m->base + (size_t)m->used++ * SLAB_SIZE);
  s->mapping = (uint32_t)a->fresh;
  return s;
}

/* Gives the mapping of the empty slab `s` back if none of its slabs is in
 * use, it is not where fresh slabs come from, and enough empty slabs remain
 * without its own. */
static void maybe_unmap(as_allocator *a, slab *s) {
  mapping *m = &a->mappings[s->mapping];
  size_t i;
  if (m->empty < m->used || s->mapping == a->fresh || a->empty_count < RESERVE_SLABS + m->empty) return;
  for (i = 0; i < m->used; i++) take_empty(a, (slab *)(m->base + i * SLAB_SIZE));
  munmap(m->base, MAPPING_SIZE);
  m->base = NULL;
}

/* ---- blocks ---- */

static slab *new_slab(as_allocator *a, size_t c) {
  slab *s = a->empty;
  uint32_t index;
  if (s != NULL) take_empty(a, s);
  else if ((s = fresh_slab(a)) == NULL) return NULL;
  index = s->mapping;
  memset(s, 0, sizeof *s);
  s->mapping = index;
  s->block_size = (uint32_t)(c * GRAIN);
  s->untouched = (char *)s + SLAB_HEADER;
  a->in_use++;
  push_slab(&a->with_room[c], s);
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
  if (slab_full(s)) unlink_slab(&a->with_room[c], s);
  return block;
}

/* An emptied slab becomes an empty slab unless it is the only one its class
 * has room in, so a class that allocates and frees one block at a time does
 * not churn. */
static void free_small(as_allocator *a, void *block, size_t size) {
  size_t c = class_of(size);
  slab *s = slab_of(block);
  *(void **)block = s->free_blocks;
  s->free_blocks = block;
  s->live--;
  if (!s->in_list) push_slab(&a->with_room[c], s);
  if (s->live == 0 && (s->prev || s->next)) {
    unlink_slab(&a->with_room[c], s);
    a->in_use--;
    push_empty(a, s);
    maybe_unmap(a, s);
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
  for (i = 0; i < a->mapping_count; i++)
    if (a->mappings[i].base != NULL) munmap(a->mappings[i].base, MAPPING_SIZE);
  free(a->mappings);
  free(a);
}

size_t as_allocator_slabs_in_use(const as_allocator *a) { return a->in_use; }

size_t as_allocator_slabs_free(const as_allocator *a) {
  size_t n = a->empty_count;
  if (a->mapping_count > 0 && a->mappings[a->fresh].base != NULL) n += SLABS_PER_MAPPING - a->mappings[a->fresh].used;
  return n;
}

size_t as_allocator_slabs_mapped(const as_allocator *a) {
  size_t i, n = 0;
  for (i = 0; i < a->mapping_count; i++)
    if (a->mappings[i].base != NULL) n += SLABS_PER_MAPPING;
  return n;
}
