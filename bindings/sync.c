/* sync.c (bindings) -- asched.semaphore, bounded_semaphore, lock (and the
 * guard acquire returns), event and condition: the Lua face of sync/. What
 * is wrong with a call is said here; the state machines are sync/'s. */
#include "bindings.h"
#include "condition.h"
#include "errors.h"
#include "event.h"
#include "permits.h"

#define SEMAPHORE "asched.Semaphore"
#define BOUNDED "asched.BoundedSemaphore"
#define LOCK "asched.Lock"
#define EVENT "asched.Event"
#define CONDITION "asched.Condition"
/* Closes `with`'s slot: one per semaphore or lock, made by its first with. */
#define WITH_CLOSER "asched.WithCloser"

static uint32_t running_task_id(lua_State *L) {
  as_loop *loop = as__loop(L);
  return loop && loop->current ? loop->current->id : 0;
}

/* ---- semaphore, bounded semaphore, lock ---- */

static int new_permits(lua_State *L, lua_Integer n, as_permits_kind kind, const char *metatable) {
  as_permits *p = lua_newuserdatauv(L, sizeof *p, 1); /* its WITH_CLOSER, once made */
  as__permits_init(p, kind, n);
  luaL_setmetatable(L, metatable);
  return 1;
}

static int l_semaphore(lua_State *L) { return new_permits(L, as__check_count(L, 1, 1), AS_SEMAPHORE, SEMAPHORE); }

static int l_bounded_semaphore(lua_State *L) {
  return new_permits(L, as__check_count(L, 1, 1), AS_BOUNDED_SEMAPHORE, BOUNDED);
}

static int l_lock(lua_State *L) { return new_permits(L, 1, AS_LOCK, LOCK); }

/* Releases a permit of `p` held by task `holder`, or says why it cannot be. */
static int release_checked(lua_State *L, as_permits *p, uint32_t holder) {
  switch (as__permits_can_release(p)) {
    case AS_PERMITS_UNLOCKED: return as__error_raise(L, "RuntimeError", "release of an unlocked lock");
    case AS_PERMITS_OVER_BOUND:
      return as__error_raise(L, "ValueError", "bounded_semaphore released too many times");
    default: break;
  }
  as__permits_forget_holder(p, holder);
  as__permits_release(L, as__loop(L), p);
  return 0;
}

/* In a continuation after waiting on the permits at index 1: takes the
 * granted permit (or raises). Returns the task that holds it now. */
static as_task *take_granted(lua_State *L, as_loop *loop) {
  as_permits *p = lua_touserdata(L, 1);
  as_task *t = loop->current;
  as__waitq_resume(L, loop, &p->waiters, t, 1);
  lua_pop(L, 1);
  return t;
}

static int acquire_resumed(lua_State *L, int status, lua_KContext ctx) {
  (void)status;
  (void)ctx;
  as__permits_push_guard(L, 1, take_granted(L, as__loop(L))->id);
  return 1;
}

/* acquire() -> guard. Suspends until a permit is free and nobody is ahead. */
static int permits_acquire(lua_State *L) {
  as_permits *p = as__check_self(L, 1);
  as_loop *loop = as__loop(L);
  as_task *t = as__current_task_in(L, loop);
  lua_settop(L, 1);
  if (as__permits_try_acquire(loop, p, t->id)) {
    as__permits_push_guard(L, 1, t->id);
    return 1;
  }
  return as__waitq_wait(L, loop, &p->waiters, t, acquire_resumed, 0);
}

static int permits_release(lua_State *L) {
  return release_checked(L, as__check_self(L, 1), running_task_id(L));
}

static int permits_locked(lua_State *L) {
  lua_pushboolean(L, ((as_permits *)as__check_self(L, 1))->free == 0);
  return 1;
}

/* __gc: a permits object still held (a guard never closed) leaves its
 * loop's `held` list before its memory goes. */
static int permits_gc(lua_State *L) {
  as__permits_free(lua_touserdata(L, 1));
  return 0;
}

static int permits_tostring(lua_State *L) {
  static const char *const names[] = {"Semaphore", "BoundedSemaphore", "Lock"};
  as_permits *p = as__check_self(L, 1);
  lua_pushfstring(L, "%s (%d free)", names[p->kind], (int)p->free);
  return 1;
}

/* with(fn, ...): [self fn args...] -> [self closer fn args...], the closer a
 * to-be-closed slot: the permit is released however fn ends. A guard would
 * do, but costs an allocation per call; the closer is made once per
 * semaphore (its user value) and releases for the task running its close --
 * the holder, as the slot closes in the task's own coroutine. */
static void push_closer(lua_State *L) {
  if (lua_getiuservalue(L, 1, 1) != LUA_TNIL) return;
  lua_pop(L, 1);
  lua_newuserdatauv(L, 0, 1);
  lua_pushvalue(L, 1);
  lua_setiuservalue(L, -2, 1);
  luaL_setmetatable(L, WITH_CLOSER);
  lua_pushvalue(L, -1);
  lua_setiuservalue(L, 1, 1);
}

static int closer_close(lua_State *L) {
  as__check_self(L, 1);
  lua_getiuservalue(L, 1, 1);
  return release_checked(L, lua_touserdata(L, -1), running_task_id(L));
}

static int with_done(lua_State *L, int status, lua_KContext ctx) {
  (void)status;
  (void)ctx;
  lua_closeslot(L, 2);
  return lua_gettop(L) - 2;
}

static int with_call(lua_State *L) {
  lua_insert(L, 2);                        /* the closer */
  lua_toclose(L, 2);
  lua_callk(L, lua_gettop(L) - 3, LUA_MULTRET, 0, with_done);
  return with_done(L, LUA_OK, 0);
}

static int with_resumed(lua_State *L, int status, lua_KContext ctx) {
  (void)status;
  (void)ctx;
  take_granted(L, as__loop(L));
  return with_call(L);
}

/* with(fn, ...) -> fn(...)'s values, holding a permit meanwhile. Suspends. */
static int permits_with(lua_State *L) {
  as_permits *p = as__check_self(L, 1);
  as_task *t;
  as__check_callable(L, 2);
  t = as__current_task(L);
  push_closer(L);                          /* made before a permit is taken */
  if (as__permits_try_acquire(as__loop(L), p, t->id)) return with_call(L);
  return as__waitq_wait(L, as__loop(L), &p->waiters, t, with_resumed, 0);
}

/* guard:release(), and its __close: releases its permit once. */
static int guard_release(lua_State *L) {
  as_guard *g = as__check_self(L, 1);
  if (!as__guard_close(L, 1)) return 0;
  return release_checked(L, lua_touserdata(L, -1), g->holder);
}

/* ---- event ---- */

static int l_event(lua_State *L) {
  as_event *e = lua_newuserdatauv(L, sizeof *e, 0);
  as__event_init(e);
  luaL_setmetatable(L, EVENT);
  return 1;
}

static int event_set(lua_State *L) {
  as__event_set(L, as__loop(L), as__check_self(L, 1));
  return 0;
}

static int event_clear(lua_State *L) {
  ((as_event *)as__check_self(L, 1))->set = 0;
  return 0;
}

static int event_is_set(lua_State *L) {
  lua_pushboolean(L, ((as_event *)as__check_self(L, 1))->set);
  return 1;
}

static int event_wait_resumed(lua_State *L, int status, lua_KContext ctx) {
  as_loop *loop = as__loop(L);
  (void)status;
  (void)ctx;
  /* Woken by set, it returns true even if cleared since. */
  as__waitq_resume(L, loop, &((as_event *)lua_touserdata(L, 1))->waiters, loop->current, 1);
  lua_pushboolean(L, 1);
  return 1;
}

static int event_wait(lua_State *L) {
  as_event *e = as__check_self(L, 1);
  as_task *t = as__current_task(L);
  lua_settop(L, 1);
  if (e->set) {
    lua_pushboolean(L, 1);
    return 1;
  }
  return as__waitq_wait(L, as__loop(L), &e->waiters, t, event_wait_resumed, 0);
}

/* ---- condition ---- */

/* condition([lock]) -> a Condition over `lock`, or over a new Lock. */
static int l_condition(lua_State *L) {
  as_condition *c;
  as_permits *lock;
  lua_settop(L, 1);
  if (lua_isnil(L, 1)) {
    new_permits(L, 1, AS_LOCK, LOCK);
    lua_replace(L, 1);
  } else if (luaL_testudata(L, 1, LOCK) == NULL) {
    return as__type_error(L, 1, LOCK);
  }
  lock = lua_touserdata(L, 1);
  c = lua_newuserdatauv(L, sizeof *c, 1);
  as__condition_init(c, lock);
  lua_pushvalue(L, 1);
  lua_setiuservalue(L, -2, 1);
  luaL_setmetatable(L, CONDITION);
  return 1;
}

/* Calls method `name` of the condition's lock with the arguments after
 * self, returning its values: acquire, release, locked and with are the
 * lock's. */
static int lock_call_done(lua_State *L, int status, lua_KContext ctx) {
  (void)status;
  (void)ctx;
  return lua_gettop(L) - 1;
}

static int call_lock(lua_State *L, const char *name) {
  as__check_self(L, 1);
  lua_getiuservalue(L, 1, 1);              /* the lock */
  lua_getfield(L, -1, name);
  lua_insert(L, 2);                        /* [cond method args... lock] */
  lua_insert(L, 3);                        /* [cond method lock args...] */
  lua_callk(L, lua_gettop(L) - 2, LUA_MULTRET, 0, lock_call_done);
  return lock_call_done(L, LUA_OK, 0);
}

static int condition_acquire(lua_State *L) { return call_lock(L, "acquire"); }
static int condition_release(lua_State *L) { return call_lock(L, "release"); }
static int condition_locked(lua_State *L) { return call_lock(L, "locked"); }
static int condition_with(lua_State *L) { return call_lock(L, "with"); }

/* wait(): releases the lock, waits for a notification and takes the lock
 * back before returning or raising -- also when cancelled; only
 * cancellations are retried (and remembered), any other error while
 * re-acquiring is raised at once. Stack: [cond lock [error]]. */
enum { COND_SELF = 1, COND_LOCK, COND_ERROR };

static int reacquire(lua_State *L, as_loop *loop, as_condition *c);

static int condition_reacquired(lua_State *L, int status, lua_KContext ctx) {
  as_loop *loop = as__loop(L);
  as_condition *c = lua_touserdata(L, COND_SELF);
  as_task *t = loop->current;
  (void)status;
  (void)ctx;
  if (as__waitq_outcome(L, loop, &c->lock->waiters, t, COND_LOCK)) {
    if (!as__error_is(L, -1, "CancelledError")) return lua_error(L);
    if (lua_gettop(L) > COND_ERROR) lua_pop(L, 1);   /* the first error stands */
    return reacquire(L, loop, c);
  }
  lua_pop(L, 1);
  if (lua_gettop(L) >= COND_ERROR) {
    lua_settop(L, COND_ERROR);
    return lua_error(L);
  }
  lua_pushboolean(L, 1);
  return 1;
}

static int reacquire(lua_State *L, as_loop *loop, as_condition *c) {
  as_task *t = loop->current;
  if (as__permits_try_acquire(loop, c->lock, t->id)) {
    if (lua_gettop(L) >= COND_ERROR) {
      lua_settop(L, COND_ERROR);
      return lua_error(L);
    }
    lua_pushboolean(L, 1);
    return 1;
  }
  return as__waitq_wait(L, loop, &c->lock->waiters, t, condition_reacquired, 0);
}

static int condition_notified(lua_State *L, int status, lua_KContext ctx) {
  as_loop *loop = as__loop(L);
  as_condition *c = lua_touserdata(L, COND_SELF);
  (void)status;
  (void)ctx;
  /* A notification received together with an error is passed on. */
  if (!as__waitq_outcome(L, loop, &c->waiters, loop->current, COND_SELF)) lua_pop(L, 1);
  return reacquire(L, loop, c);             /* [cond lock [error]] */
}

static int condition_wait(lua_State *L) {
  as_condition *c = as__check_self(L, 1);
  as_task *t = as__current_task(L);
  as_loop *loop = as__loop(L);
  lua_settop(L, 1);
  lua_getiuservalue(L, 1, 1);              /* COND_LOCK */
  if (c->lock->free != 0) return as__error_raise(L, "RuntimeError", "cannot wait on an un-acquired lock");
  as__permits_forget_holder(c->lock, t->id);
  as__permits_release(L, loop, c->lock);
  return as__waitq_wait(L, loop, &c->waiters, t, condition_notified, 0);
}

/* wait_for(predicate) -> its first true value, waiting between calls.
 * Stack: [cond predicate]. */
static int predicate_called(lua_State *L, int status, lua_KContext ctx);

static int call_predicate(lua_State *L) {
  lua_settop(L, 2);
  lua_pushvalue(L, 2);
  lua_callk(L, 0, 1, 0, predicate_called);
  return predicate_called(L, LUA_OK, 0);
}

static int waited(lua_State *L, int status, lua_KContext ctx) {
  (void)status;
  (void)ctx;
  return call_predicate(L);
}

static int predicate_called(lua_State *L, int status, lua_KContext ctx) {
  (void)status;
  (void)ctx;
  if (lua_toboolean(L, -1)) return 1;
  lua_pop(L, 1);
  lua_getfield(L, AS_TYPE_UPVALUE, "__index");
  lua_getfield(L, -1, "wait");
  lua_remove(L, -2);
  lua_pushvalue(L, 1);
  lua_callk(L, 1, 0, 0, waited);
  return waited(L, LUA_OK, 0);
}

static int condition_wait_for(lua_State *L) {
  as__check_self(L, 1);
  as__check_callable(L, 2);
  as__current_task(L);
  return call_predicate(L);
}

static as_condition *check_notify(lua_State *L) {
  as_condition *c = as__check_self(L, 1);
  if (c->lock->free != 0) as__error_raise(L, "RuntimeError", "cannot notify on an un-acquired lock");
  return c;
}

static int condition_notify(lua_State *L) {
  lua_Integer n = as__check_count(L, 2, 1);
  as__condition_notify(L, as__loop(L), check_notify(L), n);
  return 0;
}

static int condition_notify_all(lua_State *L) {
  as_condition *c = check_notify(L);
  as__waitq_grant_all(L, as__loop(L), &c->waiters);
  return 0;
}

void as__open_sync(lua_State *L) {
  static const luaL_Reg permits_methods[] = {
    {"acquire", permits_acquire}, {"release", permits_release}, {"locked", permits_locked},
    {"with", permits_with}, {NULL, NULL}
  };
  static const luaL_Reg permits_meta[] = {{"__tostring", permits_tostring}, {"__gc", permits_gc}, {NULL, NULL}};
  static const luaL_Reg guard_methods[] = {{"release", guard_release}, {NULL, NULL}};
  static const luaL_Reg guard_meta[] = {{"__close", guard_release}, {NULL, NULL}};
  static const luaL_Reg closer_meta[] = {{"__close", closer_close}, {NULL, NULL}};
  static const luaL_Reg event_methods[] = {
    {"set", event_set}, {"clear", event_clear}, {"is_set", event_is_set}, {"wait", event_wait}, {NULL, NULL}
  };
  static const luaL_Reg condition_methods[] = {
    {"acquire", condition_acquire}, {"release", condition_release}, {"locked", condition_locked},
    {"with", condition_with}, {"wait", condition_wait}, {"wait_for", condition_wait_for},
    {"notify", condition_notify}, {"notify_all", condition_notify_all}, {NULL, NULL}
  };
  static const luaL_Reg functions[] = {
    {"semaphore", l_semaphore}, {"bounded_semaphore", l_bounded_semaphore}, {"lock", l_lock},
    {"event", l_event}, {"condition", l_condition}, {NULL, NULL}
  };
  as__register_type(L, SEMAPHORE, permits_methods, permits_meta);
  as__register_type(L, BOUNDED, permits_methods, permits_meta);
  as__register_type(L, LOCK, permits_methods, permits_meta);
  as__register_type(L, AS_GUARD_METATABLE, guard_methods, guard_meta);
  as__register_type(L, WITH_CLOSER, NULL, closer_meta);
  as__register_type(L, EVENT, event_methods, NULL);
  as__register_type(L, CONDITION, condition_methods, NULL);
  as__register(L, functions);
}
