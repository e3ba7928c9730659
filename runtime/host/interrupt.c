/* interrupt.c -- SIGINT and SIGTERM for the asched program (see interrupt.h).
 * The signal handler only sets a hook and wakes the loop (both
 * async-signal-safe); the loop does the rest. Owns the uv_async_t that
 * reaches the loop: static, so it outlives every run; the loop closes it with
 * its other handles. While a task waits for SIGINT or SIGTERM
 * (asched.signal.wait), libuv's handler has displaced this one, so the signal
 * wakes that task instead; io/signals.c puts this one back once no task
 * waits (it never runs meanwhile, so it need not ask). */
#include "interrupt.h"

#include <signal.h>
#include <unistd.h>

#include "errors.h"
#include "task.h"

static as_loop *volatile interrupted_loop;
static volatile sig_atomic_t signal_count;
static volatile sig_atomic_t first_signal;   /* the signal that cancelled main, or 0 */
static int delivered;                         /* the main task of this run has been cancelled */
static uv_async_t wakeup;
static int handled[2] = {SIGINT, SIGTERM};
static int installed[2];                      /* which of `handled` this run took */
static struct sigaction previous_action[2];

/* The CancelledError's message for the signal that came. */
static const char *reason(void) { return first_signal == SIGTERM ? "terminated" : "interrupted"; }

/* Runs inside the main task when it was busy as the signal came. */
static void interrupt_hook(lua_State *L, lua_Debug *ar) {
  (void)ar;
  lua_sethook(L, NULL, 0, 0);
  if (interrupted_loop == NULL || delivered) return;
  delivered = 1;
  as__error_raise(L, "CancelledError", reason());
}

static void on_signal(int sig) {
  as_loop *loop = interrupted_loop;
  if (++signal_count > 1) _exit(128 + sig);
  first_signal = sig;
  if (loop == NULL) return;
  if (loop->current != NULL && loop->current == loop->main)
    lua_sethook(loop->main->co, interrupt_hook, LUA_MASKCALL | LUA_MASKRET | LUA_MASKCOUNT, 1);
  uv_async_send(&wakeup);
}

/* In the loop: cancel the main task unless the hook already did. */
static void on_interrupt(uv_async_t *handle) {
  as_loop *loop = handle->data;
  as_task *main = loop->main;
  if (main == NULL || main->state == AS_TASK_DONE) return;
  lua_sethook(main->co, NULL, 0, 0);
  if (delivered) return;
  delivered = 1;
  as__error_push(loop->L, "CancelledError", reason());
  as__task_cancel(loop->L, loop, main);
}

void as__interrupt_quit(lua_State *L, as_loop *loop) {
  (void)L;
  if (first_signal == 0) first_signal = SIGINT;
  wakeup.data = loop;
  on_interrupt(&wakeup);    /* as the signal's wake-up would, at once */
}

/* SIGTERM always; SIGINT unless the console takes it (the REPL). */
static void setup(as_loop *loop, int take_sigint) {
  struct sigaction sa;
  int i;
  uv_async_init(&loop->uv, &wakeup, on_interrupt);
  wakeup.data = loop;
  uv_unref((uv_handle_t *)&wakeup);
  delivered = 0;
  interrupted_loop = loop;
  sa.sa_handler = on_signal;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = 0;
  installed[0] = take_sigint;   /* handled[0] is SIGINT */
  installed[1] = 1;
  for (i = 0; i < 2; i++)
    if (installed[i]) sigaction(handled[i], &sa, &previous_action[i]);
}

void as__interrupt_setup(lua_State *L, as_loop *loop, void *ud) {
  (void)L;
  (void)ud;
  setup(loop, 1);
}

void as__terminate_setup(lua_State *L, as_loop *loop, void *ud) {
  (void)L;
  (void)ud;
  setup(loop, 0);
}

void as__interrupt_stop(void) {
  int i;
  if (interrupted_loop == NULL) return;
  interrupted_loop = NULL;
  if (signal_count > 0) return;
  for (i = 0; i < 2; i++)
    if (installed[i]) sigaction(handled[i], &previous_action[i], NULL);
}

int as_interrupt_signal(void) { return (int)first_signal; }
