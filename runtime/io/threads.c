/* threads.c -- to_thread (see threads.h). Owns the jobs and the worker Lua
 * states of a loop. A worker state is touched only by the pool thread that
 * took it from the idle list (under the mutex); everything else -- the
 * caller's state, tasks, the job's fate -- only by the loop thread.
 *
 * A job's life: the caller serialises the function (lua_dump) and the
 * arguments into the job, queues it with uv_queue_work and suspends. A pool
 * thread runs it in a worker state and serialises the results or the error.
 * Back on the loop thread, after_work wakes the caller, whose continuation
 * reads the results and frees the job. A job is an io_op (io_op.h): a caller
 * cancelled first lets go of it, and it is freed when the worker is done:
 * the result is dropped.
 * While a job is queued or running libuv's loop is alive, so the virtual
 * clock holds and a run's end waits for it (close_loop runs libuv dry). */
#include "threads.h"

#include <lauxlib.h>
#include <lualib.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

#include "errors.h"
#include "io_op.h"
#include "loop.h"

#define MAX_DEPTH 100   /* nesting of copied tables */

/* ---- a growable byte buffer, usable on any thread ---- */

typedef struct buffer {
  char *data;
  size_t size, capacity;
  int failed;          /* out of memory */
} buffer;

static void buffer_add(buffer *b, const void *bytes, size_t n) {
  if (b->failed) return;
  if (b->size + n > b->capacity) {
    size_t capacity = b->capacity ? b->capacity : 256;
    char *grown;
    while (capacity < b->size + n) capacity *= 2;
    grown = realloc(b->data, capacity);
    if (grown == NULL) {
      b->failed = 1;
      return;
    }
    b->data = grown;
    b->capacity = capacity;
  }
  memcpy(b->data + b->size, bytes, n);
  b->size += n;
}

static void buffer_free(buffer *b) {
  free(b->data);
  memset(b, 0, sizeof *b);
}

/* ---- copying values: nil, booleans, numbers, strings, tables of those ---- */

enum { TAG_NIL = 'n', TAG_FALSE = 'f', TAG_TRUE = 't', TAG_INTEGER = 'i', TAG_FLOAT = 'd',
       TAG_STRING = 's', TAG_TABLE = '{', TAG_END = '}' };

typedef struct writer {
  lua_State *L;
  buffer *out;
  int seen;              /* stack index of a table: tables being copied */
  int keys[MAX_DEPTH];   /* stack index of the key being copied at each depth */
  int depth;
  const char *root;      /* "args" or "results" */
  int root_index;        /* which argument or result */
} writer;

/* Pushes the path of the value being copied, e.g. "args[2].cb". */
static void push_path(writer *w) {
  lua_State *L = w->L;
  luaL_Buffer b;
  int i;
  luaL_buffinit(L, &b);
  lua_pushfstring(L, "%s[%d]", w->root, w->root_index);
  luaL_addvalue(&b);
  for (i = 0; i < w->depth; i++) {
    int k = w->keys[i];
    if (lua_type(L, k) == LUA_TSTRING) {
      const char *s = lua_tostring(L, k);
      int identifier = (s[0] == '_' || (s[0] | 32) >= 'a') && (s[0] | 32) <= 'z';
      for (const char *p = s; identifier && *p; p++)
        identifier = *p == '_' || ((*p | 32) >= 'a' && (*p | 32) <= 'z') || (*p >= '0' && *p <= '9');
      lua_pushfstring(L, identifier ? ".%s" : "[\"%s\"]", s);
    } else {
      lua_pushfstring(L, "[%s]", luaL_tolstring(L, k, NULL));
      lua_remove(L, -2);
    }
    luaL_addvalue(&b);
  }
  luaL_pushresult(&b);
}

/* Raises the error for a value that cannot be copied: an argument error
 * naming its path for arguments ("bad argument #3 to 'to_thread' (args[2].cb
 * is a function, ...)"), a plain error for results. */
static int refuse(writer *w, int idx, const char *what) {
  lua_State *L = w->L;
  const char *path;
  push_path(w);
  path = lua_tostring(L, -1);
  if (strcmp(w->root, "args") == 0)
    return luaL_error(L, "bad argument #%d to 'to_thread' (%s %s, which cannot be copied to a thread)",
                      w->root_index + 1, path, what ? what : lua_pushfstring(L, "is a %s", luaL_typename(L, idx)));
  return luaL_error(L, "to_thread: %s %s, which cannot be copied back from a thread", path,
                    what ? what : lua_pushfstring(L, "is a %s", luaL_typename(L, idx)));
}

static void write_value(writer *w, int idx);

static void write_table(writer *w, int idx) {
  lua_State *L = w->L;
  char tag = TAG_TABLE;
  lua_pushvalue(L, idx);
  if (lua_rawget(L, w->seen) != LUA_TNIL) refuse(w, idx, "is a table that contains itself");
  lua_pop(L, 1);
  if (w->depth == MAX_DEPTH) refuse(w, idx, "is a table nested too deeply");
  lua_pushvalue(L, idx);
  lua_pushboolean(L, 1);
  lua_rawset(L, w->seen);
  buffer_add(w->out, &tag, 1);
  luaL_checkstack(L, 4, "table nested too deeply");
  lua_pushnil(L);
  while (lua_next(L, idx)) {
    w->keys[w->depth++] = lua_absindex(L, -2);
    write_value(w, -2);
    write_value(w, -1);
    w->depth--;
    lua_pop(L, 1);
  }
  tag = TAG_END;
  buffer_add(w->out, &tag, 1);
  lua_pushvalue(L, idx);
  lua_pushnil(L);
  lua_rawset(L, w->seen);
}

static void write_value(writer *w, int idx) {
  lua_State *L = w->L;
  char tag;
  idx = lua_absindex(L, idx);
  switch (lua_type(L, idx)) {
    case LUA_TNIL:
      tag = TAG_NIL;
      buffer_add(w->out, &tag, 1);
      return;
    case LUA_TBOOLEAN:
      tag = lua_toboolean(L, idx) ? TAG_TRUE : TAG_FALSE;
      buffer_add(w->out, &tag, 1);
      return;
    case LUA_TNUMBER:
      if (lua_isinteger(L, idx)) {
        lua_Integer i = lua_tointeger(L, idx);
        tag = TAG_INTEGER;
        buffer_add(w->out, &tag, 1);
        buffer_add(w->out, &i, sizeof i);
      } else {
        lua_Number d = lua_tonumber(L, idx);
        tag = TAG_FLOAT;
        buffer_add(w->out, &tag, 1);
        buffer_add(w->out, &d, sizeof d);
      }
      return;
    case LUA_TSTRING: {
      size_t len;
      const char *s = lua_tolstring(L, idx, &len);
      tag = TAG_STRING;
      buffer_add(w->out, &tag, 1);
      buffer_add(w->out, &len, sizeof len);
      buffer_add(w->out, s, len);
      return;
    }
    case LUA_TTABLE:
      write_table(w, idx);
      return;
    default:
      refuse(w, idx, NULL);
  }
}

/* Copies the `n` values from `first` into `out`; on a value that cannot be
 * copied raises an error naming its path under `root`, counting from `base`. */
static void write_values(lua_State *L, int first, int n, buffer *out, const char *root, int base) {
  writer w;
  int i;
  memset(&w, 0, sizeof w);
  w.L = L;
  w.out = out;
  w.root = root;
  lua_newtable(L);
  w.seen = lua_gettop(L);
  buffer_add(out, &n, sizeof n);
  for (i = 0; i < n; i++) {
    w.root_index = base + i;
    write_value(&w, first + i);
  }
  lua_pop(L, 1);
  if (out->failed) luaL_error(L, "not enough memory");
}

typedef struct reader {
  const char *p, *end;
} reader;

static void read_bytes(lua_State *L, reader *r, void *into, size_t n) {
  if ((size_t)(r->end - r->p) < n) luaL_error(L, "to_thread: corrupt copy");
  memcpy(into, r->p, n);
  r->p += n;
}

static void read_value(lua_State *L, reader *r, int depth) {
  char tag;
  read_bytes(L, r, &tag, 1);
  luaL_checkstack(L, 3, "copy nested too deeply");
  switch (tag) {
    case TAG_NIL: lua_pushnil(L); return;
    case TAG_FALSE: lua_pushboolean(L, 0); return;
    case TAG_TRUE: lua_pushboolean(L, 1); return;
    case TAG_INTEGER: {
      lua_Integer i;
      read_bytes(L, r, &i, sizeof i);
      lua_pushinteger(L, i);
      return;
    }
    case TAG_FLOAT: {
      lua_Number d;
      read_bytes(L, r, &d, sizeof d);
      lua_pushnumber(L, d);
      return;
    }
    case TAG_STRING: {
      size_t len;
      read_bytes(L, r, &len, sizeof len);
      if ((size_t)(r->end - r->p) < len) luaL_error(L, "to_thread: corrupt copy");
      lua_pushlstring(L, r->p, len);
      r->p += len;
      return;
    }
    case TAG_TABLE:
      if (depth > MAX_DEPTH) luaL_error(L, "to_thread: corrupt copy");
      lua_newtable(L);
      while (r->p < r->end && *r->p != TAG_END) {
        read_value(L, r, depth + 1);
        read_value(L, r, depth + 1);
        lua_rawset(L, -3);
      }
      read_bytes(L, r, &tag, 1);
      return;
    default:
      luaL_error(L, "to_thread: corrupt copy");
  }
}

/* Pushes the values written by write_values; returns how many. */
static int read_values(lua_State *L, const buffer *in) {
  reader r = {in->data, in->data + in->size};
  int i, n;
  read_bytes(L, &r, &n, sizeof n);
  luaL_checkstack(L, n, "too many values to copy");
  for (i = 0; i < n; i++) read_value(L, &r, 0);
  return n;
}

/* ---- worker states ---- */

typedef struct as_workers {
  uv_mutex_t lock;
  lua_State **idle;
  int idle_count, capacity;
} as_workers;

static as_workers *workers_of(as_loop *loop) {
  if (loop->workers == NULL) {
    as_workers *w = calloc(1, sizeof *w);
    if (w == NULL) return NULL;
    if (uv_mutex_init(&w->lock) != 0) {
      free(w);
      return NULL;
    }
    loop->workers = w;
  }
  return loop->workers;
}

/* A state from the idle list, or a new one with the standard libraries. */
static lua_State *take_worker(as_workers *w) {
  lua_State *W = NULL;
  uv_mutex_lock(&w->lock);
  if (w->idle_count > 0) W = w->idle[--w->idle_count];
  uv_mutex_unlock(&w->lock);
  if (W == NULL && (W = luaL_newstate()) != NULL) luaL_openlibs(W);
  return W;
}

static void give_back_worker(as_workers *w, lua_State *W) {
  lua_settop(W, 0);
  uv_mutex_lock(&w->lock);
  if (w->idle_count == w->capacity) {
    int capacity = w->capacity ? w->capacity * 2 : 4;
    lua_State **grown = realloc(w->idle, sizeof *grown * (size_t)capacity);
    if (grown == NULL) {
      uv_mutex_unlock(&w->lock);
      lua_close(W);
      return;
    }
    w->idle = grown;
    w->capacity = capacity;
  }
  w->idle[w->idle_count++] = W;
  uv_mutex_unlock(&w->lock);
}

void as__threads_close(as_loop *loop) {
  as_workers *w = loop->workers;
  int i;
  if (w == NULL) return;
  for (i = 0; i < w->idle_count; i++) lua_close(w->idle[i]);
  free(w->idle);
  uv_mutex_destroy(&w->lock);
  free(w);
  loop->workers = NULL;
}

/* ---- jobs ---- */

typedef struct job {
  as_io_op op;           /* the caller's wait; op.loop is the job's loop */
  uv_work_t req;
  buffer function;       /* lua_dump of the function */
  buffer values;         /* the arguments, then the results or the error value */
  buffer traceback;      /* where the error was raised in the worker */
  int failed;
} job;

static void free_job(job *j) {
  buffer_free(&j->function);
  buffer_free(&j->values);
  buffer_free(&j->traceback);
  free(j);
}

/* Makes the job's outcome one error value: the string `message`. */
static void fail_with_message(job *j, const char *message, size_t len) {
  int n = 1;
  char tag = TAG_STRING;
  buffer_free(&j->values);
  buffer_add(&j->values, &n, sizeof n);
  buffer_add(&j->values, &tag, 1);
  buffer_add(&j->values, &len, sizeof len);
  buffer_add(&j->values, message, len);
  j->failed = 1;
}

static int dump_writer(lua_State *L, const void *p, size_t size, void *ud) {
  (void)L;
  buffer_add(ud, p, size);
  return ((buffer *)ud)->failed;
}

#define TRACEBACK_KEY "asched.thread_traceback"

/* In the worker: the message handler keeps the error value and notes where
 * it was raised. */
static int worker_traceback(lua_State *W) {
  luaL_traceback(W, W, NULL, 1);
  lua_setfield(W, LUA_REGISTRYINDEX, TRACEBACK_KEY);
  lua_settop(W, 1);
  return 1;
}

/* Protected: (job, error) -> copies the error value into the job. */
static int write_error(lua_State *W) {
  job *j = lua_touserdata(W, 1);
  write_values(W, 2, 1, &j->values, "error", 1);
  return 0;
}

/* In the worker, protected: [job] -> runs the function on the copied
 * arguments and copies the results back into job->values. */
static int run_in_worker(lua_State *W) {
  job *j = lua_touserdata(W, 1);
  int base, n, status;
  lua_pushcfunction(W, worker_traceback);
  base = lua_gettop(W);
  if (luaL_loadbufferx(W, j->function.data, j->function.size, "=to_thread", "b") != LUA_OK)
    return lua_error(W);
  /* A fresh environment each job: globals set by one job do not leak into
   * the next one that reuses this state. */
  lua_createtable(W, 0, 1);
  lua_pushvalue(W, -1);
  lua_setfield(W, -2, "_G");               /* _G.x = 1 stays in this job too */
  lua_createtable(W, 0, 1);
  lua_pushglobaltable(W);
  lua_setfield(W, -2, "__index");
  lua_setmetatable(W, -2);
  if (lua_setupvalue(W, -2, 1) == NULL) lua_pop(W, 1);
  n = read_values(W, &j->values);
  buffer_free(&j->values);
  status = lua_pcall(W, n, LUA_MULTRET, base);
  if (status != LUA_OK) {
    size_t len;
    const char *text;
    int error = lua_gettop(W);
    lua_getfield(W, LUA_REGISTRYINDEX, TRACEBACK_KEY);
    text = lua_tolstring(W, -1, &len);
    if (text) buffer_add(&j->traceback, text, len);
    j->failed = 1;
    lua_pushcfunction(W, write_error);
    lua_pushlightuserdata(W, j);
    lua_pushvalue(W, error);
    if (lua_pcall(W, 2, 0, 0) != LUA_OK) {   /* not copyable: send its message */
      text = as__error_message(W, error);
      fail_with_message(j, text, strlen(text));
    }
    return 0;
  }
  write_values(W, base + 1, lua_gettop(W) - base, &j->values, "results", 1);
  return 0;
}

static void work(uv_work_t *req) {
  job *j = req->data;
  as_workers *w = j->op.loop->workers;
  lua_State *W = take_worker(w);
  if (W == NULL) {
    static const char message[] = "to_thread: cannot create a worker Lua state: not enough memory";
    fail_with_message(j, message, sizeof message - 1);
    return;
  }
  lua_pushcfunction(W, run_in_worker);
  lua_pushlightuserdata(W, j);
  if (lua_pcall(W, 1, 0, 0) != LUA_OK) {   /* results that cannot be copied, memory */
    const char *message = as__error_message(W, -1);
    fail_with_message(j, message, strlen(message));
  }
  give_back_worker(w, W);
}

/* On the loop thread, when the worker is done. */
static void after_work(uv_work_t *req, int status) {
  (void)status;
  as__io_op_finish(&((job *)req->data)->op);
}

static void release_job(as_io_op *op) { free_job((job *)op); }

/* A thread cannot be stopped: a job nobody waits for runs to its end. */
static const as_io_op_type JOB_TYPE = {"waiting for a thread", NULL, release_job, "thread"};

static int to_thread_resumed(lua_State *L, int status, lua_KContext ctx) {
  job *j = (job *)ctx;
  int n;
  (void)status;
  if (as__io_op_cancelled(L, &j->op)) return lua_error(L);  /* the thread runs on */
  if (j->failed) {
    /* The thread's error value, with the thread's traceback: appended to a
     * string, or as the field `traceback` of a table that has none. */
    lua_settop(L, 0);
    read_values(L, &j->values);
    if (j->traceback.size > 0) {
      lua_pushliteral(L, "\n");
      lua_pushlstring(L, j->traceback.data, j->traceback.size);
      if (lua_type(L, 1) == LUA_TSTRING) {
        lua_concat(L, 3);
      } else {
        lua_remove(L, 2);
        if (lua_type(L, 1) == LUA_TTABLE && lua_getfield(L, 1, "traceback") == LUA_TNIL) {
          lua_pop(L, 1);
          lua_setfield(L, 1, "traceback");
        }
        lua_settop(L, 1);
      }
    }
    as__io_op_let_go(L, &j->op);
    return lua_error(L);
  }
  lua_settop(L, 0);
  n = read_values(L, &j->values);
  as__io_op_let_go(L, &j->op);
  return n;
}

/* Checks that argument 1 is a Lua function whose only upvalue, if any, is _ENV. */
static void check_function(lua_State *L) {
  const char *name;
  int i;
  luaL_checktype(L, 1, LUA_TFUNCTION);
  if (lua_iscfunction(L, 1)) luaL_argerror(L, 1, "a Lua function expected, got a C function");
  for (i = 1; (name = lua_getupvalue(L, 1, i)) != NULL; i++) {
    lua_pop(L, 1);
    if (strcmp(name, "_ENV") != 0)
      luaL_argerror(L, 1, lua_pushfstring(L, "the function uses the local '%s' of an enclosing "
                                          "function; only globals reach a thread", name));
  }
}

/* Protected: (job, args...) -> copies the arguments into the job. */
static int write_args(lua_State *L) {
  job *j = lua_touserdata(L, 1);
  write_values(L, 2, lua_gettop(L) - 1, &j->values, "args", 1);
  return 0;
}

/* to_thread(fn, ...) -> fn(...)'s values, run on the thread pool. Suspends. */
static int l_to_thread(lua_State *L) {
  as_loop *loop = as__loop(L);
  int i, nargs = lua_gettop(L) - 1;
  as_task *t;
  job *j;
  check_function(L);
  t = as__task_check_current(L, loop, "to_thread");
  j = calloc(1, sizeof *j);
  if (j == NULL || workers_of(loop) == NULL) {
    free(j);
    return luaL_error(L, "not enough memory");
  }
  lua_pushvalue(L, 1);
  if (lua_dump(L, dump_writer, &j->function, 0) != 0 || j->function.failed) {
    free_job(j);
    return luaL_error(L, "not enough memory");
  }
  lua_pop(L, 1);
  lua_pushcfunction(L, write_args);
  lua_pushlightuserdata(L, j);
  for (i = 2; i <= nargs + 1; i++) lua_pushvalue(L, i);
  if (lua_pcall(L, nargs + 1, 0, 0) != LUA_OK) {
    free_job(j);
    luaL_where(L, 1);
    lua_insert(L, -2);
    lua_concat(L, 2);
    return lua_error(L);
  }
  as__io_op_init(&j->op, &JOB_TYPE, loop);
  j->req.data = j;
  if (uv_queue_work(&loop->uv, &j->req, work, after_work) != 0) {
    free_job(j);
    return luaL_error(L, "to_thread: cannot queue work");
  }
  return as__io_op_wait(L, &j->op, t, to_thread_resumed);
}

void as__open_threads(lua_State *L) {
  as__push_boxed(L, l_to_thread);
  lua_setfield(L, -2, "to_thread");
}
