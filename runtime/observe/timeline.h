/* timeline.h -- what every task did, when: the record behind --timeline
 * (lanes on stderr, an SVG file or an HTML page) and --trace (Chrome Trace Event JSON), and
 * the REPL's :timeline. An observer of the loop; off unless asked for, when
 * the scheduler only finds its observer list empty. */
#ifndef ASCHED_TIMELINE_H
#define ASCHED_TIMELINE_H

#include <lua.h>

#include "loop.h"

#define AS_TIMELINE_KEPT (1u << 20)   /* events a bounded record keeps */

/* Starts recording for `loop`. At the run's end the record is drawn to
 * `draw_to` (NULL: no lanes; "": stderr; a path ending in .html: the replay
 * page, for which each wait's description, line and deadline and the holders
 * of what tasks wait for are recorded too; else an SVG path) and written to
 * `trace_to` (NULL or a JSON path). With `bounded` (the REPL) only the newest
 * AS_TIMELINE_KEPT events are kept, and nothing is drawn at the end. */
void as__timeline_attach(lua_State *L, as_loop *loop, const char *draw_to, const char *trace_to, int bounded);

/* Pushes the lanes of the last `seconds` as text, or nil when nothing is
 * recorded. Raises a Lua error if drawing fails. */
void as__timeline_push_recent(lua_State *L, as_loop *loop, double seconds);

#endif
