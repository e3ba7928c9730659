/* sync.h -- semaphore, bounded_semaphore, lock, event and queue (sync.c). */
#ifndef ASCHED_SYNC_H
#define ASCHED_SYNC_H

#include <lua.h>

#include <stdint.h>

#define AS_HOLDERS_NAMED 8

/* For a wait queue of a semaphore, bounded_semaphore or lock: sets *ids to
 * the ids of up to AS_HOLDERS_NAMED tasks holding its permits, *unnamed to how
 * many more hold one, and returns the number of ids; -1 for other queues. */
int as__sync_holders(void *waitq, const uint32_t **ids, lua_Integer *unnamed);

/* Creates their metatables and adds the constructors to the module table on top. */
void as__open_sync(lua_State *L);

#endif
