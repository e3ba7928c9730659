/* slow_task.h -- debug mode's watchdog: a task that runs longer than
 * AS_SLOW_TASK_MS without suspending blocks every other task; it is reported
 * on stderr with its name and the Lua line it was at (a count hook reads the
 * line, so it is where the task really was, not a guess). An observer of the
 * loop, attached once debug mode is on. */
#ifndef ASCHED_SLOW_TASK_H
#define ASCHED_SLOW_TASK_H

#include <lua.h>

#include "loop.h"

#define AS_SLOW_TASK_MS 100

/* Starts watching the tasks of `loop` (once; later calls do nothing). It
 * reports only while loop->debug is set. */
void as__slow_task_attach(as_loop *loop);

#endif
