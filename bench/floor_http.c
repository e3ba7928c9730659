/* floor_http.c -- W9's floor: the least an HTTP server on libuv and
 * http-parser can do per request, with no Lua, no tasks and no scheduler.
 * Each request is parsed (Debian's http-parser, as asched's server does) and
 * answered with 200 "Hello, World!" from inside the read callback, with one
 * write attempted at once (uv_try_write). A write that does not go out whole
 * ends the connection: wrk's responses always fit the socket's buffer.
 *   bench_floor_http SECONDS
 * Prints port=<port> once listening on 127.0.0.1 (a free port), serves for
 * SECONDS, and prints result=<requests answered>, as the W9 servers do.
 * Under bench/run it shows what wrk on one core can count at all on this
 * machine: no server can be measured faster than this. */
#include <http_parser.h>
#include <stdio.h>
#include <stdlib.h>
#include <uv.h>

static const char response[] =
    "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 13\r\nConnection: keep-alive\r\n\r\n"
    "Hello, World!";

typedef struct conn {
  uv_tcp_t handle;
  http_parser parser;
  int failed;
} conn;

static http_parser_settings settings;
static long long answered;
static char buffer[65536];   /* one read at a time: parsed before the next */

static void closed(uv_handle_t *h) { free(h->data); }

static void end(conn *c) {
  if (!uv_is_closing((uv_handle_t *)&c->handle)) uv_close((uv_handle_t *)&c->handle, closed);
}

static int on_message_complete(http_parser *p) {
  conn *c = p->data;
  uv_buf_t buf = uv_buf_init((char *)response, sizeof response - 1);
  if (uv_try_write((uv_stream_t *)&c->handle, &buf, 1) != (int)buf.len) {
    c->failed = 1;
    return 1;
  }
  answered++;
  return 0;
}

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf) {
  (void)h;
  (void)suggested;
  *buf = uv_buf_init(buffer, sizeof buffer);
}

static void on_read(uv_stream_t *s, ssize_t n, const uv_buf_t *buf) {
  conn *c = s->data;
  if (n < 0) {
    end(c);
    return;
  }
  if ((size_t)n != http_parser_execute(&c->parser, &settings, buf->base, (size_t)n) || c->failed) end(c);
}

static void on_connection(uv_stream_t *server, int status) {
  conn *c;
  if (status != 0 || (c = calloc(1, sizeof *c)) == NULL) return;
  uv_tcp_init(server->loop, &c->handle);
  c->handle.data = c;
  if (uv_accept(server, (uv_stream_t *)&c->handle) != 0) {
    end(c);
    return;
  }
  uv_tcp_nodelay(&c->handle, 1);
  http_parser_init(&c->parser, HTTP_REQUEST);
  c->parser.data = c;
  uv_read_start((uv_stream_t *)&c->handle, on_alloc, on_read);
}

static void close_any(uv_handle_t *h, void *arg) {
  (void)arg;
  if (h->data != NULL) end(h->data);                            /* a connection */
  else if (!uv_is_closing(h)) uv_close(h, NULL);                /* the listener, the timer */
}

static void stop(uv_timer_t *t) { uv_walk(t->loop, close_any, NULL); }

int main(int argc, char **argv) {
  uv_loop_t *loop = uv_default_loop();
  uv_tcp_t server;
  uv_timer_t timer;
  struct sockaddr_in addr;
  int len = sizeof addr;
  double seconds = argc > 1 ? atof(argv[1]) : 10;
  settings.on_message_complete = on_message_complete;
  uv_tcp_init(loop, &server);
  server.data = NULL;
  uv_ip4_addr("127.0.0.1", 0, &addr);
  if (uv_tcp_bind(&server, (const struct sockaddr *)&addr, 0) != 0 ||
      uv_listen((uv_stream_t *)&server, 511, on_connection) != 0 ||
      uv_tcp_getsockname(&server, (struct sockaddr *)&addr, &len) != 0)
    return 1;
  printf("port=%d\n", ntohs(addr.sin_port));
  fflush(stdout);
  uv_timer_init(loop, &timer);
  timer.data = NULL;
  uv_timer_start(&timer, stop, (uint64_t)(seconds * 1000), 0);
  uv_run(loop, UV_RUN_DEFAULT);
  printf("result=%lld\n", answered);
  return uv_loop_close(loop) == 0 ? 0 : 1;
}
