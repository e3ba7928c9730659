/* timeline.h -- what every task did, when: the record behind --timeline
 * (lanes on stderr or an SVG file) and --trace (Chrome Trace Event JSON).
 * Off unless asked for: the scheduler then only tests a NULL pointer. */
#ifndef ASCHED_TIMELINE_H
#define ASCHED_TIMELINE_H

#include <lua.h>
#include <stddef.h>
#include <stdint.h>

struct as_loop;
struct as_task;

/* From this instant on, `task` is in `state`: "ready", "running", "sleeping",
 * "awaiting" (a task or a group of tasks), "thread", a wait queue's label
 * ("lock", "semaphore", "event", "queue get", ...), or an end: "done",
 * "failed", "cancelled". `waker` is the task that made it ready, or 0. */
typedef struct as_timeline_event {
  uint64_t time;        /* loop clock, ns */
  uint32_t task, waker;
  const char *state;    /* a static string */
} as_timeline_event;

typedef struct as_timeline {
  as_timeline_event *events;
  size_t count, capacity;
  int names_ref;        /* task id -> name, filled as tasks finish */
  int failed;           /* out of memory: the record is incomplete */
  char *draw_to;        /* NULL: no lanes; "": stderr; else an SVG path (owned) */
  char *trace_to;       /* NULL or a JSON path (owned) */
  int bounded;          /* the REPL: keep only the newest AS_TIMELINE_KEPT events */
} as_timeline;

#define AS_TIMELINE_KEPT (1u << 20)

/* Starts recording for `loop`; draw_to/trace_to as in as_timeline. */
void as__timeline_open(lua_State *L, struct as_loop *loop, const char *draw_to,
                       const char *trace_to);

void as__timeline_record(struct as_loop *loop, struct as_task *t, const char *state);

/* Keeps the name of `t`, the Task userdata on top of L's stack (when it is
 * done, and for tasks still running when the record is drawn). */
void as__timeline_note_name(lua_State *L, struct as_loop *loop, struct as_task *t);

/* Starts a bounded record that draws nothing at the end: the REPL's, which
 * draws on demand with as__timeline_push_recent. */
void as__timeline_open_bounded(lua_State *L, struct as_loop *loop);

/* Pushes the lanes of the last `seconds` as text, or nil when nothing is
 * recorded. Raises a Lua error if drawing fails. */
void as__timeline_push_recent(lua_State *L, struct as_loop *loop, double seconds);

/* The run is over: draws and writes what was asked for, then frees the record. */
void as__timeline_close(lua_State *L, struct as_loop *loop);

#endif
