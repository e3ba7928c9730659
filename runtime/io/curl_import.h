/* curl_import.h -- libcurl, loaded on the first HTTP request instead of
 * linked: libcurl brings some thirty shared libraries (TLS, Kerberos, LDAP,
 * SSH...), and loading them cost every start of the program 13 ms, ten times
 * what Lua itself takes. http.c calls libcurl only through this table. */
#ifndef ASCHED_CURL_IMPORT_H
#define ASCHED_CURL_IMPORT_H

#include <curl/curl.h>

/* The libcurl functions http.c uses, under their names without `curl_`. */
typedef struct as_curl_api {
  CURLcode (*global_init)(long flags);
  CURL *(*easy_init)(void);
  void (*easy_cleanup)(CURL *easy);
  CURLcode (*easy_setopt)(CURL *easy, CURLoption option, ...);
  CURLcode (*easy_getinfo)(CURL *easy, CURLINFO info, ...);
  const char *(*easy_strerror)(CURLcode code);
  CURLM *(*multi_init)(void);
  CURLMcode (*multi_cleanup)(CURLM *multi);
  CURLMcode (*multi_setopt)(CURLM *multi, CURLMoption option, ...);
  CURLMcode (*multi_add_handle)(CURLM *multi, CURL *easy);
  CURLMcode (*multi_remove_handle)(CURLM *multi, CURL *easy);
  CURLMcode (*multi_assign)(CURLM *multi, curl_socket_t fd, void *data);
  CURLMcode (*multi_socket_action)(CURLM *multi, curl_socket_t fd, int events, int *running);
  CURLMsg *(*multi_info_read)(CURLM *multi, int *left);
  struct curl_slist *(*slist_append)(struct curl_slist *list, const char *line);
  void (*slist_free_all)(struct curl_slist *list);
} as_curl_api;

/* libcurl, loaded and initialised once (the first call; not thread-safe, as
 * curl_global_init is not). NULL when it cannot be: then *why says why. */
const as_curl_api *as__curl_import(const char **why);

#endif
