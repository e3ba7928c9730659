/* fs.c -- asched.fs: read_file, write_file, stat and list_dir, each run
 * whole on the libuv thread pool (the pool libuv's own file operations use)
 * while the calling task waits; the loop runs on. A cancelled caller lets go:
 * a job still queued is unqueued, a running one finishes and is dropped.
 * Failures raise an IOError naming the path. */
#include "fs.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <lauxlib.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <uv.h>

#include "errors.h"
#include "io_op.h"
#include "loop.h"

typedef enum { READ_FILE, WRITE_FILE, STAT, LIST_DIR } fs_kind;

typedef struct fs_job {
  as_io_op op;
  uv_work_t req;
  fs_kind kind;
  char *path;
  char *data;          /* read: the contents; write: what to write; list: names, NUL-separated */
  size_t size;
  int error;           /* errno, or 0 */
  struct stat st;
} fs_job;

/* ---- on a pool thread ---- */

static int read_all(fs_job *j) {
  int fd = open(j->path, O_RDONLY | O_CLOEXEC);
  size_t capacity;
  if (fd < 0) return errno;
  if (fstat(fd, &j->st) != 0 || S_ISDIR(j->st.st_mode)) {
    int e = S_ISDIR(j->st.st_mode) ? EISDIR : errno;
    close(fd);
    return e;
  }
  capacity = j->st.st_size > 0 ? (size_t)j->st.st_size + 1 : 4096;
  j->data = malloc(capacity);
  for (;;) {
    ssize_t n;
    if (j->data == NULL) {
      close(fd);
      return ENOMEM;
    }
    n = read(fd, j->data + j->size, capacity - j->size);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      int e = errno;
      close(fd);
      return e;
    }
    if (n == 0) break;
    j->size += (size_t)n;
    if (j->size == capacity) {
      char *grown = realloc(j->data, capacity * 2);
      if (grown == NULL) free(j->data);
      j->data = grown;
      capacity *= 2;
    }
  }
  close(fd);
  return 0;
}

static int write_all(fs_job *j) {
  int fd = open(j->path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
  size_t done = 0;
  if (fd < 0) return errno;
  while (done < j->size) {
    ssize_t n = write(fd, j->data + done, j->size - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      int e = errno;
      close(fd);
      return e;
    }
    done += (size_t)n;
  }
  return close(fd) == 0 ? 0 : errno;
}

static int list_all(fs_job *j) {
  DIR *dir = opendir(j->path);
  struct dirent *entry;
  size_t capacity = 256;
  if (dir == NULL) return errno;
  j->data = malloc(capacity);
  while (j->data != NULL && (entry = readdir(dir)) != NULL) {
    size_t length = strlen(entry->d_name) + 1;
    if (strcmp(entry->d_name, ".") == 0 || strcmp(entry->d_name, "..") == 0) continue;
    while (j->size + length > capacity) {
      char *grown = realloc(j->data, capacity * 2);
      if (grown == NULL) free(j->data);
      j->data = grown;
      capacity *= 2;
      if (grown == NULL) break;
    }
    if (j->data == NULL) break;
    memcpy(j->data + j->size, entry->d_name, length);
    j->size += length;
  }
  closedir(dir);
  return j->data == NULL ? ENOMEM : 0;
}

static void work(uv_work_t *req) {
  fs_job *j = req->data;
  switch (j->kind) {
    case READ_FILE: j->error = read_all(j); break;
    case WRITE_FILE: j->error = write_all(j); break;
    case STAT: j->error = stat(j->path, &j->st) == 0 ? 0 : errno; break;
    case LIST_DIR: j->error = list_all(j); break;
  }
}

/* ---- on the loop thread ---- */

static void after_work(uv_work_t *req, int status) {
  fs_job *j = req->data;
  if (status == UV_ECANCELED) j->error = ECANCELED;
  as__io_op_finish(&j->op);
}

static void release(as_io_op *op) {
  fs_job *j = (fs_job *)op;
  free(j->path);
  free(j->data);
  free(j);
}

static void abort_job(as_io_op *op) {
  uv_cancel((uv_req_t *)&((fs_job *)op)->req);   /* fails harmlessly once it runs */
}

static const as_io_op_type READ_TYPE = {"reading a file", abort_job, release, "io"};
static const as_io_op_type WRITE_TYPE = {"writing a file", abort_job, release, "io"};
static const as_io_op_type STAT_TYPE = {"reading a file's status", abort_job, release, "io"};
static const as_io_op_type LIST_TYPE = {"listing a directory", abort_job, release, "io"};

static const char *type_name_of(mode_t mode) {
  if (S_ISREG(mode)) return "file";
  if (S_ISDIR(mode)) return "directory";
  if (S_ISLNK(mode)) return "link";
  return "other";
}

static int compare_names(const void *a, const void *b) {
  return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Pushes the sorted list of names in j->data. */
static void push_names(lua_State *L, fs_job *j) {
  size_t count = 0, at, i;
  const char **names;
  for (at = 0; at < j->size; at += strlen(j->data + at) + 1) count++;
  names = malloc((count ? count : 1) * sizeof *names);
  if (names == NULL) luaL_error(L, "not enough memory");
  for (at = 0, i = 0; at < j->size; at += strlen(j->data + at) + 1) names[i++] = j->data + at;
  qsort(names, count, sizeof *names, compare_names);
  lua_createtable(L, (int)count, 0);
  for (i = 0; i < count; i++) {
    lua_pushstring(L, names[i]);
    lua_rawseti(L, -2, (lua_Integer)i + 1);
  }
  free(names);
}

static void push_stat(lua_State *L, const struct stat *st) {
  lua_createtable(L, 0, 4);
  lua_pushinteger(L, (lua_Integer)st->st_size);
  lua_setfield(L, -2, "size");
  lua_pushstring(L, type_name_of(st->st_mode));
  lua_setfield(L, -2, "type");
  lua_pushinteger(L, (lua_Integer)(st->st_mode & 07777));
  lua_setfield(L, -2, "mode");
  lua_pushnumber(L, (lua_Number)st->st_mtim.tv_sec + (lua_Number)st->st_mtim.tv_nsec / 1e9);
  lua_setfield(L, -2, "mtime");
}

/* Pushes the job's result; returns how many values. */
static int push_result(lua_State *L, fs_job *j) {
  switch (j->kind) {
    case READ_FILE: lua_pushlstring(L, j->data ? j->data : "", j->size); return 1;
    case WRITE_FILE: return 0;
    case STAT: push_stat(L, &j->st); return 1;
    case LIST_DIR: push_names(L, j); return 1;
  }
  return 0;
}

static int job_resumed(lua_State *L, int status, lua_KContext ctx) {
  fs_job *j = (fs_job *)ctx;
  int n;
  (void)status;
  if (as__io_op_cancelled(L, &j->op)) return lua_error(L);
  lua_settop(L, 0);
  if (j->error != 0) {
    as__error_push(L, "IOError", "%s: %s", j->path, strerror(j->error));
    as__io_op_let_go(L, &j->op);
    return lua_error(L);
  }
  n = push_result(L, j);
  as__io_op_let_go(L, &j->op);
  return n;
}

/* Queues job `kind` on `path` (argument 1) for the running task and suspends. */
static int start(lua_State *L, fs_kind kind, const as_io_op_type *type, const char *fname) {
  as_loop *loop = as__loop(L);
  const char *path = luaL_checkstring(L, 1);
  size_t size = 0;
  const char *data = kind == WRITE_FILE ? luaL_checklstring(L, 2, &size) : NULL;
  as_task *t = as__task_check_current(L, loop, fname);
  fs_job *j = calloc(1, sizeof *j);
  if (j == NULL || (j->path = strdup(path)) == NULL ||
      (data != NULL && (j->data = malloc(size ? size : 1)) == NULL)) {
    if (j) free(j->path);
    free(j);
    return luaL_error(L, "not enough memory");
  }
  if (data) memcpy(j->data, data, size);
  j->size = data ? size : 0;
  j->kind = kind;
  j->req.data = j;
  as__io_op_init(&j->op, type, loop);
  if (uv_queue_work(&loop->uv, &j->req, work, after_work) != 0) {
    release(&j->op);
    return luaL_error(L, "%s: cannot queue work", fname);
  }
  return as__io_op_wait(L, &j->op, t, job_resumed);
}

/* read_file(path) -> the whole contents, a string. */
static int l_read_file(lua_State *L) { return start(L, READ_FILE, &READ_TYPE, "read_file"); }

/* write_file(path, data): creates or truncates the file. */
static int l_write_file(lua_State *L) { return start(L, WRITE_FILE, &WRITE_TYPE, "write_file"); }

/* stat(path) -> {size=, type="file"|"directory"|"link"|"other", mode=, mtime=}. */
static int l_stat(lua_State *L) { return start(L, STAT, &STAT_TYPE, "stat"); }

/* list_dir(path) -> the sorted names of its entries, without "." and "..". */
static int l_list_dir(lua_State *L) { return start(L, LIST_DIR, &LIST_TYPE, "list_dir"); }

void as__open_fs(lua_State *L) {
  static const luaL_Reg functions[] = {
    {"read_file", l_read_file},
    {"write_file", l_write_file},
    {"stat", l_stat},
    {"list_dir", l_list_dir},
    {NULL, NULL}
  };
  lua_newtable(L);
  as__set_boxed(L, functions);
  lua_setfield(L, -2, "fs");
}
