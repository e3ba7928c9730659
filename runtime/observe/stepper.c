/* stepper.c -- --step and the REPL's :pause/:step (see stepper.h). Owns its
 * stepper: an attachment of the loop that is also its observer and its
 * schedule hook (wrapping a recorder's, if any); it reads keys (--step) or
 * holds back the tasks not the REPL's (:pause) and prints, but never
 * resumes a task. */
#include "stepper.h"

#include <errno.h>
#include <lauxlib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "describe.h"
#include "errors.h"
#include "held.h"
#include "task.h"
#include "vec.h"

enum { STEPPING, CONTINUING };
enum { KEY_STEP, KEY_CONTINUE, KEY_QUIT };

/* What the stepper keeps of a live task, by id: its last wait, and why it
 * was last made ready, told when it next resumes. Forgotten when the task
 * ends, so a long REPL session keeps notes for its live tasks only. */
typedef struct task_note {
  int own;              /* the REPL's own task: never held back */
  const char *waited;   /* its last wait's timeline state (static), or NULL */
  const char *woken_by; /* ... that wait's "a release of the semaphore", or NULL */
  uint64_t timer_ns;    /* ... a sleep's length, or 0 */
  char op[64];          /* ... an I/O or thread operation: what it did */
  char why[192];        /* "woken by a timer of 0.5 s" */
} task_note;

/* A slot of the notes' hash table (open addressing, linear probing): id 0
 * is an empty slot (task ids start at 1). */
typedef struct note_slot {
  uint32_t id;
  task_note note;
} note_slot;

/* Allocated by as__stepper_attach, freed by its release (the run's end). */
typedef struct stepper {
  as_attachment attachment;
  as_observer observer;
  as_schedule_hook hook;
  as_schedule_hook *inner;  /* the recorder's hook, or NULL */
  void (*quit)(lua_State *L, as_loop *loop);
  int mode;
  int prompted;             /* the prompt before the first step was shown */
  uint64_t step;            /* steps shown so far */
  as_task *stepping;        /* the task being stepped, until its line is out */
  uint64_t started;         /* uv_hrtime() as it resumed */
  note_slot *slots;         /* the live tasks' notes; capacity a power of 2 */
  size_t capacity, used;
  /* The REPL's stepper (as__stepper_attach_repl): it reads no key; while
   * `paused` only the REPL's own tasks run, and `budget` held-back steps. */
  int repl;
  int paused;
  long budget;
  int interrupted;          /* the last :step was cut short (Ctrl-C) */
} stepper;

static const char stepper_key = 'S';

static size_t home_of(const stepper *s, uint32_t id) { return (id * 2654435761u) & (s->capacity - 1); }

/* Doubles the table (or makes its first one); 0, or -1 out of memory. */
static int grow_notes(stepper *s) {
  size_t capacity = s->capacity ? s->capacity * 2 : 64, i;
  note_slot *old = s->slots, *slots = calloc(capacity, sizeof *slots);
  size_t old_capacity = s->capacity;
  if (slots == NULL) return -1;
  s->slots = slots;
  s->capacity = capacity;
  for (i = 0; i < old_capacity; i++) {
    size_t at;
    if (old[i].id == 0) continue;
    for (at = home_of(s, old[i].id); slots[at].id != 0; at = (at + 1) & (capacity - 1)) {
    }
    slots[at] = old[i];
  }
  free(old);
  return 0;
}

/* The note of `t`, made empty the first time; NULL out of memory. */
static task_note *note_of(stepper *s, const as_task *t) {
  size_t at;
  if ((s->used + 1) * 2 > s->capacity && grow_notes(s) != 0) return NULL;
  for (at = home_of(s, t->id); s->slots[at].id != 0; at = (at + 1) & (s->capacity - 1))
    if (s->slots[at].id == t->id) return &s->slots[at].note;
  memset(&s->slots[at], 0, sizeof s->slots[at]);
  s->slots[at].id = t->id;
  s->used++;
  return &s->slots[at].note;
}

/* `t` has ended: its note goes. Later slots move back over the hole, so
 * every lookup still finds its entry before an empty slot. */
static void forget(stepper *s, const as_task *t) {
  size_t mask = s->capacity - 1, hole, at;
  if (s->capacity == 0) return;
  for (hole = home_of(s, t->id); s->slots[hole].id != t->id; hole = (hole + 1) & mask)
    if (s->slots[hole].id == 0) return;
  for (at = (hole + 1) & mask; s->slots[at].id != 0; at = (at + 1) & mask) {
    size_t home = home_of(s, s->slots[at].id);
    /* Movable when its home is not in (hole, at], cyclically. */
    if (hole <= at ? (home <= hole || home > at) : (home <= hole && home > at)) {
      s->slots[hole] = s->slots[at];
      hole = at;
    }
  }
  s->slots[hole].id = 0;
  s->used--;
}

/* Writes "task-4 (worker)", or "task-4" when that is its name, into `out`. */
static void label(as_loop *loop, as_task *t, char *out, size_t size) {
  lua_State *L = loop->L;
  char plain[32];
  const char *name;
  as__task_push_pending_name(L, loop, t);
  name = lua_tostring(L, -1);
  snprintf(plain, sizeof plain, "task-%lu", (unsigned long)t->id);
  if (name == NULL || strcmp(name, plain) == 0) snprintf(out, size, "%s", plain);
  else snprintf(out, size, "%s (%s)", plain, name);
  lua_pop(L, 1);
}

/* ---- keys ---- */

/* One byte from stdin: 1, 0 at its end, -1 when a signal came (Ctrl-C). */
static int read_byte(char *c) {
  for (;;) {
    ssize_t n = read(STDIN_FILENO, c, 1);
    if (n >= 0) return (int)n;
    if (errno == EINTR) return -1;
    if (errno != EAGAIN) return 0;
  }
}

/* A key from the terminal, unechoed and unbuffered; the terminal's own
 * settings are back before it returns. */
static int read_key(void) {
  struct termios saved, raw;
  int result = KEY_CONTINUE;
  char c;
  fputs("[Enter: step, c: continue, q: quit] ", stdout);
  fflush(stdout);
  if (tcgetattr(STDIN_FILENO, &saved) != 0) return KEY_CONTINUE;
  raw = saved;
  raw.c_lflag &= ~(tcflag_t)(ICANON | ECHO);   /* ISIG stays: Ctrl-C still interrupts */
  raw.c_cc[VMIN] = 1;
  raw.c_cc[VTIME] = 0;
  tcsetattr(STDIN_FILENO, TCSANOW, &raw);
  for (;;) {
    int n = read_byte(&c);
    if (n <= 0) {
      result = n < 0 ? KEY_QUIT : KEY_CONTINUE;
      break;
    }
    if (c == '\n' || c == '\r' || c == ' ') { result = KEY_STEP; break; }
    if (c == 'c' || c == 'C') { result = KEY_CONTINUE; break; }
    if (c == 'q' || c == 'Q') { result = KEY_QUIT; break; }
  }
  tcsetattr(STDIN_FILENO, TCSANOW, &saved);
  fputs("\r\033[K", stdout);   /* the prompt goes; the step lines stay */
  fflush(stdout);
  return result;
}

/* A line from stdin that is not a terminal: "" steps, "c" continues, "q"
 * quits; anything else steps too. Read byte by byte, so nothing the script
 * reads later is buffered away. */
static int read_line(void) {
  char line[16];
  size_t n = 0;
  char c;
  int got;
  fflush(stdout);
  while ((got = read_byte(&c)) > 0 && c != '\n')
    if (n + 1 < sizeof line && c != '\r') line[n++] = c;
  if (got < 0) return KEY_QUIT;
  if (got == 0 && n == 0) return KEY_CONTINUE;   /* the end of stdin */
  line[n] = '\0';
  if (strcmp(line, "c") == 0) return KEY_CONTINUE;
  if (strcmp(line, "q") == 0) return KEY_QUIT;
  return KEY_STEP;
}

/* Waits for the next key and acts on it. Called only where cancelling the
 * main task is safe: no task is off the ready queue but the one stepped,
 * which is new or suspended (or finishing). */
static void wait_for_key(stepper *s, as_loop *loop) {
  int key = isatty(STDIN_FILENO) ? read_key() : read_line();
  if (key == KEY_STEP) return;
  s->mode = CONTINUING;
  if (key == KEY_QUIT && s->quit) s->quit(loop->L, loop);
}

/* ---- why a task was woken ---- */

static void explain(stepper *s, as_loop *loop, as_task *t, task_note *note) {
  uint32_t by;
  const char *reason = as__describe_wake_reason(loop, t, note->waited, &by);
  as_task *waker = loop->current ? loop->current : loop->finishing;
  char who[96] = "";
  (void)s;
  if (by && waker && waker->id == by) label(loop, waker, who, sizeof who);
  if (strcmp(reason, "spawn") == 0) {
    if (by) snprintf(note->why, sizeof note->why, "spawned by %s", who);
    else snprintf(note->why, sizeof note->why, "started by the run");
  } else if (strcmp(reason, "ready") == 0 && (t->flags & AS_TASK_CANCEL_REQUESTED)) {
    snprintf(note->why, sizeof note->why, "woken by a cancellation by %s", who);
  } else if (strcmp(reason, "ready") == 0 && loop->current == NULL) {
    snprintf(note->why, sizeof note->why, "woken by the end of %s", who);
  } else if (strcmp(reason, "ready") == 0) {
    snprintf(note->why, sizeof note->why, "woken by %s by %s",
             note->woken_by ? note->woken_by : "a wake", who);
  } else if (strcmp(reason, "timer") == 0 && note->timer_ns) {
    snprintf(note->why, sizeof note->why, "woken by a timer of %g s", (double)note->timer_ns / 1e9);
  } else if (strcmp(reason, "timer") == 0) {
    snprintf(note->why, sizeof note->why, "woken by a timeout");
  } else if (strcmp(reason, "io") == 0) {
    snprintf(note->why, sizeof note->why, "woken by an I/O completion (%s)", note->op);
  } else if (strcmp(reason, "thread") == 0) {
    snprintf(note->why, sizeof note->why, "woken by a thread's completion (%s)", note->op);
  } else if (strcmp(reason, "yield") == 0) {
    snprintf(note->why, sizeof note->why, "after its own yield");
  } else if (strcmp(reason, "callback") == 0) {
    snprintf(note->why, sizeof note->why, "woken by a done callback");
  } else if (strcmp(reason, "deadlock") == 0) {
    snprintf(note->why, sizeof note->why, "woken by a DeadlockError: nothing else could wake a task");
  } else if (strcmp(reason, "shutdown") == 0) {
    snprintf(note->why, sizeof note->why, "cancelled by the end of the run");
  } else {
    snprintf(note->why, sizeof note->why, "woken by the loop");
  }
}

/* as_observer.state: notes each wait, and why each task is made ready. */
static void on_state(as_observer *o, as_loop *loop, as_task *t, const char *state) {
  stepper *s = as_container_of(o, stepper, observer);
  task_note *note;
  if (s->mode != STEPPING || (note = note_of(s, t)) == NULL) return;
  if (strcmp(state, "ready") == 0) {
    explain(s, loop, t, note);
    note->waited = NULL;
    note->timer_ns = 0;
    return;
  }
  if (t->state == AS_TASK_SUSPENDED && t->wait != NULL) {
    uint64_t now = as__loop_now(loop);
    note->waited = state;
    note->woken_by = t->wait->type->woken_by;
    note->timer_ns = 0;
    note->op[0] = '\0';
    if ((t->flags & AS_TASK_IN_TIMERS) && t->link.timer.deadline > now)
      note->timer_ns = t->link.timer.deadline - now;
    if (strcmp(state, "io") == 0 || strcmp(state, "thread") == 0) {
      t->wait->type->describe(loop->L, loop, t);
      snprintf(note->op, sizeof note->op, "%s", lua_tostring(loop->L, -1));
      lua_pop(loop->L, 1);
    }
  } else if (t == s->stepping && t->state == AS_TASK_DONE) {
    /* cancelled before it ever started: it was never resumed */
    char who[96];
    label(loop, t, who, sizeof who);
    printf("[%llu] %s (%s) never started: %s\n", (unsigned long long)s->step, who, note->why, state);
    s->stepping = NULL;
    if (!s->repl) wait_for_key(s, loop);
  }
  if (t->state == AS_TASK_DONE && t != s->stepping) forget(s, t);
}

static void on_resume(as_observer *o, as_loop *loop, as_task *t) {
  stepper *s = as_container_of(o, stepper, observer);
  (void)loop;
  if (t == s->stepping) s->started = uv_hrtime();
}

/* Pushes where `t` is now, after its step: "now waits at x.lua:12: waiting
 * on queue get", "finished", "failed: <message>". */
static void push_outcome(lua_State *L, as_loop *loop, as_task *t, int status) {
  if (status == LUA_YIELD && t->state == AS_TASK_SUSPENDED) {
    as__task_push_where(L, t->co);
    if ((t->flags & AS_TASK_IN_READY) || t->wait == NULL) {
      lua_pushfstring(L, "ready again at %s", lua_tostring(L, -1));
    } else {
      t->wait->type->describe(L, loop, t);
      lua_pushfstring(L, "now waits at %s: %s", lua_tostring(L, -2), lua_tostring(L, -1));
      lua_remove(L, -2);
    }
    lua_remove(L, -2);
  } else if (status == LUA_OK) {
    lua_pushliteral(L, "finished");
  } else if (status != LUA_YIELD && as__error_is(t->co, -1, "CancelledError")) {
    lua_pushliteral(L, "finished cancelled");
  } else if (status != LUA_YIELD) {
    lua_pushfstring(L, "failed: %s", as__error_message(t->co, -1));
  } else {
    lua_pushliteral(L, "failed: coroutine.yield() reached the scheduler");
  }
}

/* as_observer.resumed: the step's line, then the next key. */
static void on_resumed(as_observer *o, as_loop *loop, as_task *t, int status) {
  stepper *s = as_container_of(o, stepper, observer);
  task_note *note;
  char who[96];
  if (t != s->stepping || s->mode != STEPPING) return;
  s->stepping = NULL;
  note = note_of(s, t);
  label(loop, t, who, sizeof who);
  push_outcome(loop->L, loop, t, status);
  printf("[%llu] %s resumed (%s), ran %.2f ms, %s\n", (unsigned long long)s->step, who,
         note ? note->why : "?", (double)(uv_hrtime() - s->started) / 1e6, lua_tostring(loop->L, -1));
  lua_pop(loop->L, 1);
  if (t->state == AS_TASK_DONE) forget(s, t);
  if (s->repl) fflush(stdout);
  else wait_for_key(s, loop);
}

/* ---- the schedule hook: the recorder's, if any, and the stepper's own ---- */

static as_task *next_ready(as_schedule_hook *h, as_loop *loop) {
  stepper *s = as_container_of(h, stepper, hook);
  return s->inner->next_ready(s->inner, loop);
}

static int may_fire(as_schedule_hook *h, as_loop *loop, const as_timer *timer, as_task *t) {
  stepper *s = as_container_of(h, stepper, hook);
  return s->inner->may_fire(s->inner, loop, timer, t);
}

static void finished(as_schedule_hook *h, as_loop *loop) {
  stepper *s = as_container_of(h, stepper, hook);
  s->inner->finished(s->inner, loop);
}

static void chosen(as_schedule_hook *h, as_loop *loop, as_task *t) {
  stepper *s = as_container_of(h, stepper, hook);
  if (s->inner && s->inner->chosen) s->inner->chosen(s->inner, loop, t);
  if (s->mode != STEPPING) return;
  if (!s->prompted) {
    /* The first step is the main task's start: new, so safe to cancel. */
    s->prompted = 1;
    printf("asched --step: Enter steps once, c continues, q quits\n");
    wait_for_key(s, loop);
    if (s->mode != STEPPING) return;
  }
  s->step++;
  s->stepping = t;
  s->started = uv_hrtime();
}

static void release(as_attachment *a, lua_State *L, as_loop *loop) {
  stepper *s = as_container_of(a, stepper, attachment);
  (void)L;
  if (loop->hook == &s->hook) loop->hook = NULL;
  fflush(stdout);
  free(s->slots);
  free(s);
}

void as__stepper_attach(lua_State *L, as_loop *loop, void (*quit)(lua_State *L, as_loop *loop)) {
  int made;
  stepper *s;
  as_attachment *a = as__loop_attachment_make(loop, &stepper_key, sizeof *s, NULL, release, &made);
  if (a == NULL) luaL_error(L, "not enough memory");
  if (!made) return;
  s = as_container_of(a, stepper, attachment);
  s->quit = quit;
  s->inner = loop->hook;
  s->observer.state = on_state;
  s->observer.resume = on_resume;
  s->observer.resumed = on_resumed;
  s->hook.chosen = chosen;
  if (s->inner && s->inner->next_ready) s->hook.next_ready = next_ready;
  if (s->inner && s->inner->may_fire) s->hook.may_fire = may_fire;
  if (s->inner && s->inner->finished) s->hook.finished = finished;
  as__loop_observe(loop, &s->observer);
  loop->hook = &s->hook;
}

/* ---- the REPL's stepper: :pause, :step, :ready, :timers, :held, :run ---- */

static stepper *repl_stepper(as_loop *loop) {
  as_attachment *a = as__loop_attachment(loop, &stepper_key);
  stepper *s = a ? as_container_of(a, stepper, attachment) : NULL;
  return s && s->repl ? s : NULL;
}

static as_task *ready_task(as_list *n) { return as_container_of(n, as_task, link.waiter.node); }

/* The REPL's own tasks (its prompt and inputs) run while paused; so does
 * everything once the REPL itself is done (the run's shutdown). */
static int is_held(stepper *s, as_loop *loop, as_task *t) {
  task_note *note;
  if (!s->paused || loop->main == NULL || loop->main->state == AS_TASK_DONE) return 0;
  if (t == loop->main) return 0;
  note = note_of(s, t);
  return note == NULL || !note->own;
}

/* as_schedule_hook.next_ready while paused: the REPL's own ready tasks, in
 * order; with steps to take, the first held-back one before them; NULL to
 * let a timer fire (a step waits for the next one) or the prompt read. */
static as_task *paused_next_ready(as_schedule_hook *h, as_loop *loop) {
  stepper *s = as_container_of(h, stepper, hook);
  as_task *own = NULL;
  as_list *n;
  for (n = loop->ready.head.next; n != &loop->ready.head; n = n->next) {
    as_task *t = ready_task(n);
    if (!is_held(s, loop, t)) {
      if (s->budget == 0) return t;
      if (own == NULL) own = t;
    } else if (s->budget > 0) {
      return t;
    }
  }
  /* Steps to take but no held-back task is ready: a timer brings one, or
   * nothing can (tasks waiting on I/O or on each other) and the step ends. */
  if (s->budget > 0 && as_timer_wheel_min(&loop->timers) == NULL && as_timer_wheel_min(&loop->alarms) == NULL)
    s->budget = 0;
  return s->budget > 0 ? NULL : own;
}

/* as_schedule_hook.may_fire: the REPL's own timers fire; others only for a
 * step. Under virtual time the clock does not move for a held-back one. */
static int repl_may_fire(as_schedule_hook *h, as_loop *loop, const as_timer *timer, as_task *t) {
  stepper *s = as_container_of(h, stepper, hook);
  (void)timer;
  if (!s->paused || s->budget > 0) return 1;
  return t != NULL && !is_held(s, loop, t);
}

/* as_schedule_hook.chosen: a held-back task stepped is one step, told. */
static void repl_chosen(as_schedule_hook *h, as_loop *loop, as_task *t) {
  stepper *s = as_container_of(h, stepper, hook);
  if (!is_held(s, loop, t)) return;
  if (s->budget > 0) s->budget--;
  s->step++;
  s->stepping = t;
  s->started = uv_hrtime();
}

int as__stepper_attach_repl(lua_State *L, as_loop *loop) {
  int made;
  stepper *s;
  as_attachment *a;
  if (loop->hook != NULL && as__loop_attachment(loop, &stepper_key) == NULL) return 0;
  a = as__loop_attachment_make(loop, &stepper_key, sizeof *s, NULL, release, &made);
  if (a == NULL) luaL_error(L, "not enough memory");
  s = as_container_of(a, stepper, attachment);
  if (!made) return s->repl;
  s->repl = 1;
  s->observer.state = on_state;
  s->observer.resume = on_resume;
  s->observer.resumed = on_resumed;
  s->hook.chosen = repl_chosen;
  s->hook.may_fire = repl_may_fire;
  as__loop_observe(loop, &s->observer);
  loop->hook = &s->hook;
  return 1;
}

void as__stepper_own(as_loop *loop, as_task *t) {
  stepper *s = repl_stepper(loop);
  task_note *note = s ? note_of(s, t) : NULL;
  if (note) note->own = 1;
}

int as__stepper_pause(as_loop *loop, int paused) {
  stepper *s = repl_stepper(loop);
  int was;
  if (s == NULL) return 0;
  was = s->paused;
  s->paused = paused;
  s->budget = 0;
  s->hook.next_ready = paused ? paused_next_ready : NULL;
  return was;
}

int as__stepper_is_paused(as_loop *loop) {
  stepper *s = repl_stepper(loop);
  return s != NULL && s->paused;
}

void as__stepper_step(as_loop *loop, long steps) {
  stepper *s = repl_stepper(loop);
  if (s == NULL || !s->paused) return;
  s->interrupted = steps == 0 && s->budget > 0;
  s->budget = steps;
}

int as__stepper_stepping(as_loop *loop) {
  stepper *s = repl_stepper(loop);
  return s != NULL && s->budget > 0;
}

int as__stepper_interrupted(as_loop *loop) {
  stepper *s = repl_stepper(loop);
  return s != NULL && s->interrupted;
}

uint64_t as__stepper_steps(as_loop *loop) {
  stepper *s = repl_stepper(loop);
  return s ? s->step : 0;
}

/* Adds "task-3 (worker)" to `b`. */
static void add_label(luaL_Buffer *b, as_loop *loop, as_task *t) {
  char who[96];
  label(loop, t, who, sizeof who);
  luaL_addstring(b, who);
}

void as__stepper_push_ready(lua_State *L, as_loop *loop) {
  stepper *s = repl_stepper(loop);
  luaL_Buffer b;
  as_list *n;
  int k = 0;
  luaL_buffinit(L, &b);
  for (n = loop->ready.head.next; s && n != &loop->ready.head; n = n->next) {
    as_task *t = ready_task(n);
    task_note *note = note_of(s, t);
    char line[32];
    if (note && note->own) continue;
    k++;
    snprintf(line, sizeof line, "%s%3d  ", k > 1 ? "\n" : "", k);
    luaL_addstring(&b, line);
    add_label(&b, loop, t);
    if (note && note->why[0]) {
      luaL_addstring(&b, ", ");
      luaL_addstring(&b, note->why);
    }
  }
  luaL_pushresult(&b);
}

static int by_deadline(const void *a, const void *b) {
  const as_timer *x = &(*(as_task *const *)a)->link.timer, *y = &(*(as_task *const *)b)->link.timer;
  return as_timer_earlier(x, y) ? -1 : as_timer_earlier(y, x) ? 1 : 0;
}

void as__stepper_push_timers(lua_State *L, as_loop *loop, int max) {
  stepper *s = repl_stepper(loop);
  int32_t i, n, k = 0;
  as_task **list = as__task_pending(L, loop, &n);
  luaL_Buffer b;
  uint64_t now = as__loop_now(loop);
  for (i = 0; i < n; i++) {
    task_note *note = s ? note_of(s, list[i]) : NULL;
    if ((list[i]->flags & AS_TASK_IN_TIMERS) && !(note && note->own)) list[k++] = list[i];
  }
  if (k > 1) qsort(list, (size_t)k, sizeof *list, by_deadline);
  luaL_buffinit(L, &b);
  for (i = 0; i < k && i < max; i++) {
    uint64_t at = list[i]->link.timer.deadline;
    char when[64];
    snprintf(when, sizeof when, "%s%8.3f s (in %.3f s)  ", i ? "\n" : "", at / 1e9,
             (at > now ? at - now : 0) / 1e9);
    luaL_addstring(&b, when);
    add_label(&b, loop, list[i]);
    luaL_addstring(&b, ": ");
    as__describe_wait(L, loop, list[i]);
    luaL_addvalue(&b);
  }
  if (k > max) {
    lua_pushfstring(L, "\n  and %d more", (int)(k - max));
    luaL_addvalue(&b);
  }
  if (loop->alarms.count > 0) {
    lua_pushfstring(L, "%s  and %d timeout(s) (asched.timeout)", k ? "\n" : "", (int)loop->alarms.count);
    luaL_addvalue(&b);
  }
  free(list);
  luaL_pushresult(&b);
}

#define HOLDERS_NAMED 16

/* Does `t` wait at `site` now (not already woken)? */
static int waits_at(const as_task *t, const as_wait_site *site) {
  return t->wait == site && t->state == AS_TASK_SUSPENDED && !(t->flags & AS_TASK_IN_READY);
}

/* Adds ": held by task-3 (w1), task-2 (finished) and 4 more" to `b`, naming
 * the holders `ids` from the pending tasks `list`. */
static void add_holders(luaL_Buffer *b, lua_State *L, as_loop *loop, as_task **list, int32_t n, const uint32_t *ids,
                        int got, lua_Integer more) {
  int k;
  luaL_addstring(b, ": held by ");
  if (got == 0 && more == 0) luaL_addstring(b, "no task");
  for (k = 0; k < got; k++) {
    int32_t m;
    if (k) luaL_addstring(b, ", ");
    for (m = 0; m < n && list[m]->id != ids[k]; m++) {}
    if (m < n) add_label(b, loop, list[m]);
    else lua_pushfstring(L, "task-%d (finished)", (int)ids[k]), luaL_addvalue(b);
  }
  if (more > 0) lua_pushfstring(L, " and %d more", (int)more), luaL_addvalue(b);
}

/* Adds "; waiting: task-5 (w2) at stdin:1, ..." for the tasks of `list`
 * (from index `from`) waiting at `site`; nothing when none does. */
static void add_waiters(luaL_Buffer *b, lua_State *L, as_loop *loop, as_task **list, int32_t from, int32_t n,
                        const as_wait_site *site) {
  int32_t j;
  int k = 0;
  for (j = from; j < n; j++) {
    if (!waits_at(list[j], site)) continue;
    luaL_addstring(b, k++ ? ", " : "; waiting: ");
    add_label(b, loop, list[j]);
    as__task_push_where(L, list[j]->co);
    lua_pushfstring(L, " at %s", lua_tostring(L, -1));
    lua_remove(L, -2);
    luaL_addvalue(b);
  }
}

/* Is what waits at `site` in the loop's `held` list? */
static int listed_held(as_loop *loop, const as_wait_site *site) {
  as_list *n;
  for (n = loop->held.next; n != &loop->held; n = n->next)
    if (as_container_of(n, as_held, node)->site == site) return 1;
  return 0;
}

/* One line per lock or semaphore that a task holds (in the order they were
 * first taken) or that a task waits on: its holders and its waiters. */
void as__stepper_push_held(lua_State *L, as_loop *loop) {
  int32_t i, j, n;
  as_task **list = as__task_pending(L, loop, &n);
  luaL_Buffer b;
  as_list *node;
  int any = 0;
  luaL_buffinit(L, &b);
  for (node = loop->held.next; node != &loop->held; node = node->next) {
    const as_held *h = as_container_of(node, as_held, node);
    luaL_addstring(&b, any++ ? "\n" : "");
    luaL_addstring(&b, h->site->type->timeline);
    add_holders(&b, L, loop, list, n, h->ids, h->named, h->unnamed);
    add_waiters(&b, L, loop, list, 0, n, h->site);
  }
  /* Waited on and held by no task (a semaphore made with 0 permits). */
  for (i = 0; i < n; i++) {
    as_task *t = list[i];
    uint32_t ids[HOLDERS_NAMED];
    lua_Integer more = 0;
    int got, first = 1;
    if (t->wait == NULL || !waits_at(t, t->wait) || !t->wait->type->held || t->wait->type->holders == NULL)
      continue;
    for (j = 0; j < i && first; j++)   /* one line per primitive: at its first waiter */
      if (waits_at(list[j], t->wait)) first = 0;
    if (!first || listed_held(loop, t->wait)) continue;
    got = t->wait->type->holders(t, ids, HOLDERS_NAMED, &more);
    if (got < 0) continue;
    luaL_addstring(&b, any++ ? "\n" : "");
    luaL_addstring(&b, t->wait->type->timeline);
    add_holders(&b, L, loop, list, n, ids, got, more);
    add_waiters(&b, L, loop, list, i, n, t->wait);
  }
  free(list);
  luaL_pushresult(&b);
}
