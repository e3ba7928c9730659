/* io_op.c -- an I/O operation a task waits for, and the one continuation that
 * ends every such wait (see io_op.h). */
#include "io_op.h"

#include <lauxlib.h>
#include <signal.h>
#include <uv.h>

#include "errors.h"

void as__io_op_describe(lua_State *L, as_loop *loop, const as_task *t) {
  const as_io_op *op = as_container_of(t->wait, as_io_op, site);
  (void)loop;
  lua_pushstring(L, op->type->what);
}

void as__io_op_abandon(as_loop *loop, as_task *t) {
  as_io_op *op = as_container_of(t->wait, as_io_op, site);
  (void)loop;
  /* The caller's Task stays anchored by caller_ref until the operation ends. */
  if (!op->done && op->type->abort) op->type->abort(op);
}

void as__io_op_init(as_io_op *op, const as_io_op_type *type, as_loop *loop) {
  op->type = type;
  op->site.type = &type->wait;
  op->loop = loop;
  op->caller = NULL;
  op->caller_ref = LUA_NOREF;
  op->done = 0;
}

/* The waiter is done with the operation (results read, or cancelled):
 * releases it when finished, else aborts it and lets it finish alone. */
static void let_go(lua_State *L, as_io_op *op) {
  luaL_unref(L, LUA_REGISTRYINDEX, op->caller_ref);
  op->caller_ref = LUA_NOREF;
  op->caller = NULL;
  if (op->done) op->type->release(op);
  else if (op->type->abort) op->type->abort(op);
}

/* The one continuation of an I/O wait: a cancelled caller lets go and
 * raises; otherwise the operation's results, or its error. */
static int resumed(lua_State *L, int status, lua_KContext ctx) {
  as_io_op *op = (as_io_op *)ctx;
  int n;
  (void)status;
  if (as__task_take_raise(L, op->loop, op->caller)) {
    let_go(L, op);
    return lua_error(L);
  }
  n = op->type->push(L, op);
  let_go(L, op);
  if (n == AS_IO_FAILED) return lua_error(L);
  return n;
}

int as__io_op_wait(lua_State *L, as_io_op *op, as_task *t) {
  as__task_push(L, op->loop, t);
  op->caller_ref = luaL_ref(L, LUA_REGISTRYINDEX);
  op->caller = t;
  as__task_set_wait(t, &op->site);
  return as__task_suspend(L, op->loop, t, resumed, (lua_KContext)op);
}

void as__io_op_finish(as_io_op *op) {
  op->done = 1;
  if (op->caller != NULL && op->caller->state != AS_TASK_DONE) {
    as__task_wake(op->loop, op->caller);
    return;
  }
  if (op->caller != NULL) luaL_unref(op->loop->L, LUA_REGISTRYINDEX, op->caller_ref);
  op->type->release(op);
}

void as__io_error_push(lua_State *L, int code, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  lua_pushvfstring(L, fmt, ap);
  va_end(ap);
  as__error_push(L, "IOError", "%s: %s", lua_tostring(L, -1), uv_strerror(code));
  lua_pushstring(L, uv_err_name(code));
  lua_setfield(L, -2, "code");
  lua_remove(L, -2);
}

void as__io_ignore_sigpipe(void) {
  static int done;
  if (!done) {
    signal(SIGPIPE, SIG_IGN);
    done = 1;
  }
}
