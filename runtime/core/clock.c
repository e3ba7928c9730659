/* clock.c -- the loop clock (see clock.h). Owns no handle; reads uv_hrtime. */
#include "clock.h"

#include <math.h>
#include <uv.h>

void as_clock_init(as_clock *c, int is_virtual) {
  c->is_virtual = is_virtual;
  c->origin = uv_hrtime();
  c->virtual_now = 0;
}

uint64_t as_clock_now(const as_clock *c) {
  return c->is_virtual ? c->virtual_now : uv_hrtime() - c->origin;
}

void as_clock_advance(as_clock *c, uint64_t t) {
  if (c->is_virtual && t > c->virtual_now) c->virtual_now = t;
}

uint64_t as_clock_duration(double seconds) {
  double ns = ceil(seconds * 1e9);
  if (!(ns < 9.2e18)) return AS_NEVER; /* also catches +inf */
  return ns <= 0 ? 0 : (uint64_t)ns;
}

uint64_t as_clock_point(double seconds) {
  double ns = nearbyint(seconds * 1e9);
  if (!(ns < 9.2e18)) return AS_NEVER;
  return ns <= 0 ? 0 : (uint64_t)ns;
}
