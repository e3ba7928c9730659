/* fs.c -- asched.fs's jobs: read_file, write_file, stat and list_dir, each
 * run whole on the libuv thread pool (the pool libuv's own file operations
 * use) while the calling task waits. A cancelled caller lets go: a job still
 * queued is unqueued, a running one finishes and is dropped. Owns its jobs. */
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

#include "buffer.h"
#include "io_op.h"

typedef struct fs_job {
  as_io_op op;
  uv_work_t req;
  as_fs_kind kind;
  const char *opname;  /* static */
  char *path;
  as_buffer data;      /* read: the contents; write: what to write; list: names, NUL-separated */
  int error;           /* a libuv error code (-errno), or 0 */
  struct stat st;
} fs_job;

/* ---- on a pool thread ---- */

static int read_all(fs_job *j) {
  int fd = open(j->path, O_RDONLY | O_CLOEXEC), e = 0;
  if (fd < 0) return -errno;
  if (fstat(fd, &j->st) != 0) e = -errno;
  else if (S_ISDIR(j->st.st_mode)) e = UV_EISDIR;
  else if (as_buffer_reserve(&j->data, j->st.st_size > 0 ? (size_t)j->st.st_size + 1 : 4096) != 0) e = UV_ENOMEM;
  while (e == 0) {
    ssize_t n;
    if (j->data.size == j->data.capacity && as_buffer_reserve(&j->data, j->data.capacity) != 0) {
      e = UV_ENOMEM;
      break;
    }
    n = read(fd, j->data.data + j->data.size, j->data.capacity - j->data.size);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) e = -errno;
    if (n <= 0) break;
    j->data.size += (size_t)n;
  }
  close(fd);
  return e;
}

static int write_all(fs_job *j) {
  int fd = open(j->path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
  size_t done = 0;
  if (fd < 0) return -errno;
  while (done < j->data.size) {
    ssize_t n = write(fd, j->data.data + done, j->data.size - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      int e = -errno;
      close(fd);
      return e;
    }
    done += (size_t)n;
  }
  return close(fd) == 0 ? 0 : -errno;
}

static int list_all(fs_job *j) {
  DIR *dir = opendir(j->path);
  struct dirent *entry;
  int e = 0;
  if (dir == NULL) return -errno;
  while ((entry = readdir(dir)) != NULL) {
    if (strcmp(entry->d_name, ".") == 0 || strcmp(entry->d_name, "..") == 0) continue;
    if (as_buffer_append(&j->data, entry->d_name, strlen(entry->d_name) + 1) != 0) {
      e = UV_ENOMEM;
      break;
    }
  }
  closedir(dir);
  return e;
}

static void work(uv_work_t *req) {
  fs_job *j = req->data;
  switch (j->kind) {
    case AS_FS_READ_FILE: j->error = read_all(j); break;
    case AS_FS_WRITE_FILE: j->error = write_all(j); break;
    case AS_FS_STAT: j->error = stat(j->path, &j->st) == 0 ? 0 : -errno; break;
    case AS_FS_LIST_DIR: j->error = list_all(j); break;
  }
}

/* ---- on the loop thread ---- */

static void after_work(uv_work_t *req, int status) {
  fs_job *j = req->data;
  if (status == UV_ECANCELED) j->error = UV_ECANCELED;
  as__io_op_finish(&j->op);
}

static void release(as_io_op *op) {
  fs_job *j = (fs_job *)op;
  free(j->path);
  as_buffer_free(&j->data);
  free(j);
}

static void abort_job(as_io_op *op) {
  uv_cancel((uv_req_t *)&((fs_job *)op)->req);   /* fails harmlessly once it runs */
}

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
  for (at = 0; at < j->data.size; at += strlen(j->data.data + at) + 1) count++;
  names = malloc((count ? count : 1) * sizeof *names);
  if (names == NULL) luaL_error(L, "not enough memory");
  for (at = 0, i = 0; at < j->data.size; at += strlen(j->data.data + at) + 1) names[i++] = j->data.data + at;
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

static int push_result(lua_State *L, as_io_op *op) {
  fs_job *j = (fs_job *)op;
  if (j->error != 0) {
    as__io_error_push(L, j->error, "%s %s", j->opname, j->path);
    return AS_IO_FAILED;
  }
  switch (j->kind) {
    case AS_FS_READ_FILE: lua_pushlstring(L, j->data.data ? j->data.data : "", j->data.size); return 1;
    case AS_FS_WRITE_FILE: return 0;
    case AS_FS_STAT: push_stat(L, &j->st); return 1;
    case AS_FS_LIST_DIR: push_names(L, j); return 1;
  }
  return 0;
}

static const as_io_op_type job_types[] = {
  [AS_FS_READ_FILE] = {AS_IO_WAIT("io"), "reading a file", push_result, abort_job, release},
  [AS_FS_WRITE_FILE] = {AS_IO_WAIT("io"), "writing a file", push_result, abort_job, release},
  [AS_FS_STAT] = {AS_IO_WAIT("io"), "reading a file's status", push_result, abort_job, release},
  [AS_FS_LIST_DIR] = {AS_IO_WAIT("io"), "listing a directory", push_result, abort_job, release},
};

int as__fs_start(lua_State *L, as_loop *loop, as_task *t, as_fs_kind kind, const char *path,
                 const char *data, size_t size, const char *opname) {
  fs_job *j = calloc(1, sizeof *j);
  int status;
  if (j == NULL || (j->path = strdup(path)) == NULL || (data && as_buffer_append(&j->data, data, size) != 0)) {
    if (j) release(&j->op);
    return luaL_error(L, "not enough memory");
  }
  j->kind = kind;
  j->opname = opname;
  j->req.data = j;
  as__io_op_init(&j->op, &job_types[kind], loop);
  status = uv_queue_work(&loop->uv, &j->req, work, after_work);
  if (status != 0) {
    release(&j->op);
    as__io_error_push(L, status, "%s %s", opname, path);
    return lua_error(L);
  }
  return as__io_op_wait(L, &j->op, t);
}
