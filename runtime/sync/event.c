/* event.c -- an event over a wait queue (see event.h). A waiter woken by set
 * has nothing to pass on if it is cancelled before it runs. */
#include "event.h"

static const as_waitq_type event_type = {
  .wait = {.timeline = "event", .describe = as__waitq_describe, .woken_by = "the event being set"}, .label = "event"};

void as__event_init(as_event *e) {
  as__waitq_init(&e->waiters, &event_type);
  e->set = 0;
}

void as__event_set(lua_State *L, as_loop *loop, as_event *e) {
  if (e->set) return;
  e->set = 1;
  as__waitq_grant_all(L, loop, &e->waiters);
}
