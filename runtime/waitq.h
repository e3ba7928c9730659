/* waitq.h -- a FIFO queue of waiting tasks with cancellation-safe grants: the
 * one C primitive under semaphore, lock, event, condition and queue. */
#ifndef ASCHED_WAITQ_H
#define ASCHED_WAITQ_H

#include <lua.h>

#define AS_WAITQ_METATABLE "asched.WaitQueue"

/* Adds waitq(label) to the table on top (the facade's primitives). */
void as__open_waitq(lua_State *L);

/* The label a wait queue was made with ("lock", "queue get", ...). */
const char *as__waitq_label(void *q);

#endif
