/* errors.h -- asched's error objects: tables {name=, message=} sharing the
 * metatable "asched.Error" (registered by bindings/module.c), whose
 * __tostring gives "name: message". */
#ifndef ASCHED_ERRORS_H
#define ASCHED_ERRORS_H

#include <lua.h>

#define AS_ERROR_METATABLE "asched.Error"

/* Pushes a new error object; `fmt` as in lua_pushfstring. */
void as__error_push(lua_State *L, const char *name, const char *fmt, ...);

/* Raises a new error object. */
int as__error_raise(lua_State *L, const char *name, const char *fmt, ...);

/* True when the value at `idx` is an asched error named `name`. */
int as__error_is(lua_State *L, int idx, const char *name);

/* Pushes a printable message for any error value: tostring for strings,
 * numbers and values with __tostring (called in protected mode), else
 * "(error object is a T value)". */
const char *as__error_message(lua_State *L, int idx);

#endif
