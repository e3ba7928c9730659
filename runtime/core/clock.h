/* clock.h -- the loop clock: monotonic nanoseconds since the loop started, read
 * from the system (real time) or moved only by the scheduler (virtual time). */
#ifndef ASCHED_CLOCK_H
#define ASCHED_CLOCK_H

#include <stdint.h>

#define AS_NEVER UINT64_MAX

typedef struct as_clock {
  int is_virtual;
  uint64_t origin;       /* uv_hrtime() when the loop started (real time) */
  uint64_t virtual_now;  /* the clock itself (virtual time) */
} as_clock;

void as_clock_init(as_clock *c, int is_virtual);
uint64_t as_clock_now(const as_clock *c);

/* Virtual time only: jumps forward to `t`; never moves backwards. */
void as_clock_advance(as_clock *c, uint64_t t);

/* Seconds (>= 0, finite) to a whole number of nanoseconds, rounded up so a
 * sleep never ends early; AS_NEVER when the duration does not fit. */
uint64_t as_clock_duration(double seconds);

/* The point `seconds` on the loop clock (as asched.now() reports it), to the
 * nearest nanosecond, so that a reading of now() converts back to the very
 * instant it was taken; 0 for earlier points, AS_NEVER past the range. */
uint64_t as_clock_point(double seconds);

#endif
