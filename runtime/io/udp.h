/* udp.h -- UDP sockets on the loop (udp.c). A Socket userdata is a small box
 * pointing at a malloc'd socket, whose libuv handle is freed only in its
 * close callback; the loop's end closes every socket still open. */
#ifndef ASCHED_UDP_H
#define ASCHED_UDP_H

#include <lua.h>
#include <stddef.h>

#include "loop.h"
#include "task.h"

#define AS_SOCKET_METATABLE "asched.Socket"

/* Datagrams a socket keeps for recv() while no task waits in it. At this
 * many it stops reading: later ones wait in the kernel's receive buffer, and
 * once that is full the kernel drops them, as UDP does. */
#define AS_UDP_QUEUE_MAX 1024

/* The largest datagram: the UDP length field's limit. */
#define AS_UDP_DATAGRAM_MAX 65535

struct as_udp;

/* The Socket userdata. */
typedef struct as_socket {
  struct as_udp *u;       /* NULL once closed */
  int port;
} as_socket;

/* Binds a UDP socket to the numeric address `host` (IPv4 or IPv6; the caller
 * checks it) and `port` (0: any free one) and starts queueing what arrives.
 * Pushes a Socket, or raises an IOError "udp.bind host:port". */
int as__udp_bind(lua_State *L, as_loop *loop, const char *host, int port);

/* Sends the `size` bytes of `data` as one datagram to `host` (a numeric
 * address, or a name resolved in the socket's family) and `port`, for the
 * running task `t`, which waits until the datagram is handed to the kernel.
 * IOError "socket.send host:port" when it fails or the socket is closed. A
 * cancelled sender lets go: a datagram already handed to libuv goes out, one
 * whose destination is still being resolved never does. */
int as__socket_send(lua_State *L, as_loop *loop, as_task *t, as_socket *s, const char *data, size_t size,
                    const char *host, int port);

/* Returns the next datagram for the running task `t` as `data, host, port`:
 * at once when one is queued, else it waits (tasks waiting on one socket are
 * served in order). IOError when the socket is closed, or closes meanwhile. */
int as__socket_recv(lua_State *L, as_loop *loop, as_task *t, as_socket *s);

/* Closes the socket; waiting receivers end with an IOError. Idempotent. */
void as__socket_close(as_socket *s);

/* The Socket userdata is being collected: closes, and forgets it. */
void as__socket_collect(as_socket *s);

/* True while the socket is open. */
int as__socket_is_open(const as_socket *s);

#endif
