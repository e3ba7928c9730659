/* signals.h -- signals by name, and tasks waiting for one (signals.c):
 * asched.signal.wait on uv_signal. Named "signals", not "signal": the
 * system's <signal.h> must stay the one every file includes. */
#ifndef ASCHED_SIGNALS_H
#define ASCHED_SIGNALS_H

#include <lua.h>

#include "loop.h"
#include "task.h"

/* The number of the signal named `name` ("SIGTERM"), or 0. */
int as__signal_number(const char *name);

/* Pushes the name of signal `signum` ("SIGTERM"; "SIG<n>" for one without a
 * name here). */
void as__signal_push_name(lua_State *L, int signum);

/* True when a task may wait for `signum`: not SIGKILL or SIGSTOP (which
 * cannot be caught), nor a signal the program itself raises on a fault
 * (SIGSEGV, SIGABRT, ...), nor SIGPIPE (ignored for the program's sockets). */
int as__signal_waitable(int signum);

/* Suspends the running task `t` until `signum` (waitable) arrives; then
 * returns its name. Every task waiting for it when it arrives, on any loop,
 * is woken by that one arrival. While at least one task waits, the signal
 * goes to the waiters only: the handling it had before (the program's
 * Ctrl-C, or the default action) is displaced, and put back once the last
 * waiter has gone. IOError when libuv cannot watch it. */
int as__signal_wait(lua_State *L, as_loop *loop, as_task *t, int signum);

/* How many tasks wait for `signum`, on every loop of the process. Safe in a
 * signal handler (one lock-free atomic read): a handler chained in front of
 * libuv's (the REPL's Ctrl-C) asks it to leave the signal to the waiters. */
int as__signal_waiters(int signum);

#endif
