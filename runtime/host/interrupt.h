/* interrupt.h -- Ctrl-C and SIGTERM for the asched program: the first signal
 * cancels the main task (its cleanup runs), a second one exits at once with
 * status 128 + the signal's number (130 for SIGINT, 143 for SIGTERM). */
#ifndef ASCHED_INTERRUPT_H
#define ASCHED_INTERRUPT_H

#include <lua.h>

#include "loop.h"

/* A run's host set-up (as_run_options.host_setup): SIGINT and SIGTERM now
 * reach `loop`. */
void as__interrupt_setup(lua_State *L, as_loop *loop, void *ud);

/* The same for SIGTERM alone: the REPL's console takes Ctrl-C itself. */
void as__terminate_setup(lua_State *L, as_loop *loop, void *ud);

/* The stepper's `q` (as_run_options.step_quit): as a Ctrl-C -- the main
 * task of `loop` is cancelled and the program exits as interrupted. Where no
 * task runs, or the one stepped has just suspended. */
void as__interrupt_quit(lua_State *L, as_loop *loop);

/* The run is over: the signals go back to what they were (unless one came). */
void as__interrupt_stop(void);

/* The first of those signals that arrived since the program started, or 0. */
int as_interrupt_signal(void);

#endif
