/* bindings.h -- what the files of the Lua module share: each file registers
 * its functions into the module table or its type's metatable. */
#ifndef ASCHED_BINDINGS_H
#define ASCHED_BINDINGS_H

#include <lua.h>

#include "task.h"

#ifndef ASCHED_VERSION
#define ASCHED_VERSION "0.0.0"
#endif

/* Raises a Lua argument error unless argument `arg` can be called. */
void as__check_callable(lua_State *L, int arg);

/* The Task at argument `arg`, or an argument error. */
as_task *as__check_task(lua_State *L, int arg);

/* Creates the Task metatable and adds `await` to the module table on top. */
void as__open_task(lua_State *L);

/* Adds sleep and now to the module table on top. */
void as__open_time(lua_State *L);

#endif
