/* tls.c -- TLS over OpenSSL memory BIOs (see tls.h). Each engine owns its SSL
 * and, through it, its two memory BIOs; a configuration owns its SSL_CTX
 * (reference-counted by OpenSSL, so an engine outlives the config safely).
 * A write of ciphertext owns its bytes until libuv has written them. */
#include "tls.h"

#include <errno.h>
#include <limits.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define RECORD_MAX 16384   /* the most plaintext one TLS record carries */

struct as_tls_config {
  SSL_CTX *ctx;
  int verify;
  char server_name[256];  /* "" : the host */
};

struct as_tls {
  SSL *ssl;
  BIO *in, *out;          /* network -> SSL, SSL -> network */
  int ready;
  int verify;
  char error[256];
};

/* "<what> (<OpenSSL's reason>)", from its error queue, which is emptied. */
static void openssl_reason(char *err, size_t errlen, const char *what) {
  unsigned long e = ERR_peek_last_error();
  const char *reason = e ? ERR_reason_error_string(e) : NULL;
  snprintf(err, errlen, "%s (%s)", what, reason ? reason : "unknown reason");
  ERR_clear_error();
}

static as_tls_config *config_new(const SSL_METHOD *method, int *code, char *err, size_t errlen) {
  as_tls_config *cfg = calloc(1, sizeof *cfg);
  if (cfg == NULL || (cfg->ctx = SSL_CTX_new(method)) == NULL) {
    *code = UV_ENOMEM;
    openssl_reason(err, errlen, "cannot make a TLS context");
    free(cfg);
    return NULL;
  }
  SSL_CTX_set_min_proto_version(cfg->ctx, TLS1_2_VERSION);
  return cfg;
}

/* Can the file be read? Else its error, and the reason `what`. */
static int readable(const char *path, const char *what, int *code, char *err, size_t errlen) {
  FILE *f = fopen(path, "rb");
  if (f != NULL) {                  /* a directory opens, and fails to read */
    int failed = getc(f) == EOF && ferror(f);
    int error = errno;
    fclose(f);
    if (!failed) return 1;
    errno = error;
  }
  *code = uv_translate_sys_error(errno);
  snprintf(err, errlen, "%s %s (%s)", what, path, uv_strerror(*code));
  return 0;
}

/* OpenSSL refused what `what` names: EPROTO, and its reason. */
static as_tls_config *refused(as_tls_config *cfg, const char *what, int *code, char *err, size_t errlen) {
  *code = UV_EPROTO;
  openssl_reason(err, errlen, what);
  as__tls_config_free(cfg);
  return NULL;
}

as_tls_config *as__tls_client_config(const as_tls_client_options *o, int *code, char *err, size_t errlen) {
  as_tls_config *cfg;
  if (o->verify && o->ca && !readable(o->ca, "cannot read the CA file", code, err, errlen)) return NULL;
  cfg = config_new(TLS_client_method(), code, err, errlen);
  if (cfg == NULL) return NULL;
  cfg->verify = o->verify;
  if (o->server_name) snprintf(cfg->server_name, sizeof cfg->server_name, "%s", o->server_name);
  if (!o->verify) {
    SSL_CTX_set_verify(cfg->ctx, SSL_VERIFY_NONE, NULL);
    return cfg;
  }
  if (o->ca ? SSL_CTX_load_verify_locations(cfg->ctx, o->ca, NULL) != 1
            : SSL_CTX_set_default_verify_paths(cfg->ctx) != 1)
    return refused(cfg, o->ca ? "cannot load the CA file" : "cannot load the system's certificates", code,
                   err, errlen);
  SSL_CTX_set_verify(cfg->ctx, SSL_VERIFY_PEER, NULL);
  return cfg;
}

as_tls_config *as__tls_server_config(const as_tls_server_options *o, int *code, char *err, size_t errlen) {
  as_tls_config *cfg;
  if (!readable(o->cert, "cannot read the certificate", code, err, errlen) ||
      !readable(o->key, "cannot read the key", code, err, errlen))
    return NULL;
  cfg = config_new(TLS_server_method(), code, err, errlen);
  if (cfg == NULL) return NULL;
  if (SSL_CTX_use_certificate_chain_file(cfg->ctx, o->cert) != 1)
    return refused(cfg, "cannot load the certificate", code, err, errlen);
  if (SSL_CTX_use_PrivateKey_file(cfg->ctx, o->key, SSL_FILETYPE_PEM) != 1)
    return refused(cfg, "cannot load the key", code, err, errlen);
  if (SSL_CTX_check_private_key(cfg->ctx) != 1)
    return refused(cfg, "the key does not match the certificate", code, err, errlen);
  /* No session tickets: nothing here resumes sessions, and tickets a client
   * never reads make its kernel answer its close with a reset, so the
   * server would see ECONNRESET instead of the end of the stream. */
  SSL_CTX_set_num_tickets(cfg->ctx, 0);
  return cfg;
}

void as__tls_config_free(as_tls_config *cfg) {
  if (cfg == NULL) return;
  SSL_CTX_free(cfg->ctx);
  free(cfg);
}

/* A numeric address is checked as an IP, and sent no SNI. */
static int is_ip(const char *host) {
  ASN1_OCTET_STRING *ip = a2i_IPADDRESS(host);
  if (ip == NULL) return 0;
  ASN1_OCTET_STRING_free(ip);
  return 1;
}

as_tls *as__tls_new(as_tls_config *cfg, const char *host) {
  as_tls *t = calloc(1, sizeof *t);
  if (t == NULL) return NULL;
  t->ssl = SSL_new(cfg->ctx);
  t->in = BIO_new(BIO_s_mem());
  t->out = BIO_new(BIO_s_mem());
  if (t->ssl == NULL || t->in == NULL || t->out == NULL) {
    BIO_free(t->in);
    BIO_free(t->out);
    SSL_free(t->ssl);
    free(t);
    ERR_clear_error();
    return NULL;
  }
  SSL_set_bio(t->ssl, t->in, t->out);   /* the SSL owns them now */
  t->verify = cfg->verify;
  if (host == NULL) {
    SSL_set_accept_state(t->ssl);
    return t;
  }
  SSL_set_connect_state(t->ssl);
  if (cfg->server_name[0]) host = cfg->server_name;
  if (!is_ip(host)) SSL_set_tlsext_host_name(t->ssl, host);
  if (cfg->verify) {
    if (is_ip(host)) X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(t->ssl), host);
    else SSL_set1_host(t->ssl, host);
  }
  return t;
}

void as__tls_free(as_tls *t) {
  if (t == NULL) return;
  SSL_free(t->ssl);
  free(t);
}

/* Why the last operation failed, into t->error. */
static as_tls_status failed(as_tls *t, int ret) {
  long verify = SSL_get_verify_result(t->ssl);
  if (t->verify && verify != X509_V_OK) {
    snprintf(t->error, sizeof t->error, "certificate verify failed (%s)", X509_verify_cert_error_string(verify));
  } else {
    int e = SSL_get_error(t->ssl, ret);
    openssl_reason(t->error, sizeof t->error,
                   t->ready ? "TLS failed" : (e == SSL_ERROR_SYSCALL ? "handshake failed: the peer went away" : "handshake failed"));
  }
  ERR_clear_error();
  return AS_TLS_FAILED;
}

static as_tls_status handshake(as_tls *t) {
  int ret;
  if (t->ready) return AS_TLS_OK;
  ret = SSL_do_handshake(t->ssl);
  if (ret == 1) {
    t->ready = 1;
    return AS_TLS_OK;
  }
  if (SSL_get_error(t->ssl, ret) == SSL_ERROR_WANT_READ) return AS_TLS_OK;
  return failed(t, ret);
}

as_tls_status as__tls_start(as_tls *t) { return handshake(t); }

int as__tls_ready(const as_tls *t) { return t->ready; }

as_tls_status as__tls_receive(as_tls *t, const char *data, size_t n, as_buffer *plain) {
  as_tls_status status;
  if (n > INT_MAX || (n > 0 && BIO_write(t->in, data, (int)n) != (int)n)) {
    snprintf(t->error, sizeof t->error, "not enough memory");
    return AS_TLS_FAILED;
  }
  status = handshake(t);
  if (status != AS_TLS_OK || !t->ready) return status;
  for (;;) {           /* straight into `plain`: one record at most each time */
    int got;
    if (as_buffer_reserve(plain, RECORD_MAX) != 0) {
      snprintf(t->error, sizeof t->error, "not enough memory");
      return AS_TLS_FAILED;
    }
    got = SSL_read(t->ssl, plain->data + plain->size, RECORD_MAX);
    if (got > 0) {
      plain->size += (size_t)got;
      continue;
    }
    switch (SSL_get_error(t->ssl, got)) {
      case SSL_ERROR_WANT_READ: return AS_TLS_OK;
      case SSL_ERROR_ZERO_RETURN: return AS_TLS_CLOSED;
      default: return failed(t, got);
    }
  }
}

as_tls_status as__tls_send(as_tls *t, const char *data, size_t n) {
  while (n > 0) {
    int chunk = n > 1 << 30 ? 1 << 30 : (int)n;
    int sent = SSL_write(t->ssl, data, chunk);
    if (sent <= 0) return failed(t, sent);
    data += sent;
    n -= (size_t)sent;
  }
  return AS_TLS_OK;
}

/* One write of ciphertext: the request and its bytes, freed when written. */
typedef struct tls_write {
  uv_write_t req;
  as_tls_sent done;
  void *data;
  char bytes[];
} tls_write;

static void on_written(uv_write_t *req, int status) {
  tls_write *w = req->data;
  if (w->done) w->done(w->data, status);
  free(w);
}

int as__tls_flush(as_tls *t, uv_stream_t *s, as_tls_sent done, void *data) {
  size_t pending = BIO_ctrl_pending(t->out);
  tls_write *w;
  uv_buf_t buf;
  int status;
  if (pending == 0 && done == NULL) return 0;
  w = malloc(sizeof *w + (pending ? pending : 1));
  if (w == NULL) return UV_ENOMEM;
  buf.base = w->bytes;
  buf.len = 0;
  while (buf.len < pending) {   /* BIO_read takes an int */
    size_t chunk = pending - buf.len > INT_MAX ? INT_MAX : pending - buf.len;
    int got = BIO_read(t->out, w->bytes + buf.len, (int)chunk);
    if (got <= 0) break;
    buf.len += (size_t)got;
  }
  w->req.data = w;
  w->done = done;
  w->data = data;
  status = uv_write(&w->req, s, &buf, 1, on_written);
  if (status != 0) free(w);
  return status;
}

void as__tls_close(as_tls *t, uv_stream_t *s) {
  if (!t->ready) return;
  SSL_shutdown(t->ssl);
  ERR_clear_error();
  as__tls_flush(t, s, NULL, NULL);
}

const char *as__tls_error(const as_tls *t) { return t->error; }
