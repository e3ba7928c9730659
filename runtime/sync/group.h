/* group.h -- task groups (asyncio's TaskGroup, Trio's nursery): a body runs
 * in its caller's task and spawns children; the group ends only when every
 * child has. The first error of a child (or of the body) cancels the body and
 * every sibling; errors are kept in the order they happened. This is the
 * state machine; bindings/group.c runs the body and raises what it says. */
#ifndef ASCHED_GROUP_H
#define ASCHED_GROUP_H

#include <lua.h>
#include <stdint.h>

#include "loop.h"
#include "task.h"

typedef enum { AS_GROUP_BODY, AS_GROUP_WAITING, AS_GROUP_DONE } as_group_state;

/* Lives in the TaskGroup userdata (the `tg` the body gets; bindings/group.c). Everything it
 * keeps of Lua is in one table, `ref` in the registry: the group itself at
 * [0] (so it outlives its caller's frame while children still run), the
 * children's memberships at 1..n, and fields `errors`, `tracebacks`,
 * `cancel` (the group's own CancelledError, once it cancels its caller),
 * `seen` (a CancelledError the caller got), `body_traceback`. */
typedef struct as_group {
  as_task *parent;            /* the task that called task_group */
  as_wait_site site;          /* where the parent waits for the children */
  as_waiter_owner owner;      /* of every membership */
  int ref;                    /* the table above, or LUA_NOREF once released */
  int32_t pending;            /* children not done */
  int32_t errors;             /* errors recorded */
  uint8_t state;              /* as_group_state */
  uint8_t aborting;           /* cancelling the body and the children */
  uint8_t parent_cancelled;   /* the group cancelled its parent: must take it back */
  uint8_t user_cancelled;     /* tg:cancel() */
  uint8_t caller_gone;        /* the parent's frame closed before the group ended */
  uint8_t waiting;            /* the parent waits on `site` */
} as_group;

/* A child's link to its group: an as_waiter in the child's waiters. Lives in
 * a small userdata kept in the group's table; its user value is the Task. */
typedef struct as_group_member {
  as_waiter waiter;
} as_group_member;

/* Sets up the group `g` -- the userdata on top of L -- for the running task
 * `parent`. */
void as__group_init(lua_State *L, as_group *g, as_task *parent);

/* Pushes the group's table (see as_group). */
void as__group_push_table(lua_State *L, const as_group *g);

/* Spawns fn (at `fidx`, with the `nargs` values above it, consumed) as a
 * child and pushes its Task. The group must not be done or aborting. */
as_task *as__group_spawn(lua_State *L, as_loop *loop, as_group *g, int fidx, int nargs);

/* Starts cancelling: every child still running, and the body (the parent)
 * while it runs. Idempotent. */
void as__group_abort(lua_State *L, as_loop *loop, as_group *g);

/* Records the error on top (popped) with the traceback below it (popped;
 * nil when none) as one of the group's errors, and aborts. */
void as__group_record_error(lua_State *L, as_loop *loop, as_group *g);

/* Suspends the parent `t` until every child is done (or a cancellation
 * comes); `k` must start with as__group_resumed. */
int as__group_wait(lua_State *L, as_loop *loop, as_group *g, as_task *t, lua_KFunction k, lua_KContext ctx);

/* In the continuation: stops waiting; returns 1 with the pending error on
 * top (a cancellation), or 0. */
int as__group_resumed(lua_State *L, as_loop *loop, as_group *g, as_task *t);

/* The group's frame closes: at its end, or because its caller's task was
 * reset first (then the children are cancelled and the caller is forgotten).
 * Releases the group's table once no child is left; the last child releases
 * it otherwise. */
void as__group_close(lua_State *L, as_loop *loop, as_group *g);

#endif
