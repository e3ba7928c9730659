/* runner.c -- what the exercise runner (exercises.lua) needs from C: real
 * paths, and `asched watch`'s wait for a save or a key. Touches no asched run. */
#define _DEFAULT_SOURCE 1   /* realpath, beside the build's _POSIX_C_SOURCE */
#include <ctype.h>
#include <lauxlib.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>
#include <uv.h>

#include "host.h"

/* realpath(path) -> the absolute path with no symbolic link, or nil, message. */
static int l_realpath(lua_State *L) {
  const char *path = luaL_checkstring(L, 1);
  char resolved[PATH_MAX];
  if (realpath(path, resolved) == NULL) {
    luaL_pushfail(L);
    lua_pushfstring(L, "%s: cannot resolve", path);
    return 2;
  }
  lua_pushstring(L, resolved);
  return 1;
}

/* exepath() -> the program's own file, so an installed asched finds the
 * exercises installed beside it (P/bin/asched -> P/share/asched/exercises). */
static int l_exepath(lua_State *L) {
  char path[PATH_MAX];
  size_t size = sizeof path;
  if (uv_exepath(path, &size) != 0) {
    luaL_pushfail(L);
    return 1;
  }
  lua_pushlstring(L, path, size);
  return 1;
}

/* What identifies one version of a file: modification time to the
 * nanosecond, size and inode ("" when it does not exist). */
static void push_stamp(lua_State *L, const char *path) {
  struct stat st;
  if (stat(path, &st) != 0) {
    lua_pushliteral(L, "");
    return;
  }
  lua_pushfstring(L, "%I.%I:%I:%I", (lua_Integer)st.st_mtim.tv_sec, (lua_Integer)st.st_mtim.tv_nsec,
                  (lua_Integer)st.st_size, (lua_Integer)st.st_ino);
}

/* stamp(path) -> a string that changes whenever the file does. */
static int l_stamp(lua_State *L) {
  push_stamp(L, luaL_checkstring(L, 1));
  return 1;
}

/* ---- watch(path, stamp): waits for the file to change or a key. ---- */

#define POLL_MS 300    /* the fallback where file events do not arrive */
#define SETTLE_MS 80   /* an editor's save may be several writes: let them land */

/* One wait. Lives on the C stack of l_watch, with its own loop, so the
 * handles are all closed (and the loop with them) before l_watch returns. */
typedef struct {
  uv_loop_t loop;
  uv_fs_event_t event;
  uv_timer_t poll, settle;
  uv_poll_t keys;
  uv_signal_t sigint, sigterm;
  lua_State *L;
  const char *path, *name, *stamp;
  int result;          /* 'c' for a change, else the key */
} watcher;

/* Keys read but not yet returned: a pipe may bring "h\nq\n" in one read. */
static char pending[64];
static size_t pending_len;
static int stdin_ended;

static void finish(watcher *w, int result) {
  if (w->result == 0) w->result = result;
  uv_stop(&w->loop);
}

/* The first key of `pending` that means something, consumed; 0 if none.
 * Ctrl-C and Ctrl-D (raw mode delivers them as bytes) mean quit. */
static int take_key(void) {
  while (pending_len > 0) {
    int c = (unsigned char)pending[0];
    memmove(pending, pending + 1, --pending_len);
    if (c == 3 || c == 4) return 'q';
    c = tolower(c);
    if (strchr("hlnrq", c) != NULL && c != 0) return c;
  }
  return 0;
}

static void on_settled(uv_timer_t *timer) {
  finish(timer->data, 'c');
}

static void changed(watcher *w) {
  uv_timer_start(&w->settle, on_settled, SETTLE_MS, 0);
}

static void on_poll(uv_timer_t *timer) {
  watcher *w = timer->data;
  push_stamp(w->L, w->path);
  if (strcmp(lua_tostring(w->L, -1), w->stamp) != 0) changed(w);
  lua_pop(w->L, 1);
}

/* Events come for the whole directory (an editor may replace the file by
 * renaming another over it): only the file's own name counts. */
static void on_event(uv_fs_event_t *event, const char *filename, int events, int status) {
  watcher *w = event->data;
  (void)events;
  if (status == 0 && (filename == NULL || strcmp(filename, w->name) == 0)) changed(w);
}

static void on_key(uv_poll_t *poll, int status, int events) {
  watcher *w = poll->data;
  ssize_t n;
  int key;
  (void)events;
  if (status < 0) { uv_poll_stop(poll); return; }
  n = read(0, pending + pending_len, sizeof pending - pending_len);
  if (n <= 0) {   /* end of input: keep watching the file, without keys */
    stdin_ended = 1;
    uv_poll_stop(poll);
    return;
  }
  pending_len += (size_t)n;
  if (pending_len == sizeof pending) pending_len = 0;   /* garbage: drop it */
  key = take_key();
  if (key) finish(w, key);
}

static void on_signal(uv_signal_t *signal, int signum) {
  (void)signum;
  finish(signal->data, 'q');
}

static void close_one(uv_handle_t *handle, void *arg) {
  (void)arg;
  if (!uv_is_closing(handle)) uv_close(handle, NULL);
}

/* Starts what the wait listens to; a piece that cannot start is left out
 * (no file events: the poll still sees saves; stdin a file: no keys). */
static void start(watcher *w, const char *directory) {
  uv_timer_init(&w->loop, &w->poll);
  uv_timer_init(&w->loop, &w->settle);
  w->poll.data = w->settle.data = w;
  uv_timer_start(&w->poll, on_poll, POLL_MS, POLL_MS);
  if (getenv("ASCHED_WATCH_POLL") == NULL &&   /* tests force the fallback */
      uv_fs_event_init(&w->loop, &w->event) == 0) {
    w->event.data = w;
    uv_fs_event_start(&w->event, on_event, directory, 0);
  }
  if (!stdin_ended && uv_guess_handle(0) != UV_FILE && uv_poll_init(&w->loop, &w->keys, 0) == 0) {
    w->keys.data = w;
    uv_poll_start(&w->keys, UV_READABLE, on_key);
  }
  uv_signal_init(&w->loop, &w->sigint);
  uv_signal_init(&w->loop, &w->sigterm);
  w->sigint.data = w->sigterm.data = w;
  uv_signal_start(&w->sigint, on_signal, SIGINT);
  uv_signal_start(&w->sigterm, on_signal, SIGTERM);
}

/* watch(path, stamp) -> "change" when the file's stamp differs from `stamp`
 * (at once if it already does), or the key pressed: "h", "l", "n", "r" or
 * "q" ("q" also for Ctrl-C, Ctrl-D and SIGINT/SIGTERM). On a terminal, keys
 * are read unbuffered and unechoed, and the terminal is restored before
 * returning; otherwise the same letters are read from lines. */
static int l_watch(lua_State *L) {
  watcher w;
  struct termios saved, raw;
  int tty = isatty(0) && tcgetattr(0, &saved) == 0;
  char directory[PATH_MAX];
  const char *slash;
  memset(&w, 0, sizeof w);
  w.L = L;
  w.path = luaL_checkstring(L, 1);
  w.stamp = luaL_checkstring(L, 2);
  slash = strrchr(w.path, '/');
  w.name = slash ? slash + 1 : w.path;
  snprintf(directory, sizeof directory, "%.*s", slash ? (int)(slash - w.path) : 1, slash ? w.path : ".");
  if (directory[0] == '\0') strcpy(directory, "/");

  /* A file (or /dev/null) on stdin cannot be polled, but never blocks a read. */
  if (!tty && !stdin_ended && pending_len == 0 && uv_guess_handle(0) == UV_FILE) {
    ssize_t n = read(0, pending, sizeof pending);
    if (n > 0) pending_len = (size_t)n;
    else stdin_ended = 1;
  }
  w.result = take_key();
  push_stamp(L, w.path);
  if (w.result == 0 && strcmp(lua_tostring(L, -1), w.stamp) != 0) w.result = 'c';
  lua_pop(L, 1);
  if (w.result == 0) {
    if (uv_loop_init(&w.loop) != 0) return luaL_error(L, "watch: cannot start a loop");
    if (tty) {
      raw = saved;
      raw.c_lflag &= ~(tcflag_t)(ICANON | ECHO | ISIG);
      raw.c_cc[VMIN] = 1;
      raw.c_cc[VTIME] = 0;
      tcsetattr(0, TCSANOW, &raw);
    }
    start(&w, directory);
    uv_run(&w.loop, UV_RUN_DEFAULT);
    if (tty) tcsetattr(0, TCSANOW, &saved);
    uv_walk(&w.loop, close_one, NULL);
    uv_run(&w.loop, UV_RUN_DEFAULT);
    uv_loop_close(&w.loop);
  }
  if (w.result == 'c') lua_pushliteral(L, "change");
  else lua_pushfstring(L, "%c", w.result);
  return 1;
}

void as__runner_host(lua_State *L) {
  static const luaL_Reg functions[] = {
    {"realpath", l_realpath},
    {"exepath", l_exepath},
    {"stamp", l_stamp},
    {"watch", l_watch},
    {NULL, NULL},
  };
  luaL_newlib(L, functions);
}
