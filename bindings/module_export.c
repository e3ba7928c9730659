/* module_export.c -- the only source of the asched.so product: naming
 * luaopen_asched makes the linker take it, and all it uses, from the core. */
#include <lua.h>

LUAMOD_API int luaopen_asched(lua_State *L);

int (*const as__module_entry)(lua_State *L) = luaopen_asched;
