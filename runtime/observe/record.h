/* record.h -- --record and --replay: a run's scheduling decisions as JSON
 * lines, written as they happen or read back and forced (record.c). */
#ifndef ASCHED_RECORD_H
#define ASCHED_RECORD_H

#include <lua.h>

#include "loop.h"

/* The file format. A header line, then one line per decision, in order:
 *   {"asched_record":1,"seed":N|null,"virtual":B,"script":"path"}
 *   {"step":K,"event":"resume","task":ID,"name":S,"reason":R[,"by":ID],"at":"file:line"}
 *   {"step":K,"event":"timer","timer":SEQ,"task":ID,"name":S}   (or "alarm":true)
 *   {"step":K,"event":"io"|"thread","op":S,"task":ID,"name":S}
 * Reasons: "spawn", "yield", "ready" (woken by task "by"), "timer", "io",
 * "thread", "callback", "deadlock", "shutdown". */

/* Attaches a recording of `loop` to the file `record` (written, then closed
 * when the run ends), or a replay of the file `replay`: the loop's schedule
 * hook then forces its decisions, and the run raises "replay diverged at step
 * K: expected ..., got ..." where it goes another way. `script` names the
 * script in the header. In the run's set-up; raises on a file it cannot open
 * or read, or a malformed record. */
void as__record_attach(lua_State *L, as_loop *loop, const char *record, const char *replay,
                       const char *script);

#endif
