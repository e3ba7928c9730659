/* marshal.h -- copying values from one Lua state to another as bytes: nil,
 * booleans, numbers, strings and tables of those (no cycles, nesting up to
 * AS_MARSHAL_DEPTH). Usable on any thread; touches only the states given. */
#ifndef ASCHED_MARSHAL_H
#define ASCHED_MARSHAL_H

#include <lua.h>

#include "buffer.h"

#define AS_MARSHAL_DEPTH 100

/* Appends the `n` values from stack index `first` to `out`. Returns 0; or,
 * when a value cannot be copied, the (1-based) number of the value it is in,
 * with a description pushed, such as "args[2].cb is a function" (`root`
 * names the list; values count from `base`); or -1 when out of memory. */
int as__marshal_write(lua_State *L, int first, int n, as_buffer *out, const char *root, int base);

/* Pushes the values that `as__marshal_write` wrote in `data`; returns how
 * many. Raises on bytes it did not write. */
int as__marshal_read(lua_State *L, const char *data, size_t size);

#endif
