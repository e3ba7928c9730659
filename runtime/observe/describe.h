/* describe.h -- how a pending task reads in reports, :tasks and deadlock
 * messages: its name, what it waits on (the wait's own description) and the
 * user's line where it waits. */
#ifndef ASCHED_DESCRIBE_H
#define ASCHED_DESCRIBE_H

#include <lua.h>

#include "loop.h"
#include "task.h"

/* Pushes what the pending task `t` waits on and where: "sleeping until
 * 3.000 s at x.lua:4", "ready at x.lua:9", "not started". */
void as__describe_wait(lua_State *L, as_loop *loop, as_task *t);

/* Pushes "name (what it waits on, where)". */
void as__describe_task_line(lua_State *L, as_loop *loop, as_task *t);

/* Why `t` is being made ready now (from an observer's "ready" state): a
 * static "spawn", "yield", "ready" (woken by the task *by), "timer",
 * "callback", "deadlock", "shutdown", "io" or "thread" (when `waited`, the
 * timeline state of its last wait, was one), or "loop". *by is the waker's
 * id for "ready", the spawner's for "spawn" (0: the run), else 0. */
const char *as__describe_wake_reason(as_loop *loop, const as_task *t, const char *waited, uint32_t *by);

#endif
