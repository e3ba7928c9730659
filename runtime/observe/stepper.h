/* stepper.h -- --step: the run stops after each scheduler step, says which
 * task resumed, why it was woken, how long it ran and where it now waits,
 * and waits for a key (stepper.c). */
#ifndef ASCHED_STEPPER_H
#define ASCHED_STEPPER_H

#include <lua.h>

#include "loop.h"

/* The step lines, one per resume, on stdout:
 *   [3] task-3 (worker) resumed (woken by a release of the semaphore by
 *       task-2), ran 0.02 ms, now waits at x.lua:12: waiting on queue get
 * Before the first step and after each one it reads a key from the terminal
 * (a line when stdin is not one): Enter (or "") steps once, "c" continues
 * without stopping or printing again (so does the end of stdin), "q" calls
 * `quit` -- which cancels the main task as Ctrl-C does -- and stops as "c".
 * It blocks the whole loop while it waits: under real time, timers then fire
 * late. Composes with --record and --replay: it wraps the schedule hook
 * already attached, so a replay is stepped through in its recorded order.
 * In the run's set-up, after as__record_attach. */
void as__stepper_attach(lua_State *L, as_loop *loop, void (*quit)(lua_State *L, as_loop *loop));

#endif
