/* marshal.c -- values as bytes (see marshal.h). A tag byte per value; numbers
 * and lengths in the host's own representation (both ends are this process). */
#include "marshal.h"

#include <lauxlib.h>
#include <string.h>

enum { TAG_NIL = 'n', TAG_FALSE = 'f', TAG_TRUE = 't', TAG_INTEGER = 'i', TAG_FLOAT = 'd',
       TAG_STRING = 's', TAG_TABLE = '{', TAG_END = '}' };

enum { WRITE_OK = 0, WRITE_REFUSED = 1, WRITE_NOMEM = 2 };

typedef struct writer {
  lua_State *L;
  as_buffer *out;
  int seen;                    /* stack index of a table: tables being copied */
  int keys[AS_MARSHAL_DEPTH];  /* stack index of the key being copied at each depth */
  int depth;
  const char *root;            /* "args" or "results" */
  int root_index;              /* which argument or result */
} writer;

static int add(writer *w, const void *bytes, size_t n) {
  return as_buffer_append(w->out, bytes, n) == 0 ? WRITE_OK : WRITE_NOMEM;
}

static int add_tag(writer *w, char tag) { return add(w, &tag, 1); }

/* Pushes the path of the value being copied, e.g. "args[2].cb". */
static void push_path(writer *w) {
  lua_State *L = w->L;
  luaL_Buffer b;
  int i;
  luaL_buffinit(L, &b);
  lua_pushfstring(L, "%s[%d]", w->root, w->root_index);
  luaL_addvalue(&b);
  for (i = 0; i < w->depth; i++) {
    int k = w->keys[i];
    if (lua_type(L, k) == LUA_TSTRING) {
      const char *s = lua_tostring(L, k);
      int identifier = (s[0] == '_' || (s[0] | 32) >= 'a') && (s[0] | 32) <= 'z';
      for (const char *p = s; identifier && *p; p++)
        identifier = *p == '_' || ((*p | 32) >= 'a' && (*p | 32) <= 'z') || (*p >= '0' && *p <= '9');
      lua_pushfstring(L, identifier ? ".%s" : "[\"%s\"]", s);
    } else {
      lua_pushfstring(L, "[%s]", luaL_tolstring(L, k, NULL));
      lua_remove(L, -2);
    }
    luaL_addvalue(&b);
  }
  luaL_pushresult(&b);
}

/* A value that cannot be copied: leaves "<path> <what>" on the stack. */
static int refuse(writer *w, int idx, const char *what) {
  lua_State *L = w->L;
  push_path(w);
  if (what) lua_pushfstring(L, "%s %s", lua_tostring(L, -1), what);
  else lua_pushfstring(L, "%s is a %s", lua_tostring(L, -1), luaL_typename(L, idx));
  lua_remove(L, -2);
  return WRITE_REFUSED;
}

static int write_value(writer *w, int idx);

static int write_table(writer *w, int idx) {
  lua_State *L = w->L;
  int status;
  lua_pushvalue(L, idx);
  if (lua_rawget(L, w->seen) != LUA_TNIL) {
    lua_pop(L, 1);
    return refuse(w, idx, "is a table that contains itself");
  }
  lua_pop(L, 1);
  if (w->depth == AS_MARSHAL_DEPTH) return refuse(w, idx, "is a table nested too deeply");
  if (!lua_checkstack(L, 4)) return WRITE_NOMEM;
  lua_pushvalue(L, idx);
  lua_pushboolean(L, 1);
  lua_rawset(L, w->seen);
  if ((status = add_tag(w, TAG_TABLE)) != WRITE_OK) return status;
  lua_pushnil(L);
  while (lua_next(L, idx)) {
    w->keys[w->depth++] = lua_absindex(L, -2);
    if ((status = write_value(w, -2)) != WRITE_OK || (status = write_value(w, -1)) != WRITE_OK) {
      /* the description is on top: keep it, drop the key and value */
      if (status == WRITE_REFUSED) lua_replace(L, -3);
      lua_pop(L, status == WRITE_REFUSED ? 1 : 2);
      return status;
    }
    w->depth--;
    lua_pop(L, 1);
  }
  lua_pushvalue(L, idx);
  lua_pushnil(L);
  lua_rawset(L, w->seen);
  return add_tag(w, TAG_END);
}

static int write_value(writer *w, int idx) {
  lua_State *L = w->L;
  int status;
  idx = lua_absindex(L, idx);
  switch (lua_type(L, idx)) {
    case LUA_TNIL: return add_tag(w, TAG_NIL);
    case LUA_TBOOLEAN: return add_tag(w, lua_toboolean(L, idx) ? TAG_TRUE : TAG_FALSE);
    case LUA_TNUMBER:
      if (lua_isinteger(L, idx)) {
        lua_Integer i = lua_tointeger(L, idx);
        if ((status = add_tag(w, TAG_INTEGER)) != WRITE_OK) return status;
        return add(w, &i, sizeof i);
      } else {
        lua_Number d = lua_tonumber(L, idx);
        if ((status = add_tag(w, TAG_FLOAT)) != WRITE_OK) return status;
        return add(w, &d, sizeof d);
      }
    case LUA_TSTRING: {
      size_t len;
      const char *s = lua_tolstring(L, idx, &len);
      if ((status = add_tag(w, TAG_STRING)) != WRITE_OK || (status = add(w, &len, sizeof len)) != WRITE_OK)
        return status;
      return add(w, s, len);
    }
    case LUA_TTABLE:
      return write_table(w, idx);
    default:
      return refuse(w, idx, NULL);
  }
}

int as__marshal_write(lua_State *L, int first, int n, as_buffer *out, const char *root, int base) {
  writer w;
  int i, status = WRITE_OK;
  first = lua_absindex(L, first);
  memset(&w, 0, sizeof w);
  w.L = L;
  w.out = out;
  w.root = root;
  lua_newtable(L);
  w.seen = lua_gettop(L);
  if (as_buffer_append(out, &n, sizeof n) != 0) status = WRITE_NOMEM;
  for (i = 0; i < n && status == WRITE_OK; i++) {
    w.root_index = base + i;
    w.depth = 0;
    status = write_value(&w, first + i);
  }
  if (status == WRITE_REFUSED) {
    lua_remove(L, w.seen);                 /* the description stays */
    return i;
  }
  lua_pop(L, 1);
  return status == WRITE_OK ? 0 : -1;
}

typedef struct reader {
  const char *p, *end;
} reader;

static void read_bytes(lua_State *L, reader *r, void *into, size_t n) {
  if ((size_t)(r->end - r->p) < n) luaL_error(L, "to_thread: corrupt copy");
  memcpy(into, r->p, n);
  r->p += n;
}

static void read_value(lua_State *L, reader *r, int depth) {
  char tag;
  read_bytes(L, r, &tag, 1);
  if (!lua_checkstack(L, 3)) luaL_error(L, "to_thread: copy nested too deeply");
  switch (tag) {
    case TAG_NIL: lua_pushnil(L); return;
    case TAG_FALSE: lua_pushboolean(L, 0); return;
    case TAG_TRUE: lua_pushboolean(L, 1); return;
    case TAG_INTEGER: {
      lua_Integer i;
      read_bytes(L, r, &i, sizeof i);
      lua_pushinteger(L, i);
      return;
    }
    case TAG_FLOAT: {
      lua_Number d;
      read_bytes(L, r, &d, sizeof d);
      lua_pushnumber(L, d);
      return;
    }
    case TAG_STRING: {
      size_t len;
      read_bytes(L, r, &len, sizeof len);
      if ((size_t)(r->end - r->p) < len) luaL_error(L, "to_thread: corrupt copy");
      lua_pushlstring(L, r->p, len);
      r->p += len;
      return;
    }
    case TAG_TABLE:
      if (depth > AS_MARSHAL_DEPTH) luaL_error(L, "to_thread: corrupt copy");
      lua_newtable(L);
      while (r->p < r->end && *r->p != TAG_END) {
        read_value(L, r, depth + 1);
        read_value(L, r, depth + 1);
        lua_rawset(L, -3);
      }
      read_bytes(L, r, &tag, 1);
      return;
    default:
      luaL_error(L, "to_thread: corrupt copy");
  }
}

int as__marshal_read(lua_State *L, const char *data, size_t size) {
  reader r = {data, data + size};
  int i, n;
  read_bytes(L, &r, &n, sizeof n);
  if (n < 0 || !lua_checkstack(L, n)) luaL_error(L, "to_thread: too many values to copy");
  for (i = 0; i < n; i++) read_value(L, &r, 0);
  return n;
}
