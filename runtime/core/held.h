/* held.h -- something tasks hold (a lock, a semaphore's permits), as the core
 * sees it: who holds it, by task id, and a node in its loop's `held` list for
 * as long as any task does, so the stepper's :held can name the holders of
 * every held primitive, waited on or not. Owns nothing: it is embedded in the
 * primitive, whose layer (sync/) keeps it; the loop only unlinks it when the
 * run ends, and the primitive's finaliser unlinks it before it is freed. */
#ifndef ASCHED_HELD_H
#define ASCHED_HELD_H

#include <lua.h>
#include <stdint.h>

#include "list.h"
#include "wait.h"

#define AS_HELD_NAMED 8

typedef struct as_held {
  as_list node;              /* in loop->held while named + unnamed > 0 */
  const as_wait_site *site;  /* where its waiters wait: its name
                                (site->type->timeline) and who they are */
  uint32_t ids[AS_HELD_NAMED]; /* the first holders' task ids, oldest first */
  int named;
  lua_Integer unnamed;       /* holders past the named ones */
} as_held;

#endif
