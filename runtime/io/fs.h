/* fs.h -- asched.fs: files on the libuv thread pool (fs.c). */
#ifndef ASCHED_FS_H
#define ASCHED_FS_H

#include <lua.h>

/* Adds the table `fs` to the module table on top. */
void as__open_fs(lua_State *L);

#endif
