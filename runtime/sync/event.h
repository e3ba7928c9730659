/* event.h -- an event: a flag that tasks wait for; set wakes them all. */
#ifndef ASCHED_EVENT_H
#define ASCHED_EVENT_H

#include "waitq.h"

/* Lives in the Event userdata. */
typedef struct as_event {
  as_waitq waiters;
  int set;
} as_event;

void as__event_init(as_event *e);

/* Sets the flag and wakes every waiter (each returns true, even if the flag
 * is cleared before it runs, as in asyncio). */
void as__event_set(lua_State *L, as_loop *loop, as_event *e);

#endif
