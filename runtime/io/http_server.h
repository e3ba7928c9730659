/* http_server.h -- asched.http.listen: an HTTP/1.1 server on uv_tcp, parsing
 * with Debian's http-parser (http_server.c). One task per request, running
 * the handler; responses go out in request order per connection (pipelining)
 * while their handlers may run concurrently. An HttpServer userdata is a
 * small box pointing at a malloc'd listener, whose libuv handle is freed only
 * in its close callback; connections are malloc'd and freed the same way. */
#ifndef ASCHED_HTTP_SERVER_H
#define ASCHED_HTTP_SERVER_H

#include <lua.h>
#include <stddef.h>
#include <stdint.h>

#include "loop.h"
#include "tls.h"

#define AS_HTTP_SERVER_METATABLE "asched.HttpServer"

struct as_http_listener;

/* The HttpServer userdata. */
typedef struct as_http_server {
  struct as_http_listener *l;   /* NULL once closed */
  int port;
} as_http_server;

typedef struct as_http_options {
  size_t max_body;       /* bytes; a larger body gets 413 */
  uint64_t timeout;      /* ns a handler may run before the client gets 503, a
                          * request may take to arrive, a connection may idle;
                          * AS_NEVER: no deadline */
  int reuseport;         /* SO_REUSEPORT: several processes serve one port */
} as_http_options;

/* Listens on the numeric address `host` and `port` (0: any free one),
 * running the function at stack index `handler` as handler(req) in a task of
 * its own per request; with `tls`, serving HTTPS. Pushes an HttpServer, or
 * raises an IOError naming "http.listen host:port". */
int as__http_listen(lua_State *L, as_loop *loop, const char *host, int port, int handler,
                    const as_http_options *opts, const as_tls_server_options *tls);

/* Stops accepting at once; requests in flight finish, then their
 * connections close; idle keep-alive connections close now. Idempotent. */
void as__http_server_close(as_http_server *srv);

#endif
