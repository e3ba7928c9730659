/* process.h -- asched.process.run's primitive (process.c); bindings/process.lua
 * adds the timeout. */
#ifndef ASCHED_PROCESS_H
#define ASCHED_PROCESS_H

#include <lua.h>

struct as_loop;

/* The run is ending: kills every child of `loop` and closes its handles. */
void as__process_close_all(struct as_loop *loop);

/* run(argv [, {stdin=, cwd=, env=}]) -> {code=, signal=, stdout=, stderr=}.
 * Suspends; a boxed C function (upvalue 1: the box). */
int as__process_run(lua_State *L);

#endif
