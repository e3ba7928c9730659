/* sync.h -- semaphore, bounded_semaphore, lock, event and queue (sync.c). */
#ifndef ASCHED_SYNC_H
#define ASCHED_SYNC_H

#include <lua.h>

/* Creates their metatables and adds the constructors to the module table on top. */
void as__open_sync(lua_State *L);

#endif
