/* fs.h -- files on the libuv thread pool (fs.c): one job per call, run whole
 * on a pool thread while the calling task waits and the loop runs on. */
#ifndef ASCHED_FS_H
#define ASCHED_FS_H

#include <lua.h>
#include <stddef.h>

#include "loop.h"
#include "task.h"

typedef enum { AS_FS_READ_FILE, AS_FS_WRITE_FILE, AS_FS_STAT, AS_FS_LIST_DIR } as_fs_kind;

/* Starts job `kind` on `path` (writing the `size` bytes of `data`) for the
 * running task `t` and suspends it. `opname`, a static string such as
 * "fs.read_file", names the operation in its IOError. Its results:
 * read_file the contents; write_file none; stat {size=, type=, mode=,
 * mtime=}; list_dir the sorted names without "." and "..". Raises (memory)
 * before anything is queued. */
int as__fs_start(lua_State *L, as_loop *loop, as_task *t, as_fs_kind kind, const char *path,
                 const char *data, size_t size, const char *opname);

#endif
