/* waitset.h -- the one waiting mechanism of gather, as_completed, wait,
 * wait_for and shield: the running task waits on a list of tasks, with an
 * optional deadline, and is woken by the first completion that matters. */
#ifndef ASCHED_WAITSET_H
#define ASCHED_WAITSET_H

#include <lua.h>

#include "task.h"

#define AS_WAITSET_METATABLE "asched.WaitSet"

/* Creates the WaitSet metatable and adds waitset(tasks, label) and
 * is_task(v) to the table on top (the facade's primitives). */
void as__open_waitset(lua_State *L);

/* A member of a wait set: its task, the Task at index `task` of L, is done
 * (called by the task's finish). */
struct as_loop;
void as__waitset_member_done(lua_State *L, int task, struct as_loop *loop, as_waiter *member,
                             as_task *done);

/* Pushes "k of n tasks" (k still pending) for a task waiting on `set`. */
void as__waitset_push_description(lua_State *L, void *set);

#endif
