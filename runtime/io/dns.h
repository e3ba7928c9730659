/* dns.h -- host names and addresses (dns.c): resolving a name on the libuv
 * pool (uv_getaddrinfo) while the calling task waits, and the two ways
 * between an address's text and its sockaddr that udp.c shares. */
#ifndef ASCHED_DNS_H
#define ASCHED_DNS_H

#include <lua.h>
#include <stddef.h>
#include <uv.h>

#include "loop.h"
#include "task.h"

/* The longest address text as__dns_address_name writes, NUL included. */
#define AS_ADDRESS_MAX 64

/* Resolves `host` for the running task `t`, which waits; then returns a list
 * of its addresses as strings (IPv4 and IPv6, in the resolver's order, each
 * once). An IOError "dns.resolve <host>: <reason>" with libuv's `code`
 * ("EAI_NONAME") when it fails. A cancelled caller lets go at once: a job
 * still queued is unqueued, one running is left to finish and free itself. */
int as__dns_resolve(lua_State *L, as_loop *loop, as_task *t, const char *host);

/* Fills `addr` from the numeric IPv4 or IPv6 address `host` ("::1",
 * "fe80::1%lo") and `port`; returns 0, or a libuv error. */
int as__dns_parse_address(const char *host, int port, struct sockaddr_storage *addr);

/* Writes the numeric text of `addr` (IPv4 or IPv6) into `name`, which holds
 * AS_ADDRESS_MAX bytes, and returns its port; an other family gives "" and 0. */
int as__dns_address_name(const struct sockaddr *addr, char name[AS_ADDRESS_MAX]);

#endif
