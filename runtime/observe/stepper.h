/* stepper.h -- --step: the run stops after each scheduler step, says which
 * task resumed, why it was woken, how long it ran and where it now waits,
 * and waits for a key; and the REPL's :pause and :step (stepper.c). */
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

/* ---- the REPL's stepper: :pause, :step, :ready, :timers, :held, :run ----
 * The same step lines, but no keys: while paused, only the REPL's own tasks
 * (the main task and those marked with as__stepper_own: its inputs) are
 * resumed and only their timers fire (under virtual time the clock stops);
 * every other task, ready or woken, is held back, and so is a task spawned
 * at the prompt meanwhile. as__stepper_step lets N held-back steps through
 * (the first ready one each, or the next timer's), each printing its line.
 * A timer of an input that comes after a held-back one waits with it. */

/* Attaches it (at the console's opening, in the run). Returns 0 when the
 * loop has another schedule hook (--record, --replay, --step): the REPL
 * then does not step. */
int as__stepper_attach_repl(lua_State *L, as_loop *loop);

/* Marks `t` as the REPL's own: never held back. */
void as__stepper_own(as_loop *loop, struct as_task *t);

/* Pauses (1) or resumes normal scheduling (0); returns whether it was
 * paused. Nothing when not attached. */
int as__stepper_pause(as_loop *loop, int paused);
int as__stepper_is_paused(as_loop *loop);

/* While paused: lets `steps` held-back steps through (0: stops the steps
 * still to come, and as__stepper_interrupted says so until the next);
 * as__stepper_stepping says whether some are still to come (0 too when
 * nothing could be stepped: no held-back task ready and no timer set). */
void as__stepper_step(as_loop *loop, long steps);
int as__stepper_stepping(as_loop *loop);
int as__stepper_interrupted(as_loop *loop);
uint64_t as__stepper_steps(as_loop *loop);   /* held-back steps taken in all */

/* Push, as lines of text ("" when there are none): the held-back ready
 * queue in order, with why each was woken; the next `max` timers of tasks
 * not the REPL's, with when they fire and what the task waits on; and for
 * each lock or semaphore some task waits on, its holders (as its wait
 * type's holders tell) and its waiters. */
void as__stepper_push_ready(lua_State *L, as_loop *loop);
void as__stepper_push_timers(lua_State *L, as_loop *loop, int max);
void as__stepper_push_held(lua_State *L, as_loop *loop);

#endif
