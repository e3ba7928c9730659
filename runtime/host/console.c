/* console.c -- the REPL's terminal: reads lines through the loop (a uv_poll
 * on stdin feeding libedit's callback interface), so tasks keep running while
 * the user types; prints their output above the line being edited; Ctrl-C
 * cancels the task of the current input -- from a hook when it never
 * suspends -- or clears the line. Only the asched
 * program uses it (runtime/repl.lua drives it: it hands over whole entries
 * for the history and answers Tab). Without libedit it reads plain lines,
 * with no editing, history or completion. */
#include "console.h"

#include <errno.h>
#include <fcntl.h>
#include <lauxlib.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#ifdef ASCHED_HAVE_LIBEDIT
#include <editline/readline.h>
#endif

#include "bindings.h"
#include "describe.h"
#include "errors.h"
#include "signals.h"
#include "stepper.h"
#include "timeline.h"
#include "waitq.h"

/* One per run of the REPL; a userdata kept by repl.lua. */
typedef struct console {
  uv_poll_t poll;          /* stdin, while a read waits */
  uv_signal_t sigint;
  as_waitq readers;        /* the task waiting in read() */
  as_loop *loop;
  int polling, reading, closed;
  int steppable;           /* the REPL's stepper is attached (stepper.h) */
  int input_ref;           /* registry reference: the task running the current input */
  int completer_ref;       /* registry reference: complete_with's function, or LUA_NOREF */
  as_task *volatile input; /* that task (anchored by input_ref), or NULL */
  volatile sig_atomic_t hooked; /* the handler stopped a running input (below) */
  volatile sig_atomic_t passed; /* the handler left Ctrl-C to asched.signal.wait */
  char prompt[64];         /* of the read in progress */
  char history[1024];      /* the history file, or "" */
#ifndef ASCHED_HAVE_LIBEDIT
  char line[4096];
  size_t length;
#endif
} console;

#define CONSOLE "asched.Console"

static console *the_console;  /* libedit's line handler takes no context */

static void stop_reading(console *c);

/* The reader was cancelled before a line came: stop reading the terminal. */
static void reader_left(lua_State *L, as_loop *loop, as_waitq *q, int owner) {
  (void)L;
  (void)loop;
  (void)owner;
  stop_reading(as_container_of(q, console, readers));
}

static const as_waitq_type console_type = {
  .wait = {.timeline = "console input", .describe = as__waitq_describe},
  .label = "console input", .left = reader_left};

/* ---- delivering a line (or EOF, nil) to the waiting reader ---- */

static void stop_polling(console *c) {
  if (c->polling) {
    uv_poll_stop(&c->poll);
    as__loop_hold_clock(c->loop, -1);
    c->polling = 0;
  }
}

static void stop_reading(console *c) {
  stop_polling(c);
#ifdef ASCHED_HAVE_LIBEDIT
  if (c->reading) rl_callback_handler_remove();
#endif
  c->reading = 0;
}

static void deliver(console *c, const char *line) {
  lua_State *L = c->loop->L;
  stop_polling(c);
  c->reading = 0;
  if (line) lua_pushstring(L, line);
  else lua_pushnil(L);
  as__waitq_grant(L, c->loop, &c->readers);
}

#ifdef ASCHED_HAVE_LIBEDIT
/* The history takes whole entries, from remember(): not each line read. */
static void on_line(char *line) {
  rl_callback_handler_remove();
  deliver(the_console, line);
  free(line);
}

/* ---- Tab completion ---- */

/* libedit calls these from rl_callback_read_char, that is from on_stdin on
 * the loop's main state, between two steps of the scheduler: the completer
 * runs there (protected, unable to suspend) and must not take long. */
static int completion_table;   /* stack index of the completer's answer */
static int completion_next;

/* libedit's generator: the answer's strings one by one (copies it frees). */
static char *next_completion(const char *text, int state) {
  lua_State *L = the_console->loop->L;
  const char *word;
  char *copy = NULL;
  (void)text;
  if (state == 0) completion_next = 0;
  lua_rawgeti(L, completion_table, ++completion_next);
  word = lua_tostring(L, -1);
  if (word) copy = strdup(word);
  lua_pop(L, 1);
  return copy;
}

static char *no_completion(const char *text, int state) {
  (void)text;
  (void)state;
  return NULL;
}

/* The word before the cursor ("asched.sle", "q:pu") goes to the completer,
 * which returns the whole words it could become; never file names. */
static char **complete(const char *text, int start, int end) {
  console *c = the_console;
  lua_State *L;
  char **matches = NULL;
  (void)start;
  (void)end;
  rl_attempted_completion_over = 1;
  if (c == NULL || c->completer_ref == LUA_NOREF) return NULL;
  L = c->loop->L;
  if (!lua_checkstack(L, 4)) return NULL;
  lua_rawgeti(L, LUA_REGISTRYINDEX, c->completer_ref);
  lua_pushstring(L, text);
  if (lua_pcall(L, 1, 1, 0) == LUA_OK && lua_istable(L, -1)) {
    completion_table = lua_gettop(L);
    matches = rl_completion_matches(text, next_completion);
  }
  lua_pop(L, 1);
  return matches;
}

static void setup_completion(void) {
  /* Lua's operators and brackets end a word; "." and ":" do not, so
   * "asched.sle" and "q:pu" are completed whole. */
  rl_basic_word_break_characters = " \t\n\"\\'`@$><=;|&{}()[],+-*/%^#~";
  rl_completer_word_break_characters = (char *)rl_basic_word_break_characters;
  rl_completion_append_character = '\0';
  /* Past this many matches libedit asks "Display all?" with a blocking
   * getc(stdin), which would stop the loop: never ask, just list. */
  rl_completion_query_items = INT_MAX;
  rl_attempted_completion_function = complete;
  rl_completion_entry_function = no_completion;
}
#endif

static void on_stdin(uv_poll_t *handle, int status, int events) {
  console *c = handle->data;
  (void)events;
  if (status < 0) {
    deliver(c, NULL);
    return;
  }
#ifdef ASCHED_HAVE_LIBEDIT
  rl_callback_read_char();
#else
  {
    char ch;
    ssize_t n = read(0, &ch, 1);
    if (n <= 0) {
      deliver(c, NULL);
    } else if (ch == '\n') {
      c->line[c->length] = '\0';
      c->length = 0;
      deliver(c, c->line);
    } else if (c->length + 1 < sizeof c->line) {
      c->line[c->length++] = ch;
    }
  }
#endif
}

/* ---- Ctrl-C ---- */

/* Input that never suspends (`while true do end`) keeps the loop from ever
 * seeing the signal, so the handler itself does what lua.c does: it sets a
 * hook on the running input's coroutine (async-signal-safe), and the hook
 * raises CancelledError in the running code. Then it passes the signal on to
 * libuv's handler, which reaches on_sigint through the loop. While a task
 * waits for "SIGINT" (asched.signal.wait), Ctrl-C is that task's alone: libuv
 * wakes it, and the console leaves the signal be. */
static struct sigaction libuv_action;

static void stop_input_hook(lua_State *L, lua_Debug *ar) {
  (void)ar;
  lua_sethook(L, NULL, 0, 0);
  as__error_raise(L, "CancelledError", "interrupted (Ctrl-C)");
}

static void on_raw_sigint(int signum) {
  console *c = the_console;
  if (c != NULL && as__signal_waiters(SIGINT) > 0) {
    c->passed = 1;
  } else if (c != NULL && c->input != NULL && c->loop->current == c->input) {
    c->hooked = 1;
    lua_sethook(c->input->co, stop_input_hook, LUA_MASKCALL | LUA_MASKRET | LUA_MASKCOUNT, 1);
  }
  if (libuv_action.sa_flags & SA_SIGINFO) libuv_action.sa_sigaction(signum, NULL, NULL);
  else if (libuv_action.sa_handler != SIG_IGN && libuv_action.sa_handler != SIG_DFL)
    libuv_action.sa_handler(signum);
}

/* Puts on_raw_sigint in front of libuv's handler (after uv_signal_start). */
static void take_sigint(void) {
  struct sigaction sa;
  sa.sa_handler = on_raw_sigint;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = SA_RESTART;
  sigaction(SIGINT, &sa, &libuv_action);
}

static void give_back_sigint(void) { sigaction(SIGINT, &libuv_action, NULL); }

static void on_sigint(uv_signal_t *handle, int signum) {
  console *c = handle->data;
  lua_State *L = c->loop->L;
  as_task *input = c->input;
  (void)signum;
  if (c->hooked) {
    c->hooked = 0;                       /* the hook stopped the input already */
    return;
  }
  if (c->passed) {
    c->passed = 0;                       /* a task waiting for SIGINT got it */
    return;
  }
  if (input && input->state != AS_TASK_DONE) {
    as__error_push(L, "CancelledError", "interrupted (Ctrl-C)");
    as__task_cancel(L, c->loop, input);
    return;
  }
  if (!c->reading && as__stepper_stepping(c->loop)) {
    as__stepper_step(c->loop, 0);        /* a :step waiting for a far timer */
    return;
  }
  /* At the prompt: drop what was typed and start a fresh line. */
  fputs("^C\n", stdout);
#ifdef ASCHED_HAVE_LIBEDIT
  if (c->reading) {
    /* Reinstalling the handler starts a fresh, empty line (libedit's
     * rl_replace_line("") and rl_delete_text leave the old text). */
    rl_callback_handler_remove();
    rl_callback_handler_install(c->prompt, on_line);
  }
#else
  c->length = 0;
#endif
  fflush(stdout);
}

/* ---- the Lua face ---- */

static console *check_console(lua_State *L) { return as__check_self(L, 1); }

static int read_resumed(lua_State *L, int status, lua_KContext ctx) {
  as_loop *loop = as__loop(L);
  (void)status;
  (void)ctx;
  as__waitq_resume(L, loop, &((console *)lua_touserdata(L, 1))->readers, loop->current, 1);
  return 1;                              /* the line, or nil at the end */
}

/* read(prompt) -> the line typed, or nil at end of input (Ctrl-D). Suspends:
 * every other task runs while the user types. */
static int console_read(lua_State *L) {
  console *c = check_console(L);
  const char *prompt = as__check_string(L, 2, NULL);
  as_task *t = as__current_task(L);
  if (c->reading) return luaL_error(L, "console: a read is already waiting");
  lua_settop(L, 1);
  c->reading = 1;
  snprintf(c->prompt, sizeof c->prompt, "%s", prompt);
#ifdef ASCHED_HAVE_LIBEDIT
  rl_callback_handler_install(c->prompt, on_line);
#else
  fputs(prompt, stdout);
  fflush(stdout);
#endif
  uv_poll_start(&c->poll, UV_READABLE, on_stdin);
  as__loop_hold_clock(c->loop, 1);        /* the person typing moves it, with :advance */
  c->polling = 1;
  return as__waitq_wait(L, as__loop(L), &c->readers, t, read_resumed, 0);
}

/* write(text): prints text (a line) above the line being edited. */
static int console_write(lua_State *L) {
  console *c = check_console(L);
  size_t len;
  const char *text = as__check_string(L, 2, &len);
  if (c->reading) fputs("\r\033[K", stdout);   /* clear the line being edited */
  fwrite(text, 1, len, stdout);
  if (len == 0 || text[len - 1] != '\n') fputc('\n', stdout);
#ifdef ASCHED_HAVE_LIBEDIT
  if (c->reading) rl_forced_update_display();
#endif
  fflush(stdout);
  return 0;
}

/* remember(text): adds an entry to the history and saves the history file.
 * An entry of several lines is one item, its newlines kept: Up brings it
 * back whole, to edit and run again. */
static int console_remember(lua_State *L) {
  console *c = check_console(L);
  const char *text = as__check_string(L, 2, NULL);
#ifdef ASCHED_HAVE_LIBEDIT
  if (*text) {
    add_history(text);
    if (c->history[0]) write_history(c->history);
  }
#else
  (void)c;
  (void)text;
#endif
  return 0;
}

/* complete_with(function | nil) -> whether Tab completes (libedit): sets
 * the completer Tab calls with the word before the cursor; it returns a
 * list of the words that could replace it. */
static int console_complete_with(lua_State *L) {
  console *c = check_console(L);
  if (!lua_isnoneornil(L, 2)) luaL_checktype(L, 2, LUA_TFUNCTION);
  luaL_unref(L, LUA_REGISTRYINDEX, c->completer_ref);
  c->completer_ref = LUA_NOREF;
  if (!lua_isnoneornil(L, 2)) {
    lua_pushvalue(L, 2);
    c->completer_ref = luaL_ref(L, LUA_REGISTRYINDEX);
  }
#ifdef ASCHED_HAVE_LIBEDIT
  lua_pushboolean(L, 1);
#else
  lua_pushboolean(L, 0);
#endif
  return 1;
}

/* set_input(task | nil): the task Ctrl-C cancels. */
static int console_set_input(lua_State *L) {
  console *c = check_console(L);
  as_task *input = lua_isnoneornil(L, 2) ? NULL : as__check_task(L, 2);
  luaL_unref(L, LUA_REGISTRYINDEX, c->input_ref);
  c->input_ref = LUA_NOREF;
  c->input = NULL;
  if (input != NULL) {
    lua_pushvalue(L, 2);
    c->input_ref = luaL_ref(L, LUA_REGISTRYINDEX);
    c->input = input;
    as__stepper_own(c->loop, input);   /* an input runs while the loop is paused */
  }
  return 0;
}

/* ---- introspection for the REPL's commands ---- */

static as_task *check_pending(lua_State *L, int arg) {
  as_task *t = as__check_task(L, arg);
  if (t->state == AS_TASK_DONE) as__arg_error(L, arg, "the task is done");
  return t;
}

static int console_task_id(lua_State *L) {
  lua_pushinteger(L, as__check_task(L, 2)->id);
  return 1;
}

/* describe(task) -> "sleeping until 3.000 s at x.lua:4", as in deadlock reports. */
static int console_describe(lua_State *L) {
  as__describe_wait(L, as__loop(L), check_pending(L, 2));
  return 1;
}

/* traceback(task) -> where the (suspended) task is, as a stack traceback. */
static int console_traceback(lua_State *L) {
  as_task *t = check_pending(L, 2);
  if (t->state == AS_TASK_NEW) {
    lua_pushliteral(L, "not started yet");
    return 1;
  }
  luaL_traceback(L, t->co, NULL, 0);
  return 1;
}

static int console_is_virtual(lua_State *L) {
  lua_pushboolean(L, as__loop(L)->clock.is_virtual);
  return 1;
}

/* advance(seconds): under virtual time, moves the clock forward by hand. */
static int console_advance(lua_State *L) {
  as_loop *loop = as__loop(L);
  double seconds = as__check_seconds(L, 2, 0, NULL);
  uint64_t duration = as_clock_duration(seconds > 0 ? seconds : 0);
  if (!loop->clock.is_virtual) as__arg_error(L, 1, "the clock is not virtual");
  if (duration != AS_NEVER) as_clock_advance(&loop->clock, as__loop_now(loop) + duration);
  return 0;
}

/* timeline(seconds) -> the lanes of the last `seconds` as text, or nil. */
static int console_timeline(lua_State *L) {
  double seconds = as__check_seconds(L, 2, 0, NULL);
  if (!(seconds > 0)) as__arg_error(L, 2, "positive number expected");
  as__timeline_push_recent(L, as__loop(L), seconds);
  return 1;
}

/* ---- the stepper: :pause, :step, :ready, :timers, :held, :run ---- */

/* pause(on) -> whether it was paused; raises when the loop cannot be
 * stepped (another schedule hook is attached). */
static int console_pause(lua_State *L) {
  console *c = check_console(L);
  if (!c->steppable) return luaL_error(L, "the loop cannot be paused here");
  lua_pushboolean(L, as__stepper_pause(c->loop, lua_toboolean(L, 2)));
  return 1;
}

static int console_paused(lua_State *L) {
  lua_pushboolean(L, as__stepper_is_paused(check_console(L)->loop));
  return 1;
}

/* step(n): lets n held-back steps through; the caller yields until
 * stepping() is false. */
static int console_step(lua_State *L) {
  console *c = check_console(L);
  lua_Integer n = luaL_checkinteger(L, 2);
  luaL_argcheck(L, n > 0, 2, "positive integer expected");
  as__stepper_step(c->loop, (long)n);
  return 0;
}

/* stepping() -> whether steps are still to come, how many were taken in
 * all, and whether Ctrl-C stopped the last :step. */
static int console_stepping(lua_State *L) {
  console *c = check_console(L);
  lua_pushboolean(L, as__stepper_stepping(c->loop));
  lua_pushinteger(L, (lua_Integer)as__stepper_steps(c->loop));
  lua_pushboolean(L, as__stepper_interrupted(c->loop));
  return 3;
}

static int console_ready(lua_State *L) {
  as__stepper_push_ready(L, check_console(L)->loop);
  return 1;
}

static int console_timers(lua_State *L) {
  console *c = check_console(L);
  lua_Integer max = luaL_optinteger(L, 2, 10);
  as__stepper_push_timers(L, c->loop, max > 0 && max < 100000 ? (int)max : 10);
  return 1;
}

static int console_held(lua_State *L) {
  as__stepper_push_held(L, check_console(L)->loop);
  return 1;
}

static void on_closed(uv_handle_t *h) { (void)h; }

/* close(): stops reading and keeps the history. Also the __gc and __close. */
static int console_close(lua_State *L) {
  console *c = check_console(L);
  if (c->closed) return 0;
  c->closed = 1;
  if (c->steppable) as__stepper_pause(c->loop, 0);   /* the run's end must run every task */
#ifdef ASCHED_HAVE_LIBEDIT
  if (c->reading) rl_callback_handler_remove();
  if (c->history[0] && write_history(c->history) == 0) chmod(c->history, 0600);
#endif
  stop_polling(c);
  uv_close((uv_handle_t *)&c->poll, on_closed);
  give_back_sigint();
  uv_close((uv_handle_t *)&c->sigint, on_closed);
  luaL_unref(L, LUA_REGISTRYINDEX, c->input_ref);
  c->input_ref = LUA_NOREF;
  c->input = NULL;
  luaL_unref(L, LUA_REGISTRYINDEX, c->completer_ref);
  c->completer_ref = LUA_NOREF;
  if (the_console == c) the_console = NULL;
  return 0;
}

/* open() -> a console on stdin, for the running loop. */
static int console_open(lua_State *L) {
  as_loop *loop = as__loop(L);
  console *c;
  const char *home = getenv("HOME");
  if (loop == NULL) return luaL_error(L, "console: no running loop");
  c = lua_newuserdatauv(L, sizeof *c, 0);
  memset(c, 0, sizeof *c);
  c->loop = loop;
  c->input_ref = LUA_NOREF;
  c->completer_ref = LUA_NOREF;
  as__waitq_init(&c->readers, &console_type);
  if (uv_poll_init(&loop->uv, &c->poll, 0) != 0) return luaL_error(L, "console: cannot watch stdin");
  c->poll.data = c;
  uv_signal_init(&loop->uv, &c->sigint);
  c->sigint.data = c;
  uv_signal_start(&c->sigint, on_sigint, SIGINT);
  uv_unref((uv_handle_t *)&c->sigint);
  luaL_setmetatable(L, CONSOLE);
  c->steppable = as__stepper_attach_repl(L, loop);
  as__stepper_own(loop, as__current_task(L));   /* the prompt */
  the_console = c;
  take_sigint();
#ifdef ASCHED_HAVE_LIBEDIT
  rl_catch_signals = 0;
  setup_completion();
  if (home && snprintf(c->history, sizeof c->history, "%s/.asched_history", home) < (int)sizeof c->history) {
    int fd;
    read_history(c->history);
    /* Create it private: a history can hold secrets typed at the prompt. */
    fd = open(c->history, O_WRONLY | O_CREAT | O_APPEND, 0600);
    if (fd >= 0) close(fd);
  } else {
    c->history[0] = '\0';
  }
#else
  (void)home;
#endif
  return 1;
}

void as__open_console(lua_State *L) {
  static const luaL_Reg methods[] = {
    {"read", console_read},
    {"write", console_write},
    {"set_input", console_set_input},
    {"remember", console_remember},
    {"complete_with", console_complete_with},
    {"close", console_close},
    {"task_id", console_task_id},
    {"describe", console_describe},
    {"traceback", console_traceback},
    {"is_virtual", console_is_virtual},
    {"advance", console_advance},
    {"timeline", console_timeline},
    {"pause", console_pause},
    {"paused", console_paused},
    {"step", console_step},
    {"stepping", console_stepping},
    {"ready", console_ready},
    {"timers", console_timers},
    {"held", console_held},
    {NULL, NULL}
  };
  static const luaL_Reg meta[] = {{"__gc", console_close}, {"__close", console_close}, {NULL, NULL}};
  as__register_type(L, CONSOLE, methods, meta);
  as__push_function(L, "open", console_open);
}
