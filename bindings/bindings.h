/* bindings.h -- what the files of the Lua module share: the one way to
 * register functions and types, the one way to raise an argument error, and
 * the checks every entry point uses to read its arguments before it allocates
 * or links anything ("validate, then link"). */
#ifndef ASCHED_BINDINGS_H
#define ASCHED_BINDINGS_H

#include <lauxlib.h>
#include <lua.h>
#include <stdint.h>

#include "loop.h"
#include "task.h"

#ifndef ASCHED_VERSION
#define ASCHED_VERSION "0.0.0"
#endif

/* ---- registration ---- */

/* Every function the module registers is a closure with these upvalues:
 * 1 the state's box (loop.h), 2 its public name ("gather", "read_file"),
 * and for the methods of a type 3 the type's metatable and 4 its address (a
 * light userdata: `self` is checked by comparing two pointers). */
#define AS_NAME_UPVALUE lua_upvalueindex(2)
#define AS_TYPE_UPVALUE lua_upvalueindex(3)
#define AS_TYPE_ADDRESS_UPVALUE lua_upvalueindex(4)

/* Adds each of `functions` to the table on top. */
void as__register(lua_State *L, const luaL_Reg *functions);

/* Pushes one function registered as `name`. */
void as__push_function(lua_State *L, const char *name, lua_CFunction fn);

/* Creates the metatable `name` (once per state): `methods` (or NULL) in a
 * table that is its __index -- or, when `metamethods` has its own __index,
 * its field "__methods" -- and `metamethods` (__gc, __close, __tostring, ...)
 * on it. Every one of them has the type's metatable as upvalues 3 and 4. Pushes
 * nothing. */
void as__register_type(lua_State *L, const char *name, const luaL_Reg *methods,
                       const luaL_Reg *metamethods);

/* In a type's own __index (called as (self, key)), once no field matched:
 * pushes its method named `key`, or nil, and returns 1. */
int as__index_method(lua_State *L);

/* The public name of the running function. */
const char *as__public_name(lua_State *L);

/* ---- argument errors ---- */

/* Raises "bad argument #arg to '<public name>' (msg)", counting arguments as
 * Lua does: after self when called as a method, where a bad self reads
 * "calling '<name>' on bad self (msg)". The one way to say a call is wrong. */
int as__arg_error(lua_State *L, int arg, const char *msg);

/* "<expected> expected, got <type>" (a value's __name if it has one). */
int as__type_error(lua_State *L, int arg, const char *expected);

/* Pushes the type of the value at `idx` as errors say it: its __name, its
 * type name, or "no value". */
const char *as__push_type_name(lua_State *L, int idx);

/* ---- checks: each returns the value or raises as__arg_error ---- */

lua_Number as__check_number(lua_State *L, int arg);
lua_Integer as__check_integer(lua_State *L, int arg);
const char *as__check_string(lua_State *L, int arg, size_t *len);
void as__check_table(lua_State *L, int arg);
int as__check_boolean(lua_State *L, int arg);

/* A duration in seconds: a number (not a numeric string), not NaN; nil when
 * `nil_ok` (returns 0 and sets *present to 0). */
lua_Number as__check_seconds(lua_State *L, int arg, int nil_ok, int *present);

/* A non-negative integer, or `absent` when nil or none. */
lua_Integer as__check_count(lua_State *L, int arg, lua_Integer absent);

/* An optional string: NULL when nil or none. */
const char *as__opt_string(lua_State *L, int arg, size_t *len);

int as__is_callable(lua_State *L, int idx);
void as__check_callable(lua_State *L, int arg);

/* The userdata at `arg` whose metatable is the running method's type
 * (upvalue 4): no registry lookup. */
void *as__check_self(lua_State *L, int arg);

/* The Task at `arg`, or NULL if the value is not one. */
as_task *as__to_task(lua_State *L, int arg);

/* The Task at `arg`, or an argument error. */
as_task *as__check_task(lua_State *L, int arg);

/* The running task, for a function that suspends: "asched.<name>: not inside
 * a task" when there is none. The name is looked up only then. */
as_task *as__not_in_task(lua_State *L);

/* The running task of `loop` (the box's, which a caller that needs the loop
 * anyway has already read: as__current_task reads it again), or that error. */
static inline as_task *as__current_task_in(lua_State *L, as_loop *loop) {
  as_task *t = as__task_running_in(loop, L);
  return t ? t : as__not_in_task(L);
}

static inline as_task *as__current_task(lua_State *L) { return as__current_task_in(L, as__loop(L)); }

/* The running loop, for a function that needs one without suspending:
 * "asched.<name>: no running loop" when there is none. */
as_loop *as__running_loop(lua_State *L);

/* ---- shared by the families ---- */

/* Awaits the Task that is the only value on the stack, for the running task
 * `self` (task:await()): its results, its error, or CancelledError. */
int as__await(lua_State *L, as_loop *loop, as_task *self);

/* Cancels the Task at `idx` as task:cancel() does ("<name> was cancelled");
 * returns 0 when it was already done. */
int as__cancel_task(lua_State *L, as_loop *loop, int idx);

/* A host name or address: a string without zero bytes (dns.c). */
const char *as__check_host(lua_State *L, int arg);

/* ---- options and lists ---- */

/* The options table at `arg`: 0 when nil or none; 1 for a table whose keys,
 * read raw (no metamethods), are all among the NULL-terminated `known`;
 * anything else, or an unknown key, is an argument error naming it. */
int as__check_options(lua_State *L, int arg, const char *const known[]);

/* Pushes option `key` of the checked options table at `arg` (raw; nil when
 * there is no table) and returns its type. */
int as__option(lua_State *L, int arg, const char *key);

/* "option '<key>' must be <expected>, got <type>" for the value on top. */
int as__option_error(lua_State *L, int arg, const char *key, const char *expected);

/* Typed options; each pops what it pushed. */
int as__option_boolean(lua_State *L, int arg, const char *key, int absent);
lua_Number as__option_seconds(lua_State *L, int arg, const char *key, int *present);
const char *as__option_string(lua_State *L, int arg, const char *key, size_t *len);

/* The `tls` option of the checked options table at `arg` (bindings/tls.c):
 * 0 when it is absent (or false, for a client), else 1 with `o` filled in.
 * A client's is true or {verify =, ca =, server_name =}; a server's
 * {cert =, key =}, both required. Anything else is an argument error. */
struct as_tls_client_options;
struct as_tls_server_options;
int as__option_tls_client(lua_State *L, int arg, struct as_tls_client_options *o);
int as__option_tls_server(lua_State *L, int arg, struct as_tls_server_options *o);

/* The longest list an entry point reads. A longer one is refused before an
 * item is read: it could not be served anyway (a task costs over 1 kB). */
#define AS_LIST_MAX (1 << 24)

/* Checks an item of a list: returns 1 when the value at `idx` is fine. */
typedef int (*as_item_check)(lua_State *L, int idx);

/* Reads the list at `arg` once -- its length through __len and its items
 * through __index, as `#` and indexing do -- into a new plain table pushed on
 * top, the call's own (the caller's list may change while it waits),
 * checking every item before returning. Returns the length. Errors: not a
 * table: "<what> expected, got <type>"; a length that is not an integer in
 * 0..AS_LIST_MAX; an item `check` refuses: "item <i> is a <type>, not
 * <item_what>" (or "<list>[<i>] is ..." when `list` names it). */
int32_t as__check_list(lua_State *L, int arg, const char *what, as_item_check check, const char *list,
                       const char *item_what);

/* ---- the families: each adds its functions to the module table on top ---- */

void as__open_task(lua_State *L);      /* task.c: Task, await */
void as__open_time(lua_State *L);      /* time.c: sleep, now */
void as__open_combine(lua_State *L);   /* combine.c: gather, wait, timeout, ... */
void as__open_sync(lua_State *L);      /* sync.c: semaphore, lock, event, condition */
void as__open_queue(lua_State *L);     /* queue.c: queue, lifo_queue, priority_queue */
void as__open_barrier(lua_State *L);   /* barrier.c: barrier */
void as__open_group(lua_State *L);     /* group.c: task_group */
void as__open_threads(lua_State *L);   /* threads.c: to_thread */
void as__open_fs(lua_State *L);        /* fs.c: asched.fs */
void as__open_process(lua_State *L);   /* process.c: asched.process */
void as__open_signal(lua_State *L);    /* signal.c: asched.signal */
void as__open_tcp(lua_State *L);       /* tcp.c: asched.tcp */
void as__open_http(lua_State *L);      /* http.c: asched.http */
void as__open_http_server(lua_State *L); /* http_server.c: asched.http.listen */
void as__open_udp(lua_State *L);       /* udp.c: asched.udp */
void as__open_dns(lua_State *L);       /* dns.c: asched.dns */

#endif
