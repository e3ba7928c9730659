/* console.h -- the REPL's terminal (console.c): read lines through the loop. */
#ifndef ASCHED_CONSOLE_H
#define ASCHED_CONSOLE_H

#include <lua.h>

/* Pushes open(): it makes the console for the running loop. */
void as__open_console(lua_State *L);

#endif
