/* deadlock.c -- the DeadlockError message: the wait-for graph of a run in
 * which every task waits and nothing can wake any of them. Each waiting task,
 * what it waits on and where, who holds that (the awaited task, the lock's
 * holder, the semaphore's holders), and the cycle when there is one. */
#include "deadlock.h"

#include <lauxlib.h>
#include <stdlib.h>

#include "describe.h"
#include "task.h"

#define HOLDERS_NAMED 8

typedef struct graph {
  as_task **tasks;   /* pending tasks, by id */
  int32_t n;
} graph;

/* The index of task `id` in the graph, or -1 (a finished task). */
static int32_t find(const graph *g, uint32_t id) {
  int32_t lo = 0, hi = g->n - 1;
  while (lo <= hi) {
    int32_t mid = lo + (hi - lo) / 2;
    uint32_t at = g->tasks[mid]->id;
    if (at == id) return mid;
    if (at < id) lo = mid + 1;
    else hi = mid - 1;
  }
  return -1;
}

/* The ids of the tasks `t` waits for (the awaited task, the holders of the
 * lock or semaphore it queues on), from its wait's `holders`. Returns how
 * many (up to `max`), or -1. */
static int waits_for(const as_task *t, uint32_t *out, int max, lua_Integer *unnamed) {
  *unnamed = 0;
  if (t->state != AS_TASK_SUSPENDED || (t->flags & AS_TASK_IN_READY)) return -1;
  if (t->wait == NULL || t->wait->type->holders == NULL) return -1;
  return t->wait->type->holders(t, out, max, unnamed);
}

static void push_task_name(lua_State *L, as_loop *loop, const graph *g, uint32_t id) {
  int32_t at = find(g, id);
  if (at < 0) {
    lua_pushfstring(L, "task #%d (finished)", (int)id);
    return;
  }
  as__task_push_pending_name(L, loop, g->tasks[at]);
}

/* Adds "  name (what, where)[; held by ...]" for task `i`. */
static void add_task_line(luaL_Buffer *b, lua_State *L, as_loop *loop, const graph *g, int32_t i) {
  as_task *t = g->tasks[i];
  uint32_t ids[HOLDERS_NAMED];
  lua_Integer unnamed;
  int k, n;
  luaL_addstring(b, "\n  ");
  as__describe_task_line(L, loop, t);
  luaL_addvalue(b);
  n = waits_for(t, ids, HOLDERS_NAMED, &unnamed);
  if (n < 0 || !t->wait->type->held) return;
  if (n == 0 && unnamed == 0) {
    luaL_addstring(b, "; no task holds it");
    return;
  }
  luaL_addstring(b, "; held by ");
  for (k = 0; k < n; k++) {
    if (k > 0) luaL_addstring(b, ", ");
    push_task_name(L, loop, g, ids[k]);
    luaL_addvalue(b);
  }
  if (unnamed > 0) {
    lua_pushfstring(L, " and %d more", (int)unnamed);
    luaL_addvalue(b);
  }
}

/* Finds a cycle of waits by depth-first search; fills `path` with task
 * indexes, first == last, and returns its length, or 0. */
static int32_t find_cycle(const graph *g, int32_t *path) {
  int32_t *state = calloc((size_t)g->n, sizeof *state);  /* 0 new, 1 on path, 2 done */
  int32_t *edge = calloc((size_t)g->n, sizeof *edge);    /* next edge to try */
  int32_t start, depth, found = 0;
  if (state == NULL || edge == NULL) goto out;
  for (start = 0; start < g->n && !found; start++) {
    if (state[start]) continue;
    depth = 0;
    path[depth++] = start;
    state[start] = 1;
    while (depth > 0 && !found) {
      int32_t at = path[depth - 1], next = -1;
      uint32_t ids[HOLDERS_NAMED];
      lua_Integer unnamed;
      int n = waits_for(g->tasks[at], ids, HOLDERS_NAMED, &unnamed);
      while (edge[at] < n && next < 0) next = find(g, ids[edge[at]++]);
      if (next < 0) {
        state[at] = 2;
        depth--;
      } else if (state[next] == 1) {
        int32_t from = depth - 1, k;
        while (path[from] != next) from--;
        for (k = from; k < depth; k++) path[k - from] = path[k];
        path[depth - from] = next;
        found = depth - from + 1;
      } else if (state[next] == 0) {
        state[next] = 1;
        path[depth++] = next;
      }
    }
  }
out:
  free(state);
  free(edge);
  return found;
}

void as__deadlock_push_report(lua_State *L, as_loop *loop) {
  luaL_Buffer b;
  graph g;
  int32_t i, length, *path;
  g.tasks = as__task_pending(L, loop, &g.n);
  path = malloc(sizeof *path * ((size_t)g.n + 1));
  luaL_buffinit(L, &b);
  luaL_addstring(&b, "every task is waiting and nothing can wake any of them:");
  for (i = 0; i < g.n; i++) add_task_line(&b, L, loop, &g, i);
  length = path ? find_cycle(&g, path) : 0;
  if (length > 0) {
    luaL_addstring(&b, "\n  cycle: ");
    for (i = 0; i < length; i++) {
      if (i > 0) luaL_addstring(&b, " -> ");
      push_task_name(L, loop, &g, g.tasks[path[i]]->id);
      luaL_addvalue(&b);
    }
  }
  free(path);
  free(g.tasks);
  luaL_pushresult(&b);
}
