/* tcp.h -- TCP connections and listeners on the loop (tcp.c), and the same
 * Stream on a pipe to a child process. A Stream or Server userdata is a small
 * box pointing at a malloc'd connection or listener, whose libuv handle is
 * freed only in its close callback. */
#ifndef ASCHED_TCP_H
#define ASCHED_TCP_H

#include <lua.h>
#include <stddef.h>
#include <sys/socket.h>
#include <uv.h>

#include "loop.h"
#include "task.h"
#include "tls.h"

#define AS_STREAM_METATABLE "asched.Stream"
#define AS_SERVER_METATABLE "asched.Server"

struct as_conn;
struct as_listener;

/* The Stream userdata. */
typedef struct as_stream {
  struct as_conn *c;      /* NULL once closed */
} as_stream;

/* The Server userdata. */
typedef struct as_server {
  struct as_listener *l;  /* NULL once closed */
  int port;
} as_server;

typedef enum { AS_READ_ANY, AS_READ_LINE } as_read_mode;

/* Resolves `host` and connects to it for the running task `t`, which waits;
 * then returns a Stream. With `tls`, the stream is encrypted and the wait
 * lasts until the handshake has ended; a failed one (a certificate that does
 * not verify) is an IOError with code "EPROTO" naming the reason. An IOError
 * names "tcp.connect host:port". */
int as__tcp_connect(lua_State *L, as_loop *loop, as_task *t, const char *host, int port,
                    const as_tls_client_options *tls);

/* Listens on the numeric address `host` (IPv4 or IPv6; the caller checks it
 * with as__tcp_is_numeric) and `port` (0: any free one), running the
 * function at stack index `handler` as handler(stream) in a task of its own
 * per connection; with `reuseport`, as as__tcp_bind_listen says; with
 * `tls`, each connection is encrypted (its stream's first read or write
 * waits for the handshake). Pushes a Server, or raises an IOError. */
int as__tcp_listen(lua_State *L, as_loop *loop, const char *host, int port, int handler, int reuseport,
                   const as_tls_server_options *tls);

/* Binds `handle` to `addr` and listens, calling `on_connection` for each
 * client; with `reuseport` the socket gets SO_REUSEPORT first, so several
 * servers or processes share the port, the kernel spreading connections over
 * them. Returns the bound port (the one picked for port 0), or a libuv
 * error (negative). For tcp.listen and http.listen. */
int as__tcp_bind_listen(uv_tcp_t *handle, const struct sockaddr_storage *addr, int reuseport,
                        uv_connection_cb on_connection);

/* Pushes a new Stream on a pipe not yet open, for a child process's stdin,
 * stdout or stderr, and returns the pipe: uv_spawn opens it (UV_CREATE_PIPE);
 * until then the Stream reads and writes nothing. Raises when out of memory.
 * The pipe is one of the loop's sockets: closed when the run ends. */
uv_stream_t *as__stream_push_pipe(lua_State *L, as_loop *loop);

/* True when `host` is a numeric IPv4 or IPv6 address. */
int as__tcp_is_numeric(const char *host);

/* Reads from `s` for the running task `t`: AS_READ_ANY up to `n` bytes (0:
 * any number, at least one), AS_READ_LINE the next line without its "\n" or
 * "\r\n". Returns at once when the data is there, else waits. Returns nothing
 * at the end of the stream. IOError when it fails or is closed meanwhile. */
int as__stream_read(lua_State *L, as_loop *loop, as_task *t, as_stream *s, as_read_mode mode, size_t n);

/* Writes the `size` bytes of `data`; waits until they are handed to the kernel. */
int as__stream_write(lua_State *L, as_loop *loop, as_task *t, as_stream *s, const char *data, size_t size);

/* Closes the connection; a waiting reader ends with an IOError. Idempotent. */
void as__stream_close(as_stream *s);

/* The Stream userdata is being collected: closes, and forgets it. */
void as__stream_collect(as_stream *s);

/* True while the stream is open. */
int as__stream_is_open(const as_stream *s);

/* Stops accepting; connections already made go on. Idempotent. */
void as__server_close(as_server *srv);

/* Pushes the IOError of an operation on a closed stream. */
void as__stream_closed_error(lua_State *L, const char *opname);

#endif
