/* tcp.h -- asched.tcp: connect, listen and streams on the loop (tcp.c). */
#ifndef ASCHED_TCP_H
#define ASCHED_TCP_H

#include <lua.h>

struct as_loop;

/* The run is ending: closes every connection and listener of `loop`. */
void as__tcp_close_all(struct as_loop *loop);

/* Adds the table `tcp` to the module table on top. */
void as__open_tcp(lua_State *L);

#endif
