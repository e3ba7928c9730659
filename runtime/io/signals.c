/* signals.c -- signals by name, and tasks waiting for one (see signals.h).
 * Owns one uv_signal_t per loop and signal while tasks wait for it, and the
 * process-wide record of which signal handling each first watch displaced;
 * never touches the program's own handlers (runtime/host) by name.
 *
 * libuv installs its handler for a signal when the first uv_signal for it
 * starts, in any loop, and sets the signal back to SIG_DFL when the last one
 * stops. Left alone, that would silently drop the handling the signal had
 * before -- the asched program's Ctrl-C and SIGTERM (runtime/host/interrupt.c)
 * or an ignored signal. So the first watch of a signal notes the action it
 * displaces, and when the last one has stopped and libuv left SIG_DFL, that
 * action is put back. While a task waits, libuv's handler alone receives the
 * signal: the program's own handler never sees it (API.md: Ctrl-C wakes a
 * task waiting for "SIGINT" instead of cancelling the main task). The signal
 * is blocked in this thread across each change, so an arrival in between is
 * delivered after it, to whichever handler is then in place. */
#include "signals.h"

#include <lauxlib.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

#include "io_op.h"

/* ---- names ---- */

static const struct {
  const char *name;
  int number;
  int waitable;
} SIGNALS[] = {
  {"SIGHUP", SIGHUP, 1},     {"SIGINT", SIGINT, 1},       {"SIGQUIT", SIGQUIT, 1},
  {"SIGILL", SIGILL, 0},     {"SIGTRAP", SIGTRAP, 0},     {"SIGABRT", SIGABRT, 0},
  {"SIGBUS", SIGBUS, 0},     {"SIGFPE", SIGFPE, 0},       {"SIGKILL", SIGKILL, 0},
  {"SIGUSR1", SIGUSR1, 1},   {"SIGSEGV", SIGSEGV, 0},     {"SIGUSR2", SIGUSR2, 1},
  {"SIGPIPE", SIGPIPE, 0},   {"SIGALRM", SIGALRM, 1},     {"SIGTERM", SIGTERM, 1},
  {"SIGCHLD", SIGCHLD, 1},   {"SIGCONT", SIGCONT, 1},     {"SIGSTOP", SIGSTOP, 0},
  {"SIGTSTP", SIGTSTP, 1},   {"SIGTTIN", SIGTTIN, 1},     {"SIGTTOU", SIGTTOU, 1},
  {"SIGURG", SIGURG, 1},     {"SIGXCPU", SIGXCPU, 1},     {"SIGXFSZ", SIGXFSZ, 1},
  {"SIGVTALRM", SIGVTALRM, 1}, {"SIGPROF", SIGPROF, 1},   {"SIGWINCH", SIGWINCH, 1},
  {"SIGSYS", SIGSYS, 0},
};

#define SIGNAL_COUNT (sizeof SIGNALS / sizeof SIGNALS[0])

/* Per-signal state is indexed by number; every named signal is below this. */
#define SLOTS 32

int as__signal_number(const char *name) {
  size_t i;
  for (i = 0; i < SIGNAL_COUNT; i++) {
    if (strcmp(SIGNALS[i].name, name) == 0) return SIGNALS[i].number;
  }
  return 0;
}

void as__signal_push_name(lua_State *L, int signum) {
  size_t i;
  for (i = 0; i < SIGNAL_COUNT; i++) {
    if (SIGNALS[i].number == signum) {
      lua_pushstring(L, SIGNALS[i].name);
      return;
    }
  }
  lua_pushfstring(L, "SIG%d", signum);
}

int as__signal_waitable(int signum) {
  size_t i;
  for (i = 0; i < SIGNAL_COUNT; i++) {
    if (SIGNALS[i].number == signum) return SIGNALS[i].waitable && signum < SLOTS;
  }
  return 0;
}

/* ---- process-wide: waiters, and the handling a first watch displaced ---- */

static atomic_int waiting[SLOTS];            /* tasks waiting, every loop */
static pthread_mutex_t watches_lock = PTHREAD_MUTEX_INITIALIZER;
static int watching[SLOTS];                  /* started watches, every loop */
static struct sigaction displaced[SLOTS];    /* what the first of them displaced */

int as__signal_waiters(int signum) {
  if (signum <= 0 || signum >= SLOTS) return 0;
  return atomic_load_explicit(&waiting[signum], memory_order_relaxed);
}

static void block(int signum, sigset_t *saved) {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, signum);
  pthread_sigmask(SIG_BLOCK, &set, saved);
}

static void unblock(const sigset_t *saved) { pthread_sigmask(SIG_SETMASK, saved, NULL); }

/* A watch of `signum` is about to start: the first notes what it displaces. */
static void note_displaced(int signum) {
  pthread_mutex_lock(&watches_lock);
  if (watching[signum]++ == 0) sigaction(signum, NULL, &displaced[signum]);
  pthread_mutex_unlock(&watches_lock);
}

/* A watch of `signum` has stopped: after the last, the displaced handling
 * comes back -- unless something else than libuv's SIG_DFL is in place
 * (another libuv handle still watches it, or its owner changed it since). */
static void put_back_displaced(int signum) {
  struct sigaction now;
  pthread_mutex_lock(&watches_lock);
  if (--watching[signum] == 0 && sigaction(signum, NULL, &now) == 0 &&
      !(now.sa_flags & SA_SIGINFO) && now.sa_handler == SIG_DFL)
    sigaction(signum, &displaced[signum], NULL);
  pthread_mutex_unlock(&watches_lock);
}

/* ---- the watches of a loop: one uv_signal per signal waited for ---- */

typedef struct watch {
  uv_signal_t handle;     /* freed in its close callback */
  as_list node;           /* in the loop's watches while it runs */
  as_list waiters;        /* sig_op.node */
  int signum;
} watch;

typedef struct watches {
  as_attachment attachment;
  as_list list;           /* watch.node */
} watches;

static const char watches_key = 'S';

/* A task waiting for a signal. */
typedef struct sig_op {
  as_io_op op;
  as_list node;           /* in its watch's waiters until woken or let go */
  watch *w;
  int signum;
} sig_op;

static void watch_closed(uv_handle_t *h) { free(h->data); }

/* Nobody waits any more: stop watching; libuv's handler goes, and the
 * displaced handling comes back. */
static void watch_stop(watch *w) {
  sigset_t saved;
  block(w->signum, &saved);
  as_list_remove(&w->node);
  uv_close((uv_handle_t *)&w->handle, watch_closed);   /* stops it at once */
  put_back_displaced(w->signum);
  unblock(&saved);
}

static void leave(sig_op *s) {
  as_list_remove(&s->node);
  atomic_fetch_sub_explicit(&waiting[s->signum], 1, memory_order_relaxed);
}

/* Wakes every waiter of `w` (a waiter already let go is freed), then stops
 * watching: the next arrival gets the displaced handling unless a task waits
 * again by then. */
static void end_watch(watch *w) {
  as_list *n;
  while ((n = as_list_first(&w->waiters)) != NULL) {
    sig_op *s = as_container_of(n, sig_op, node);
    leave(s);
    as__io_op_finish(&s->op);
  }
  watch_stop(w);
}

/* The signal came: one arrival wakes every task of this loop waiting for it. */
static void on_signal(uv_signal_t *h, int signum) {
  (void)signum;
  end_watch(h->data);
}

/* The run is ending. Every waiter has been let go already, which stopped its
 * watch; one left over (its wait never started: out of memory) ends here. */
static void close_watches(as_attachment *a, lua_State *L, as_loop *loop) {
  watches *all = (watches *)a;
  as_list *n;
  (void)L;
  (void)loop;
  while ((n = as_list_first(&all->list)) != NULL) end_watch(as_container_of(n, watch, node));
}

/* The watch of `signum` on `loop`, started the first time; NULL with *status
 * a libuv error when it cannot be. */
static watch *watch_of(as_loop *loop, int signum, int *status) {
  int made;
  watches *all = (watches *)as__loop_attachment_make(loop, &watches_key, sizeof *all, close_watches, NULL,
                                                     &made);
  watch *w;
  as_list *n;
  sigset_t saved;
  *status = UV_ENOMEM;
  if (all == NULL) return NULL;
  if (made) as_list_init(&all->list);
  for (n = all->list.next; n != &all->list; n = n->next) {
    w = as_container_of(n, watch, node);
    if (w->signum == signum) return w;
  }
  w = calloc(1, sizeof *w);
  if (w == NULL) return NULL;
  *status = uv_signal_init(&loop->uv, &w->handle);
  if (*status != 0) {
    free(w);
    return NULL;
  }
  w->handle.data = w;
  w->signum = signum;
  as_list_init(&w->waiters);
  block(signum, &saved);
  note_displaced(signum);
  *status = uv_signal_start(&w->handle, on_signal, signum);
  if (*status != 0) {
    uv_close((uv_handle_t *)&w->handle, watch_closed);
    put_back_displaced(signum);
    unblock(&saved);
    return NULL;
  }
  as_list_push_back(&all->list, &w->node);
  unblock(&saved);
  return w;
}

/* ---- waiting ---- */

static int wait_push(lua_State *L, as_io_op *op) {
  as__signal_push_name(L, ((sig_op *)op)->signum);
  return 1;
}

/* The waiter is gone (cancelled, or the run ended): it leaves; the last one
 * stops the watch. */
static void wait_abort(as_io_op *op) {
  sig_op *s = (sig_op *)op;
  watch *w = s->w;
  leave(s);
  as__io_op_finish(op);      /* nobody waits: frees it */
  if (as_list_empty(&w->waiters)) watch_stop(w);
}

static void wait_release(as_io_op *op) { free(op); }

static const as_io_op_type WAIT_TYPE = {AS_IO_WAIT("io"), "waiting for a signal", wait_push, wait_abort,
                                        wait_release};

int as__signal_wait(lua_State *L, as_loop *loop, as_task *t, int signum) {
  sig_op *s = calloc(1, sizeof *s);
  int status = UV_ENOMEM;
  watch *w = s ? watch_of(loop, signum, &status) : NULL;
  if (w == NULL) {
    free(s);
    if (status == UV_ENOMEM) return luaL_error(L, "not enough memory");
    lua_pushstring(L, "signal.wait ");
    as__signal_push_name(L, signum);
    lua_concat(L, 2);
    as__io_error_push(L, status, "%s", lua_tostring(L, -1));
    return lua_error(L);
  }
  as__io_op_init(&s->op, &WAIT_TYPE, loop);
  s->w = w;
  s->signum = signum;
  as_list_push_back(&w->waiters, &s->node);
  atomic_fetch_add_explicit(&waiting[signum], 1, memory_order_relaxed);
  return as__io_op_wait(L, &s->op, t);
}
