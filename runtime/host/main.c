/* main.c -- the asched program: a stand-in for lua5.4 (same options, same
 * `arg`) whose chunks each run as the main task of a loop. Modelled on lua.c. */
#include <errno.h>
#include <signal.h>
#include <lauxlib.h>
#include <lualib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "alloc.h"
#ifdef ASCHED_SANITIZE
#include "alloc_failure.h"
#endif
#include "errors.h"
#include "host.h"
#include "interrupt.h"

LUAMOD_API int luaopen_asched(lua_State *L);

extern const char as__exercises_lua[];
extern const size_t as__exercises_lua_size;

const char *as_progname = "asched";
as_run_options as_host_options = {.host_setup = as__interrupt_setup};

/* --record FILE, --replay FILE, --step: for the script's run only (not -e's). */
static const char *record_file, *replay_file;
static int step_run;


/* Option bits found by collect_args. */
enum { HAS_ERROR = 1, HAS_I = 2, HAS_V = 4, HAS_E = 8, HAS_UPPER_E = 16, HAS_HELP = 32 };

/* Writes the usage (options, commands, environment) to `out`: stdout for
 * --help, stderr after a bad option. */
static void write_usage(FILE *out) {
  fprintf(out,
          "usage: %s [options] [script [args]]\n"
          "       %s exercises [--init DIR] | watch | next | check [NAME...]\n"
          "       %s hint NAME | reset NAME | solution NAME [--force]\n"
          "Options:\n"
          "  -e stat          execute string 'stat'\n"
          "  -i               enter interactive mode after executing 'script'\n"
          "  -l name          require library 'name' into global 'name'\n"
          "  -v               show version information\n"
          "  -E               ignore environment variables\n"
          "  -W               turn warnings on\n"
          "  --virtual-time   the clock jumps to the next timer when every task waits\n"
          "  --debug          warn about a task that runs over 100 ms without suspending\n"
          "                   (naming it and its Lua line); also asched.debug(true)\n"
          "  --timeline       at exit, draw one lane per task on stderr\n"
          "  --timeline=F.svg ... or as an SVG picture in F.svg\n"
          "  --trace FILE     write the run as Chrome Trace Event JSON (Perfetto)\n"
          "  --seed N         tasks ready at the same instant run in an order drawn\n"
          "                   from seed N instead of FIFO\n"
          "  --record FILE    write the script's scheduling decisions to FILE (JSON lines)\n"
          "  --replay FILE    run the script forcing the decisions recorded in FILE\n"
          "  --step           run the script one scheduler step at a time: each step says\n"
          "                   which task resumed, why, and where it waits; Enter steps,\n"
          "                   c continues, q quits\n"
          "  -h, --help       show this help and exit\n"
          "  --               stop handling options\n"
          "  -                stop handling options and execute stdin\n"
          "Commands:\n"
          "  exercises        list the tutorial exercises, your progress and the next one\n"
          "  exercises --init DIR  copy the exercises into DIR to work there\n"
          "  watch            re-check the current exercise on every save (keys: h hint,\n"
          "                   l list, n next, r reset, q quit)\n"
          "  next             check and show the first exercise not yet solved\n"
          "  check [NAME...]  run the exercises' checks (all, or the ones named)\n"
          "  hint NAME        show the next hint for exercise NAME\n"
          "  reset NAME       restore exercise NAME's stub (your file is kept aside)\n"
          "  solution NAME    show the reference solution, once your own passed\n"
          "Environment: ASCHED_VIRTUAL_TIME=1 (as --virtual-time), ASCHED_AUTOJUMP=S (real\n"
          "seconds pending I/O may hold the virtual clock, 0.05), ASCHED_SEED=N (as\n"
          "--seed N), LUA_INIT (code or @file run first), LUA_PATH (and LUA_CPATH).\n",
          as_progname, as_progname, as_progname);
  fflush(out);
}

static void print_usage(const char *badoption) {
  if (strcmp(badoption, "--seed") == 0)
    fprintf(stderr, "%s: '--seed' needs an integer argument\n", as_progname);
  else if (strcmp(badoption, "--trace") == 0 || strcmp(badoption, "--record") == 0 ||
           strcmp(badoption, "--replay") == 0)
    fprintf(stderr, "%s: '%s' needs a file name\n", as_progname, badoption);
  else if (badoption[1] == 'e' || badoption[1] == 'l')
    fprintf(stderr, "%s: '%s' needs argument\n", as_progname, badoption);
  else
    fprintf(stderr, "%s: unrecognized option '%s'\n", as_progname, badoption);
  write_usage(stderr);
}

void as_host_message(const char *msg) {
  fprintf(stderr, "%s: %s\n", as_progname, msg);
  fflush(stderr);
}

int as_host_run(lua_State *L, int nargs, int keep_results) {
  int nresults = 0, top;
  int status = as_run(L, nargs, &as_host_options, &nresults);
  as__interrupt_stop();
  if (status == LUA_OK) {
    if (!keep_results) lua_pop(L, nresults);
    return LUA_OK;
  }
  /* [error traceback]: the traceback starts with the message. A main task
   * cancelled by a signal is not an error to print: main() names the signal. */
  top = lua_gettop(L);
  if (!(as_interrupt_signal() != 0 && as__error_is(L, -2, "CancelledError")))
    as_host_message(lua_type(L, -1) == LUA_TSTRING ? lua_tostring(L, -1)
                                                   : as__error_message(L, -2));
  lua_settop(L, top - 2);
  return status;
}

/* Runs a loaded chunk (below its `nargs` arguments), or reports a load error. */
static int run_loaded(lua_State *L, int status, int nargs) {
  if (status != LUA_OK) {
    as_host_message(lua_tostring(L, -1));
    lua_pop(L, 1 + nargs);
    return status;
  }
  return as_host_run(L, nargs, 0);
}

static int run_string(lua_State *L, const char *s, const char *name) {
  return run_loaded(L, luaL_loadbuffer(L, s, strlen(s), name), 0);
}

/* -l mod or -l g=mod: require it into global g (mod by default). */
static int run_require(lua_State *L, const char *spec) {
  const char *eq = strchr(spec, '=');
  const char *mod = eq ? eq + 1 : spec;
  int status;
  lua_getglobal(L, "require");
  lua_pushstring(L, mod);
  status = lua_pcall(L, 1, 1, 0);
  if (status != LUA_OK) {
    as_host_message(as__error_message(L, -1));
    lua_pop(L, 2);
    return status;
  }
  if (eq) lua_pushlstring(L, spec, (size_t)(eq - spec));
  else lua_pushstring(L, spec);
  lua_insert(L, -2);
  lua_setglobal(L, lua_tostring(L, -2));
  lua_pop(L, 1);
  return LUA_OK;
}

/* Parses a --seed value: a decimal integer, possibly negative. */
static int parse_seed(const char *text, uint64_t *seed) {
  char *end;
  long long value;
  if (text == NULL || *text == '\0') return 0;
  errno = 0;
  value = strtoll(text, &end, 10);
  if (*end != '\0' || errno != 0) return 0;
  *seed = (uint64_t)value;
  return 1;
}

/* Returns the index of the script in argv (0 if none), or -1 on a bad option. */
static int collect_args(char **argv, int *flags) {
  int i;
  for (i = 1; argv[i] != NULL; i++) {
    const char *a = argv[i];
    if (a[0] != '-') return i;
    if (strcmp(a, "--virtual-time") == 0) { as_host_options.virtual_time = 1; continue; }
    if (strcmp(a, "--debug") == 0) { as_host_options.debug = 1; continue; }
    if (strcmp(a, "--step") == 0) { step_run = 1; continue; }
    if (strcmp(a, "--help") == 0) { *flags |= HAS_HELP; continue; }
    if (strcmp(a, "--timeline") == 0) { as_host_options.timeline = ""; continue; }
    if (strncmp(a, "--timeline=", 11) == 0 && a[11] != '\0') { as_host_options.timeline = a + 11; continue; }
    if (strncmp(a, "--trace=", 8) == 0 && a[8] != '\0') { as_host_options.trace = a + 8; continue; }
    if (strcmp(a, "--trace") == 0) {
      if (argv[i + 1] == NULL) { *flags = HAS_ERROR; return i; }
      as_host_options.trace = argv[++i];
      continue;
    }
    if (strcmp(a, "--record") == 0 || strcmp(a, "--replay") == 0) {
      if (argv[i + 1] == NULL) { *flags = HAS_ERROR; return i; }
      *(a[4] == 'c' ? &record_file : &replay_file) = argv[++i];
      continue;
    }
    if (strcmp(a, "--seed") == 0) {
      if (!parse_seed(argv[i + 1], &as_host_options.seed)) { *flags = HAS_ERROR; return i; }
      as_host_options.seeded = 1;
      i++;
      continue;
    }
    if (strcmp(a, "--") == 0) return argv[i + 1] ? i + 1 : 0;
    if (strcmp(a, "-") == 0) return i;
    if (a[1] != '\0' && a[2] != '\0' && a[1] != 'e' && a[1] != 'l') { *flags = HAS_ERROR; return i; }
    switch (a[1]) {
      case 'E': *flags |= HAS_UPPER_E; break;
      case 'W': break;
      case 'i': *flags |= HAS_I; break;
      case 'v': *flags |= HAS_V; break;
      case 'h': *flags |= HAS_HELP; break;
      case 'e': *flags |= HAS_E; /* fall through */
      case 'l':
        if (a[2] == '\0') {
          i++;
          if (argv[i] == NULL || argv[i][0] == '-') { *flags = HAS_ERROR; return i - 1; }
        }
        break;
      default: *flags = HAS_ERROR; return i;
    }
  }
  return 0;
}

/* arg[0] is the script, negative indices the program and its options. */
static void create_arg_table(lua_State *L, char **argv, int argc, int script) {
  int i, narg = script ? argc - (script + 1) : argc - 1;
  if (script == 0) script = argc;
  lua_createtable(L, narg, script + 1);
  for (i = 0; i < argc; i++) {
    lua_pushstring(L, argv[i]);
    lua_rawseti(L, -2, i - script);
  }
  lua_setglobal(L, "arg");
}

/* Runs -e, -l and -W in order. */
static int run_args(lua_State *L, char **argv, int n) {
  int i;
  for (i = 1; i < n; i++) {
    const char *a = argv[i];
    if (strcmp(a, "--trace") == 0 || strcmp(a, "--seed") == 0 || strcmp(a, "--record") == 0 ||
        strcmp(a, "--replay") == 0) { i++; continue; }
    if (strncmp(a, "--", 2) == 0) continue;   /* asched's own long options */
    switch (a[1]) {
      case 'e':
      case 'l': {
        const char *extra = a[2] ? a + 2 : argv[++i];
        int status = a[1] == 'e' ? run_string(L, extra, "=(command line)") : run_require(L, extra);
        if (status != LUA_OK) return 0;
        break;
      }
      case 'W':
        lua_warning(L, "@on", 0);
        break;
    }
  }
  return 1;
}

static int run_init(lua_State *L) {
  const char *name = "=LUA_INIT_5_4";
  const char *init = getenv(name + 1);
  if (init == NULL) {
    name = "=LUA_INIT";
    init = getenv(name + 1);
  }
  if (init == NULL) return LUA_OK;
  if (init[0] == '@') return run_loaded(L, luaL_loadfile(L, init + 1), 0);
  return run_string(L, init, name);
}

/* Loads the script and pushes it with its arguments (*nargs of them), or
 * reports a load error. */
static int load_script(lua_State *L, char **argv, int *nargs) {
  const char *fname = argv[0];
  int status, n;
  if (strcmp(fname, "-") == 0 && strcmp(argv[-1], "--") != 0) fname = NULL;
  status = luaL_loadfile(L, fname);
  if (status != LUA_OK) return run_loaded(L, status, 0);
  lua_getglobal(L, "arg");
  n = (int)luaL_len(L, -1);
  luaL_checkstack(L, n + 3, "too many arguments to script");
  for (int i = 1; i <= n; i++) lua_rawgeti(L, -i, i);
  lua_remove(L, -n - 1);
  *nargs = n;
  return LUA_OK;
}

static int run_script(lua_State *L, char **argv) {
  int n, status = load_script(L, argv, &n);
  if (status != LUA_OK) return status;
#ifdef ASCHED_SANITIZE
  as__alloc_failure_arm();
#endif
  return run_loaded(L, LUA_OK, n);
}

static void print_version(void) {
  printf("asched %s (%s)  scheduler for Lua coroutines on libuv %s\n", ASCHED_VERSION,
         LUA_RELEASE, uv_version_string());
  fflush(stdout);
}

/* An instruction budget for a learner's code under `asched check`: a count
 * hook in C, because coroutines inherit the C hook of the thread that made
 * them (a Lua hook set with debug.sethook is per thread). Once spent, every
 * further hook call raises, so code that catches the error still stops. */
#define BUDGET_STEP 1000
static long budget_steps = -1;

static void budget_hook(lua_State *L, lua_Debug *ar) {
  (void)ar;
  if (budget_steps < 0) return;
  if (budget_steps > 0) budget_steps--;
  if (budget_steps == 0) {
    /* From now on every instruction of this thread fails, so the error
     * escapes at the first instruction outside a pcall. */
    lua_sethook(L, budget_hook, LUA_MASKCOUNT, 1);
    luaL_error(L, "stopped: the code ran for too long without finishing (a loop that never suspends?)");
  }
}

/* set_budget(instructions | nil) */
static int set_budget(lua_State *L) {
  if (lua_isnoneornil(L, 1)) {
    budget_steps = -1;
    lua_sethook(L, NULL, 0, 0);
  } else {
    budget_steps = (long)(luaL_checkinteger(L, 1) / BUDGET_STEP) + 1;
    lua_sethook(L, budget_hook, LUA_MASKCOUNT, BUDGET_STEP);
  }
  return 0;
}

/* `asched exercises`, `watch`, `next`, `check`, `hint`, `reset`, `solution`:
 * the tutorial's exercises (runtime/host/exercises.lua, given set_budget and
 * runner.c's helpers). Returns the exit status. */
static int run_subcommand(lua_State *L, char **argv) {
  int i;
  luaL_openlibs(L);
  luaL_requiref(L, "asched", luaopen_asched, 1);
  lua_pop(L, 1);
  if (luaL_loadbuffer(L, as__exercises_lua, as__exercises_lua_size, "=[asched exercises.lua]") != LUA_OK)
    return lua_error(L);
  lua_pushstring(L, argv[1]);
  lua_newtable(L);
  for (i = 2; argv[i] != NULL; i++) {
    lua_pushstring(L, argv[i]);
    lua_rawseti(L, -2, i - 1);
  }
  lua_pushcfunction(L, set_budget);
  as__runner_host(L);
  lua_call(L, 4, 1);
  return (int)luaL_optinteger(L, -1, 0);
}

static int is_subcommand(const char *arg) {
  static const char *const names[] = {"exercises", "watch", "next", "check", "hint",
                                       "reset", "solution", NULL};
  int i;
  for (i = 0; arg && names[i]; i++)
    if (strcmp(arg, names[i]) == 0) return 1;
  return 0;
}

/* The protected main, as lua.c's pmain. */
static int pmain(lua_State *L) {
  int argc = (int)lua_tointeger(L, 1);
  char **argv = lua_touserdata(L, 2);
  int flags = 0;
  int script;
  if (is_subcommand(argv[1])) {
    lua_pushinteger(L, run_subcommand(L, argv));
    return 1;
  }
  script = collect_args(argv, &flags);
  if (flags == HAS_ERROR) {
    print_usage(argv[script]);
    return 0;
  }
  if (flags & HAS_HELP) {
    write_usage(stdout);
    lua_pushboolean(L, 1);
    return 1;
  }
  if (flags & HAS_V) print_version();
  if (record_file && replay_file) {
    as_host_message("--record and --replay cannot be used together");
    return 0;
  }
  if ((record_file || replay_file || step_run) &&
      ((flags & HAS_I) || (script == 0 && !(flags & (HAS_E | HAS_V)) && isatty(0)))) {
    /* One schedule hook per loop, and the REPL's is its own stepper. */
    as_host_message("--record, --replay and --step are for a script's run, not the REPL "
                    "(at the REPL, :pause and :step step the loop)");
    return 0;
  }
  if (flags & HAS_UPPER_E) {
    lua_pushboolean(L, 1);
    lua_setfield(L, LUA_REGISTRYINDEX, "LUA_NOENV");
  } else if (getenv("ASCHED_VIRTUAL_TIME") && strcmp(getenv("ASCHED_VIRTUAL_TIME"), "1") == 0) {
    /* For hosts that cannot pass options, such as busted --lua=asched. */
    as_host_options.virtual_time = 1;
  }
  if (!(flags & HAS_UPPER_E) && !as_host_options.seeded && getenv("ASCHED_SEED")) {
    if (!parse_seed(getenv("ASCHED_SEED"), &as_host_options.seed)) {
      as_host_message("ASCHED_SEED must be an integer");
      return 0;
    }
    as_host_options.seeded = 1;
  }
  luaL_openlibs(L);
  luaL_requiref(L, "asched", luaopen_asched, 1);
  lua_pop(L, 1);
  create_arg_table(L, argv, argc, script);
  /* lua.c picks the generational collector; with a million parked coroutines
   * (old objects whose stacks keep changing) it ran W1 at half the speed.
   * A pause of 400 (collect when memory has grown 4x, not 2x) and a step
   * multiplier of 200 cut W1, W2 and W4 by 5-15% with W1's peak unchanged:
   * a task program's memory is mostly live tasks, not garbage. */
  lua_gc(L, LUA_GCINC, 400, 200, 0);
  if (!(flags & HAS_UPPER_E) && run_init(L) != LUA_OK) return 0;
  if (!run_args(L, argv, script ? script : argc)) return 0;
  if (script && (flags & HAS_I)) {
    /* The REPL runs the script as its first input, in the same run: its
     * globals and still-running tasks are there at the prompt. */
    int n;
    if (load_script(L, argv + script, &n) != LUA_OK) return 0;
    as_host_repl(L, lua_gettop(L) - n, n);
  } else if (script) {
    int status;
    as_host_options.record = record_file;
    as_host_options.replay = replay_file;
    as_host_options.script = argv[script];
    as_host_options.step = step_run;
    as_host_options.step_quit = as__interrupt_quit;
    status = run_script(L, argv + script);
    as_host_options.record = as_host_options.replay = NULL;
    as_host_options.step = 0;
    if (status != LUA_OK) return 0;
  } else if (flags & HAS_I) {
    as_host_repl(L, 0, 0);
  } else if (script == 0 && !(flags & (HAS_E | HAS_V))) {
    if (isatty(0)) {
      as_host_repl(L, 0, 0);
    } else if (run_loaded(L, luaL_loadfile(L, NULL), 0) != LUA_OK) {
      return 0;
    }
  }
  lua_pushboolean(L, 1);
  return 1;
}

static int on_panic(lua_State *L) {
  const char *msg = lua_tostring(L, -1);
  as_host_message(lua_pushfstring(L, "PANIC: unprotected error in call to Lua API (%s)",
                                  msg ? msg : "error object is not a string"));
  return 0;
}

/* Lua's warning protocol as lauxlib has it: "@on"/"@off" switch warnings,
 * `tocont` pieces are joined on one line. Warnings start off, as in lua. */
static int warnings_on;
static int warning_continues;

static void on_warning(void *ud, const char *msg, int tocont) {
  (void)ud;
  if (!warning_continues && !tocont && msg[0] == '@') {
    if (strcmp(msg, "@on") == 0) warnings_on = 1;
    else if (strcmp(msg, "@off") == 0) warnings_on = 0;
    return;
  }
  if (warnings_on) {
    if (!warning_continues) fputs("Lua warning: ", stderr);
    fputs(msg, stderr);
    if (!tocont) fputs("\n", stderr);
    fflush(stderr);
  }
  warning_continues = tocont;
}

/* The slab allocator (alloc.c), except when ASCHED_ALLOC=libc asks for
 * malloc so that valgrind sees every Lua object, and under the sanitizers:
 * malloc, so that they see every Lua object, with failures injected. */
static lua_State *new_state(as_allocator **allocator) {
  lua_State *L;
  const char *choice = getenv("ASCHED_ALLOC");
  *allocator = NULL;
#ifdef ASCHED_SANITIZE
  (void)choice;
  L = lua_newstate(as__alloc_failing, NULL);
#else
  if (choice == NULL || strcmp(choice, "libc") != 0) *allocator = as_allocator_new();
  if (*allocator == NULL) return luaL_newstate();
  L = lua_newstate(as_alloc, *allocator);
#endif
  if (L == NULL) return NULL;
  lua_atpanic(L, on_panic);
  lua_setwarnf(L, on_warning, NULL);
  return L;
}

int main(int argc, char **argv) {
  int status, ok;
  as_allocator *allocator;
  lua_State *L;
#ifdef ASCHED_SANITIZE
  as__alloc_failure_take_libuv();   /* before any use of libuv */
#endif
  L = new_state(&allocator);
  if (L == NULL) {
    as_host_message("cannot create state: not enough memory");
    return EXIT_FAILURE;
  }
  lua_pushcfunction(L, pmain);
  lua_pushinteger(L, argc);
  lua_pushlightuserdata(L, argv);
  status = lua_pcall(L, 2, 1, 0);
  if (status == LUA_OK && lua_isinteger(L, -1)) {   /* a subcommand's exit status */
    int code = (int)lua_tointeger(L, -1);
    lua_close(L);
    as_allocator_free(allocator);
    return code;
  }
  ok = status == LUA_OK && lua_toboolean(L, -1);
  if (status != LUA_OK) as_host_message(lua_tostring(L, -1));
  lua_close(L);
  as_allocator_free(allocator);
  if (as_interrupt_signal() != 0) {   /* exit as a shell reports a signal */
    as_host_message(as_interrupt_signal() == SIGTERM ? "terminated" : "interrupted");
    return 128 + as_interrupt_signal();
  }
  return ok ? EXIT_SUCCESS : EXIT_FAILURE;
}
