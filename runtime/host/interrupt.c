/* interrupt.c -- SIGINT for the asched program. The signal handler only sets a
 * hook and wakes the loop (both async-signal-safe); the loop does the rest. */
#include "interrupt.h"

#include <signal.h>
#include <unistd.h>

#include "errors.h"
#include "loop.h"

static as_loop *volatile interrupted_loop;
static volatile sig_atomic_t sigint_count;
static struct sigaction previous_action;

/* Runs inside the main task when it was busy as the signal came. */
static void interrupt_hook(lua_State *L, lua_Debug *ar) {
  as_loop *loop = interrupted_loop;
  (void)ar;
  lua_sethook(L, NULL, 0, 0);
  if (loop == NULL || loop->interrupt_delivered) return;
  loop->interrupt_delivered = 1;
  as__error_raise(L, "CancelledError", "interrupted");
}

static void on_sigint(int sig) {
  as_loop *loop = interrupted_loop;
  (void)sig;
  if (++sigint_count > 1) _exit(130);
  if (loop == NULL) return;
  if (loop->current != NULL && loop->current == loop->main)
    lua_sethook(loop->main->co, interrupt_hook, LUA_MASKCALL | LUA_MASKRET | LUA_MASKCOUNT, 1);
  uv_async_send(&loop->interrupt);
}

/* In the loop: cancel the main task unless the hook already did. */
static void on_interrupt(uv_async_t *handle) {
  as_loop *loop = handle->data;
  as_task *main = loop->main;
  if (main->state == AS_TASK_DONE) return;
  lua_sethook(loop->main->co, NULL, 0, 0);
  if (loop->interrupt_delivered) return;
  loop->interrupt_delivered = 1;
  as__error_push(loop->L, "CancelledError", "interrupted");
  as__task_cancel(loop->L, loop, main);
}

void as__interrupt_start(as_loop *loop) {
  struct sigaction sa;
  uv_async_init(&loop->uv, &loop->interrupt, on_interrupt);
  loop->interrupt.data = loop;
  uv_unref((uv_handle_t *)&loop->interrupt);
  interrupted_loop = loop;
  sa.sa_handler = on_sigint;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = 0;
  sigaction(SIGINT, &sa, &previous_action);
}

void as__interrupt_stop(as_loop *loop) {
  (void)loop;
  interrupted_loop = NULL;
  if (sigint_count == 0) sigaction(SIGINT, &previous_action, NULL);
}

int as_interrupt_count(void) { return (int)sigint_count; }
