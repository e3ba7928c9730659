/* io_op.c -- an I/O operation a task waits for, and the one continuation that
 * ends every such wait (see io_op.h). The loop lists its operations (an
 * attachment), so that one whose results nobody came for -- its waiter was
 * woken, then abandoned when the run ended -- is released at the run's end. */
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

/* ---- the loop's operations ---- */

typedef struct {
  as_attachment base;
  as_list list;         /* as_io_op, by node */
} operations;

static const char operations_key = 'O';

static void release(as_io_op *op) {
  as_list_remove(&op->node);
  op->type->release(op);
}

/* The run has ended and every task with it. An operation that is done but
 * still listed will never be read: its waiter was woken, then abandoned
 * before it ran. Release those now, while every other attachment is still
 * there; the others are let go already and release themselves as libuv
 * finishes them. */
static void release_orphans(as_attachment *a, lua_State *L, as_loop *loop) {
  operations *all = (operations *)a;
  as_list *n, *next;
  (void)loop;
  for (n = all->list.next; n != &all->list; n = next) {
    as_io_op *op = as_container_of(n, as_io_op, node);
    next = n->next;
    if (!op->done) continue;
    luaL_unref(L, LUA_REGISTRYINDEX, op->caller_ref);
    release(op);
  }
}

/* Out of memory, the operation is only left out of the end-of-run release. */
static void list_operation(as_io_op *op) {
  int made;
  operations *all = (operations *)as__loop_attachment_make(op->loop, &operations_key, sizeof *all,
                                                           release_orphans, NULL, &made);
  if (all == NULL) return;
  if (made) as_list_init(&all->list);
  as_list_push_back(&all->list, &op->node);
}

/* ---- one operation ---- */

void as__io_op_init(as_io_op *op, const as_io_op_type *type, as_loop *loop) {
  op->type = type;
  op->site.type = &type->wait;
  op->loop = loop;
  op->caller = NULL;
  op->caller_ref = LUA_NOREF;
  op->done = 0;
  as_list_init(&op->node);
}

/* The waiter is done with the operation (results read, or cancelled):
 * releases it when finished, else aborts it and lets it finish alone. */
static void let_go(lua_State *L, as_io_op *op) {
  luaL_unref(L, LUA_REGISTRYINDEX, op->caller_ref);
  op->caller_ref = LUA_NOREF;
  op->caller = NULL;
  if (op->done) release(op);
  else if (op->type->abort) op->type->abort(op);
}

/* (op) -> the operation's results, or raises its error. */
static int push_results(lua_State *L) {
  as_io_op *op = lua_touserdata(L, 1);
  int n;
  lua_pop(L, 1);
  n = op->type->push(L, op);
  return n == AS_IO_FAILED ? lua_error(L) : n;
}

/* The one continuation of an I/O wait: a cancelled caller lets go and
 * raises; otherwise the operation's results, or its error. The results are
 * pushed in a protected call, so that the operation is let go even when
 * pushing them runs out of memory. */
static int resumed(lua_State *L, int status, lua_KContext ctx) {
  as_io_op *op = (as_io_op *)ctx;
  int base = lua_gettop(L);
  (void)status;
  if (as__task_take_raise(L, op->loop, op->caller)) {
    let_go(L, op);
    return lua_error(L);
  }
  lua_pushcfunction(L, push_results);
  lua_pushlightuserdata(L, op);
  status = lua_pcall(L, 1, LUA_MULTRET, 0);
  let_go(L, op);
  if (status != LUA_OK) return lua_error(L);
  return lua_gettop(L) - base;
}

int as__io_op_wait(lua_State *L, as_io_op *op, as_task *t) {
  as__task_push(L, op->loop, t);
  op->caller_ref = luaL_ref(L, LUA_REGISTRYINDEX);
  op->caller = t;
  list_operation(op);   /* only a waited operation: its maker frees one that never started */
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
  release(op);
}

/* The IOError of the operation named on top of the stack, which it replaces. */
static void push_io_error(lua_State *L, int code, const char *reason) {
  as__error_push(L, "IOError", "%s: %s", lua_tostring(L, -1), reason);
  lua_pushstring(L, uv_err_name(code));
  lua_setfield(L, -2, "code");
  lua_remove(L, -2);
}

void as__io_error_push(lua_State *L, int code, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  lua_pushvfstring(L, fmt, ap);
  va_end(ap);
  push_io_error(L, code, uv_strerror(code));
}

void as__io_error_push_reason(lua_State *L, int code, const char *reason, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  lua_pushvfstring(L, fmt, ap);
  va_end(ap);
  push_io_error(L, code, reason);
}

void as__io_ignore_sigpipe(void) {
  static int done;
  if (!done) {
    signal(SIGPIPE, SIG_IGN);
    done = 1;
  }
}
