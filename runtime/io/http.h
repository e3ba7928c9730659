/* http.h -- an HTTP(S) client on the loop (http.c): libcurl's multi interface
 * driven by the loop's libuv. Owns the loop's CURLM handle, its socket polls
 * and its timer (an attachment of the loop). */
#ifndef ASCHED_HTTP_H
#define ASCHED_HTTP_H

#include <lua.h>
#include <stddef.h>

#include "loop.h"
#include "task.h"

/* A request; every string is the caller's and only read during the call. */
typedef struct as_http_request {
  const char *opname;        /* "http.get", "http.post", "http.request": for errors */
  const char *method, *url;
  const char *body;          /* or NULL: no body */
  size_t body_size;
  const char *const *header_names, *const *header_values;
  size_t header_count;
  long timeout_ms;           /* 0: none */
} as_http_request;

/* Starts `r` for the running task `t` and suspends it until the response is
 * in: then returns {status=, headers= (lower-cased names), body=}. A network
 * failure is an IOError (with `code`), an expired timeout a TimeoutError. */
int as__http_request(lua_State *L, as_loop *loop, as_task *t, const as_http_request *r);

#endif
