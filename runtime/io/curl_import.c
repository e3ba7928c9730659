/* curl_import.c -- loads libcurl by its soname and looks up each function
 * of as_curl_api (see curl_import.h). */
#include "curl_import.h"

#include <dlfcn.h>
#include <stddef.h>

/* Debian's libcurl4 (OpenSSL or GnuTLS flavour) and libcurl3-gnutls. */
static const char *const sonames[] = {"libcurl.so.4", "libcurl-gnutls.so.4", NULL};

static as_curl_api api;
static const char *failure;
static int tried;

/* Sets api.member to libcurl's curl_<member>, or fails the load. POSIX lets
 * dlsym's object pointer be read as a function pointer this way. */
#define IMPORT(member)                                                   \
  do {                                                                   \
    if ((*(void **)&api.member = dlsym(lib, "curl_" #member)) == NULL)   \
      return dlerror();                                                  \
  } while (0)

static const char *load(void) {
  void *lib = NULL;
  size_t i;
  for (i = 0; lib == NULL && sonames[i] != NULL; i++) lib = dlopen(sonames[i], RTLD_NOW | RTLD_LOCAL);
  if (lib == NULL) return dlerror();
  IMPORT(global_init);
  IMPORT(easy_init);
  IMPORT(easy_cleanup);
  IMPORT(easy_setopt);
  IMPORT(easy_getinfo);
  IMPORT(easy_strerror);
  IMPORT(multi_init);
  IMPORT(multi_cleanup);
  IMPORT(multi_setopt);
  IMPORT(multi_add_handle);
  IMPORT(multi_remove_handle);
  IMPORT(multi_assign);
  IMPORT(multi_socket_action);
  IMPORT(multi_info_read);
  IMPORT(slist_append);
  IMPORT(slist_free_all);
  if (api.global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) return "curl_global_init failed";
  return NULL;
}

const as_curl_api *as__curl_import(const char **why) {
  if (!tried) {
    tried = 1;
    failure = load();
  }
  *why = failure;
  return failure == NULL ? &api : NULL;
}
