/* dns.c (bindings) -- asched.dns: resolve; the Lua face of io/dns.c. Also
 * the check every function that takes a host name uses. */
#include <string.h>

#include "bindings.h"
#include "dns.h"

const char *as__check_host(lua_State *L, int arg) {
  size_t len;
  const char *host = as__check_string(L, arg, &len);
  if (strlen(host) != len) as__arg_error(L, arg, "host name contains a zero byte");
  return host;
}

/* resolve(host) -> the list of its addresses (strings). Suspends. */
static int l_resolve(lua_State *L) {
  const char *host = as__check_host(L, 1);
  return as__dns_resolve(L, as__loop(L), as__current_task(L), host);
}

void as__open_dns(lua_State *L) {
  static const luaL_Reg functions[] = {{"resolve", l_resolve}, {NULL, NULL}};
  lua_newtable(L);
  as__register(L, functions);
  lua_setfield(L, -2, "dns");
}
