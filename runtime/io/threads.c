/* threads.c -- to_thread's jobs (see threads.h). A worker state is touched
 * only by the pool thread that took it from the idle list (under the mutex);
 * everything else -- the caller's state, tasks, the job's fate -- only by the
 * loop thread.
 *
 * A job's life: the caller serialises the function (lua_dump) and the
 * arguments into the job, queues it with uv_queue_work and suspends. A pool
 * thread runs it in a worker state and serialises the results or the error.
 * Back on the loop thread, after_work wakes the caller, whose continuation
 * reads the results and frees the job. A job is an io_op: a caller cancelled
 * first lets go of it, and it is freed when the worker is done: the result is
 * dropped. While a job is queued or running libuv's loop is alive, so the
 * virtual clock holds and a run's end waits for it (the loop runs libuv dry
 * before it lets its attachments go). */
#include "threads.h"

#include <lauxlib.h>
#include <lualib.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

#include "buffer.h"
#include "errors.h"
#include "io_op.h"
#include "marshal.h"
#include "vec.h"

/* ---- worker states ---- */

/* The worker states of a loop: an attachment made on the first job. */
typedef struct as_workers {
  as_attachment attachment;
  uv_mutex_t lock;
  int unusable;          /* the mutex could not be made */
  lua_State **idle;
  size_t idle_count, capacity;
} as_workers;

static const char workers_key = 'W';

/* libuv has run dry, so no job runs any more: close the worker states. */
static void release_workers(as_attachment *a, lua_State *L, as_loop *loop) {
  as_workers *w = (as_workers *)a;
  size_t i;
  (void)L;
  (void)loop;
  for (i = 0; i < w->idle_count; i++) lua_close(w->idle[i]);
  free(w->idle);
  if (!w->unusable) uv_mutex_destroy(&w->lock);
  free(w);
}

static as_workers *workers_of(as_loop *loop) {
  int made;
  as_workers *w = (as_workers *)as__loop_attachment_make(loop, &workers_key, sizeof *w, NULL,
                                                         release_workers, &made);
  if (made && uv_mutex_init(&w->lock) != 0) w->unusable = 1;
  return w && !w->unusable ? w : NULL;
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
  lua_State **grown;
  lua_settop(W, 0);
  uv_mutex_lock(&w->lock);
  grown = as_vec_grow(w->idle, &w->capacity, w->idle_count + 1, sizeof *grown);
  if (grown == NULL) {
    uv_mutex_unlock(&w->lock);
    lua_close(W);
    return;
  }
  w->idle = grown;
  w->idle[w->idle_count++] = W;
  uv_mutex_unlock(&w->lock);
}

/* ---- jobs ---- */

struct as_thread_job {
  as_io_op op;           /* the caller's wait; op.loop is the job's loop */
  uv_work_t req;
  as_workers *workers;
  as_buffer function;    /* lua_dump of the function */
  as_buffer values;      /* the arguments, then the results or the error value */
  as_buffer traceback;   /* where the error was raised in the worker */
  char *message;         /* malloc'd: an error that is only a message, or NULL */
  int failed;
};

typedef as_thread_job job;

static void free_job(job *j) {
  as_buffer_free(&j->function);
  as_buffer_free(&j->values);
  as_buffer_free(&j->traceback);
  free(j->message);
  free(j);
}

/* Makes the job's outcome the error message `message` (copied). */
static void fail_with_message(job *j, const char *message) {
  as_buffer_free(&j->values);
  free(j->message);
  j->message = strdup(message);
  j->failed = 1;
}

static int dump_writer(lua_State *L, const void *p, size_t size, void *ud) {
  (void)L;
  return as_buffer_append(ud, p, size);
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

/* registry[WORKER_KEY] = true in a worker's Lua state. A name, not a static
 * address: the asched a job requires may be another copy of this code (the
 * module beside the program), and it must see the mark too. */
#define WORKER_KEY "asched.worker"

int as__in_thread_worker(lua_State *L) {
  int marked = lua_getfield(L, LUA_REGISTRYINDEX, WORKER_KEY) == LUA_TBOOLEAN;
  lua_pop(L, 1);
  return marked;
}

/* In the worker, protected: [job] -> runs the function on the copied
 * arguments and copies the results back into job->values. */
static int run_in_worker(lua_State *W) {
  job *j = lua_touserdata(W, 1);
  int base, n, status;
  lua_pushboolean(W, 1);
  lua_setfield(W, LUA_REGISTRYINDEX, WORKER_KEY);
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
  n = as__marshal_read(W, j->values.data, j->values.size);
  as_buffer_free(&j->values);
  status = lua_pcall(W, n, LUA_MULTRET, base);
  if (status != LUA_OK) {
    size_t len;
    const char *text;
    int error = lua_gettop(W);
    lua_getfield(W, LUA_REGISTRYINDEX, TRACEBACK_KEY);
    text = lua_tolstring(W, -1, &len);
    if (text && as_buffer_append(&j->traceback, text, len) != 0) as_buffer_free(&j->traceback);
    j->failed = 1;
    if (as__marshal_write(W, error, 1, &j->values, "error", 1) != 0)
      fail_with_message(j, as__error_message(W, error));   /* not copyable: its message */
    return 0;
  }
  switch (as__marshal_write(W, base + 1, lua_gettop(W) - base, &j->values, "results", 1)) {
    case 0: return 0;
    case -1: return luaL_error(W, "not enough memory");
    default:
      return luaL_error(W, "to_thread: %s, which cannot be copied back from a thread", lua_tostring(W, -1));
  }
}

static void work(uv_work_t *req) {
  job *j = req->data;
  as_workers *w = j->workers;
  lua_State *W = take_worker(w);
  if (W == NULL) {
    fail_with_message(j, "to_thread: cannot create a worker Lua state: not enough memory");
    return;
  }
  lua_pushcfunction(W, run_in_worker);
  lua_pushlightuserdata(W, j);
  if (lua_pcall(W, 1, 0, 0) != LUA_OK)     /* results that cannot be copied, memory */
    fail_with_message(j, as__error_message(W, -1));
  give_back_worker(w, W);
}

/* On the loop thread, when the worker is done. */
static void after_work(uv_work_t *req, int status) {
  (void)status;
  as__io_op_finish(&((job *)req->data)->op);
}

static void release_job(as_io_op *op) { free_job((job *)op); }

/* Pushes the thread's error value with the thread's traceback: appended to
 * a string, or as the field `traceback` of a table that has none. */
static void push_error(lua_State *L, job *j) {
  int error;
  if (j->message) lua_pushstring(L, j->message);
  else as__marshal_read(L, j->values.data, j->values.size);
  error = lua_gettop(L);
  if (j->traceback.size == 0) return;
  if (lua_type(L, error) == LUA_TSTRING) {
    lua_pushliteral(L, "\n");
    lua_pushlstring(L, j->traceback.data, j->traceback.size);
    lua_concat(L, 3);
  } else if (lua_type(L, error) == LUA_TTABLE && lua_getfield(L, error, "traceback") == LUA_TNIL) {
    lua_pop(L, 1);
    lua_pushlstring(L, j->traceback.data, j->traceback.size);
    lua_setfield(L, error, "traceback");
  } else {
    lua_settop(L, error);
  }
}

static int push_results(lua_State *L, as_io_op *op) {
  job *j = (job *)op;
  if (j->failed) {
    push_error(L, j);
    return AS_IO_FAILED;
  }
  return as__marshal_read(L, j->values.data, j->values.size);
}

/* A thread cannot be stopped: a job nobody waits for runs to its end. */
static const as_io_op_type JOB_TYPE = {AS_IO_WAIT("thread"), "waiting for a thread", push_results, NULL,
                                       release_job};

/* Protected: (job, fn, args...) -> dumps fn and copies the arguments into
 * the job; returns (description, number) of a bad argument, or (nil, 0). */
static int fill_job(lua_State *L) {
  job *j = lua_touserdata(L, 1);
  int bad;
  lua_pushvalue(L, 2);
  if (lua_dump(L, dump_writer, &j->function, 0) != 0) return luaL_error(L, "not enough memory");
  lua_pop(L, 1);
  bad = as__marshal_write(L, 3, lua_gettop(L) - 2, &j->values, "args", 1);
  if (bad < 0) return luaL_error(L, "not enough memory");
  if (bad == 0) lua_pushnil(L);
  lua_pushinteger(L, bad);
  return 2;
}

as_thread_job *as__thread_job_new(lua_State *L, int fn, int first, int nargs, int *bad) {
  job *j = calloc(1, sizeof *j);
  int i;
  fn = lua_absindex(L, fn);
  first = lua_absindex(L, first);
  *bad = 0;
  if (j == NULL) {
    luaL_error(L, "not enough memory");
    return NULL;
  }
  lua_pushcfunction(L, fill_job);
  lua_pushlightuserdata(L, j);
  lua_pushvalue(L, fn);
  for (i = 0; i < nargs; i++) lua_pushvalue(L, first + i);
  if (lua_pcall(L, nargs + 2, 2, 0) != LUA_OK) {
    free_job(j);
    lua_error(L);
  }
  *bad = (int)lua_tointeger(L, -1);        /* [description bad] */
  lua_pop(L, 1);
  if (*bad == 0) {
    lua_pop(L, 1);
    return j;
  }
  free_job(j);
  return NULL;
}

int as__thread_job_run(lua_State *L, as_loop *loop, as_task *t, as_thread_job *j) {
  int status;
  j->workers = workers_of(loop);
  if (j->workers == NULL) {
    free_job(j);
    return luaL_error(L, "not enough memory");
  }
  as__io_op_init(&j->op, &JOB_TYPE, loop);
  j->req.data = j;
  status = uv_queue_work(&loop->uv, &j->req, work, after_work);
  if (status != 0) {
    free_job(j);
    as__io_error_push(L, status, "to_thread");
    return lua_error(L);
  }
  return as__io_op_wait(L, &j->op, t);
}
