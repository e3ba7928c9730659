/* fs.c (bindings) -- asched.fs: read_file, write_file, stat and list_dir,
 * the Lua face of io/fs.c. */
#include "bindings.h"
#include "fs.h"

static int start(lua_State *L, as_fs_kind kind, const char *opname) {
  size_t size = 0;
  const char *path = as__check_string(L, 1, NULL);
  const char *data = kind == AS_FS_WRITE_FILE ? as__check_string(L, 2, &size) : NULL;
  as_task *t = as__current_task(L);
  return as__fs_start(L, as__loop(L), t, kind, path, data, size, opname);
}

/* read_file(path) -> the whole contents, a string. */
static int l_read_file(lua_State *L) { return start(L, AS_FS_READ_FILE, "fs.read_file"); }

/* write_file(path, data): creates or truncates the file. */
static int l_write_file(lua_State *L) { return start(L, AS_FS_WRITE_FILE, "fs.write_file"); }

/* stat(path) -> {size=, type="file"|"directory"|"link"|"other", mode=, mtime=}. */
static int l_stat(lua_State *L) { return start(L, AS_FS_STAT, "fs.stat"); }

/* list_dir(path) -> the sorted names of its entries, without "." and "..". */
static int l_list_dir(lua_State *L) { return start(L, AS_FS_LIST_DIR, "fs.list_dir"); }

void as__open_fs(lua_State *L) {
  static const luaL_Reg functions[] = {
    {"read_file", l_read_file},
    {"write_file", l_write_file},
    {"stat", l_stat},
    {"list_dir", l_list_dir},
    {NULL, NULL}
  };
  lua_newtable(L);
  as__register(L, functions);
  lua_setfield(L, -2, "fs");
}
