/* alloc_failure.h -- the sanitizer build's allocators, which fail the Nth
 * allocation when asked (ASCHED_FAIL_ALLOC), for tests/alloc's sweep.
 * Compiled only with ASCHED_SANITIZE. */
#ifndef ASCHED_ALLOC_FAILURE_H
#define ASCHED_ALLOC_FAILURE_H

#include <stddef.h>

/* The Lua allocator (a lua_Alloc): realloc and free, failing on request. */
void *as__alloc_failing(void *ud, void *ptr, size_t osize, size_t nsize);

/* libuv allocates through the same counter; call before any use of libuv. */
void as__alloc_failure_take_libuv(void);

/* Reads ASCHED_FAIL_ALLOC (N, N+ or count) and starts counting: call when
 * the script is loaded, so a sweep spends its runs on the script. */
void as__alloc_failure_arm(void);

#endif
