/* alloc.h -- the asched program's Lua allocator: small objects come from
 * single-size slabs with no per-object header. Owns its memory; no Lua. */
#ifndef ASCHED_ALLOC_H
#define ASCHED_ALLOC_H

#include <stddef.h>

typedef struct as_allocator as_allocator;

/* NULL when out of memory. */
as_allocator *as_allocator_new(void);

/* Releases every slab; the objects in them must be dead (after lua_close). */
void as_allocator_free(as_allocator *a);

/* A lua_Alloc: `ud` is the as_allocator. */
void *as_alloc(void *ud, void *ptr, size_t osize, size_t nsize);

/* Slabs currently holding objects, and empty slabs kept for reuse. */
size_t as_allocator_slabs_in_use(const as_allocator *a);
size_t as_allocator_slabs_free(const as_allocator *a);

/* Slabs mapped from the system (in use, empty or never used yet). */
size_t as_allocator_slabs_mapped(const as_allocator *a);

#endif
