/* slow_task.h -- debug mode's watchdog: a task that runs longer than
 * AS_SLOW_TASK_MS without suspending blocks every other task; it is reported
 * on stderr with its name and the Lua line it was at (a count hook reads the
 * line, so it is where the task really was, not a guess). */
#ifndef ASCHED_SLOW_TASK_H
#define ASCHED_SLOW_TASK_H

#include <lua.h>
#include <stdint.h>

#define AS_SLOW_TASK_MS 100

struct as_loop;
struct as_task;

/* The slice of the task being resumed, while debug mode watches it. */
typedef struct as_slow_watch {
  uint64_t start_ns;  /* uv_hrtime() when the resume began */
  int watching;       /* as__slow_task_begin ran for this resume */
  int reported;       /* this slice has been reported once */
} as_slow_watch;

/* Before resuming `co`: starts the clock and sets the count hook on it. */
void as__slow_task_begin(struct as_loop *loop, lua_State *co);

/* After the resume returned `status`: reports a slice that ran over the limit
 * without the hook seeing it (time spent inside a C call such as os.execute). */
void as__slow_task_end(struct as_loop *loop, struct as_task *t, lua_State *co, int status);

#endif
