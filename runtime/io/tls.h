/* tls.h -- TLS over OpenSSL memory BIOs (tls.c): the engine of an encrypted
 * stream, with no socket of its own. The stream feeds it the bytes it reads
 * from the network and sends the bytes it produces (as__tls_flush); the
 * engine never blocks and never reads a descriptor, so the loop drives it
 * like any protocol. One engine per connection, owned by the connection,
 * freed with it. A configuration (an SSL_CTX) is reference-counted by
 * OpenSSL: freeing it while engines made from it live is safe. */
#ifndef ASCHED_TLS_H
#define ASCHED_TLS_H

#include <stddef.h>

#include <uv.h>

#include "buffer.h"

typedef struct as_tls as_tls;
typedef struct as_tls_config as_tls_config;

/* What a client checks; every field may be NULL/0. */
typedef struct as_tls_client_options {
  int verify;              /* check the peer's certificate and name (default on) */
  const char *ca;          /* a CA file instead of the system's store */
  const char *server_name; /* SNI and the name checked; default: the host */
} as_tls_client_options;

/* What a server presents: PEM files. */
typedef struct as_tls_server_options {
  const char *cert;        /* the certificate chain */
  const char *key;         /* its private key */
} as_tls_server_options;

/* A configuration: a client's (verification settings) or a server's
 * (certificate and key). NULL on failure, with a libuv error code in `*code`
 * (ENOENT, EACCES for a file it cannot read; EPROTO for one OpenSSL refuses)
 * and the reason in `err`: "cannot load the key (...)". */
as_tls_config *as__tls_client_config(const as_tls_client_options *o, int *code, char *err, size_t errlen);
as_tls_config *as__tls_server_config(const as_tls_server_options *o, int *code, char *err, size_t errlen);
void as__tls_config_free(as_tls_config *cfg);

/* An engine for one connection: a client one checks `host` (unless the
 * configuration says not to); a server one takes the host NULL. */
as_tls *as__tls_new(as_tls_config *cfg, const char *host);
void as__tls_free(as_tls *t);

typedef enum {
  AS_TLS_OK,        /* progress; see the buffers */
  AS_TLS_CLOSED,    /* the peer ended the session (close_notify) */
  AS_TLS_FAILED     /* as__tls_error says why */
} as_tls_status;

/* Ciphertext from the network goes in; the handshake advances, and any
 * plaintext now readable is appended to `plain`. What the engine has to send
 * (handshake records, alerts) is then waiting for as__tls_flush. */
as_tls_status as__tls_receive(as_tls *t, const char *data, size_t n, as_buffer *plain);

/* Starts the handshake (a client's first flight goes to the output). */
as_tls_status as__tls_start(as_tls *t);

/* True once the handshake has completed. */
int as__tls_ready(const as_tls *t);

/* Plaintext to send: encrypted into the output. */
as_tls_status as__tls_send(as_tls *t, const char *data, size_t n);

/* Hands what the engine has to send to `s` (uv_write: in order with any
 * earlier write). With `done`, calls done(data, status) once it is written,
 * even when there was nothing to send; without, sends only what there is.
 * Returns 0, or a libuv error (then `done` is never called). */
typedef void (*as_tls_sent)(void *data, int status);
int as__tls_flush(as_tls *t, uv_stream_t *s, as_tls_sent done, void *data);

/* A clean end: once the handshake has completed, a close_notify alert goes
 * to `s`, if the socket takes it now (the caller closes the stream next). */
void as__tls_close(as_tls *t, uv_stream_t *s);

/* Why the engine failed: "certificate verify failed (self-signed
 * certificate)", "handshake failed (...)". */
const char *as__tls_error(const as_tls *t);

#endif
