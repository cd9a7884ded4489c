/* clock.h - the one clock: wall time for what is recorded (ms since the epoch) and a monotonic clock for
 * what is measured (durations, timeouts). Reads the clocks; it must not sleep or keep state. */
#ifndef MLCI_CLOCK_H
#define MLCI_CLOCK_H

#include <stdint.h>

/* Milliseconds since the epoch (CLOCK_REALTIME). */
int64_t clock_wall_ms(void);
/* Milliseconds from an arbitrary fixed point (CLOCK_MONOTONIC); only differences mean anything. */
int64_t clock_mono_ms(void);

#endif
