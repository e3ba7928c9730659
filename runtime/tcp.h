/* tcp.h -- asched.tcp: connect, listen and streams on the loop (tcp.c). */
#ifndef ASCHED_TCP_H
#define ASCHED_TCP_H

#include <lua.h>

/* Adds the table `tcp` to the module table on top. */
void as__open_tcp(lua_State *L);

#endif
