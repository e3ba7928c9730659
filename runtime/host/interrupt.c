/* interrupt.c -- SIGINT for the asched program (see interrupt.h). The signal
 * handler only sets a hook and wakes the loop (both async-signal-safe); the
 * loop does the rest. Owns the uv_async_t that reaches the loop: static, so
 * it outlives every run; the loop closes it with its other handles. */
#include "interrupt.h"

#include <signal.h>
#include <unistd.h>

#include "errors.h"
#include "task.h"

static as_loop *volatile interrupted_loop;
static volatile sig_atomic_t sigint_count;
static int delivered;            /* the main task of this run has been cancelled */
static uv_async_t wakeup;
static struct sigaction previous_action;

/* Runs inside the main task when it was busy as the signal came. */
static void interrupt_hook(lua_State *L, lua_Debug *ar) {
  (void)ar;
  lua_sethook(L, NULL, 0, 0);
  if (interrupted_loop == NULL || delivered) return;
  delivered = 1;
  as__error_raise(L, "CancelledError", "interrupted");
}

static void on_sigint(int sig) {
  as_loop *loop = interrupted_loop;
  (void)sig;
  if (++sigint_count > 1) _exit(130);
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
  as__error_push(loop->L, "CancelledError", "interrupted");
  as__task_cancel(loop->L, loop, main);
}

void as__interrupt_setup(lua_State *L, as_loop *loop, void *ud) {
  struct sigaction sa;
  (void)L;
  (void)ud;
  uv_async_init(&loop->uv, &wakeup, on_interrupt);
  wakeup.data = loop;
  uv_unref((uv_handle_t *)&wakeup);
  delivered = 0;
  interrupted_loop = loop;
  sa.sa_handler = on_sigint;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = 0;
  sigaction(SIGINT, &sa, &previous_action);
}

void as__interrupt_stop(void) {
  if (interrupted_loop == NULL) return;
  interrupted_loop = NULL;
  if (sigint_count == 0) sigaction(SIGINT, &previous_action, NULL);
}

int as_interrupt_count(void) { return (int)sigint_count; }
