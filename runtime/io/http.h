/* http.h -- asched.http: a non-blocking HTTP(S) client, libcurl's multi
 * interface driven by the loop's libuv (http.c). Owns the loop's CURLM
 * handle, its socket polls and its timer. */
#ifndef ASCHED_HTTP_H
#define ASCHED_HTTP_H

#include <lua.h>

struct as_loop;

/* Adds the table `http` to the module table on top. */
void as__open_http(lua_State *L);

/* When the loop ends (before its handles are walked and closed): drops every
 * transfer left, cleans the multi handle up and closes the polls and timer,
 * which free themselves in their close callbacks. Harmless without requests. */
void as__http_close(struct as_loop *loop);

#endif
