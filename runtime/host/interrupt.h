/* interrupt.h -- Ctrl-C for the asched program: the first SIGINT cancels the
 * main task, a second one exits at once with status 130. */
#ifndef ASCHED_INTERRUPT_H
#define ASCHED_INTERRUPT_H

#include <lua.h>

#include "loop.h"

/* A run's host set-up (as_run_options.host_setup): SIGINT now reaches `loop`. */
void as__interrupt_setup(lua_State *L, as_loop *loop, void *ud);

/* The run is over: SIGINT goes back to what it was (unless one came). */
void as__interrupt_stop(void);

/* How many SIGINTs arrived since the program started. */
int as_interrupt_count(void);

#endif
