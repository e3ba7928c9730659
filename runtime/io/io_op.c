/* io_op.c -- an I/O operation a task waits for (see io_op.h). */
#include "io_op.h"

#include <lauxlib.h>
#include <signal.h>

#include "loop.h"

void as__io_op_init(as_io_op *op, const as_io_op_type *type, as_loop *loop) {
  op->type = type;
  op->loop = loop;
  op->caller = NULL;
  op->caller_ref = LUA_NOREF;
  op->done = 0;
}

int as__io_op_wait(lua_State *L, as_io_op *op, as_task *t, lua_KFunction k) {
  as__task_push(L, op->loop, t);
  op->caller_ref = luaL_ref(L, LUA_REGISTRYINDEX);
  op->caller = t;
  t->wait_kind = AS_WAIT_IO;
  t->wait_on = op;
  return as__task_suspend(L, op->loop, t, k, (lua_KContext)op);
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

void as__io_op_let_go(lua_State *L, as_io_op *op) {
  luaL_unref(L, LUA_REGISTRYINDEX, op->caller_ref);
  op->caller = NULL;
  if (op->done) op->type->release(op);
  else if (op->type->abort) op->type->abort(op);
}

int as__io_op_cancelled(lua_State *L, as_io_op *op) {
  if (!as__task_take_raise(L, op->loop, op->caller)) return 0;
  as__io_op_let_go(L, op);
  return 1;
}

void as__io_op_abandon(as_io_op *op) {
  /* The caller's Task stays anchored by caller_ref until the operation ends. */
  if (!op->done && op->type->abort) op->type->abort(op);
}

void as__io_ignore_sigpipe(void) {
  static int done;
  if (!done) {
    signal(SIGPIPE, SIG_IGN);
    done = 1;
  }
}
