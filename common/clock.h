/* clock.h - the one clock: wall-clock milliseconds since the epoch (for records and timestamps) and
 * monotonic milliseconds/nanoseconds (for deadlines and durations). Must not sleep or keep state. */
#ifndef MLCI_CLOCK_H
#define MLCI_CLOCK_H

#include <stdint.h>

/* Milliseconds since 1970-01-01 UTC (CLOCK_REALTIME): what a record stores; may jump when the clock is set. */
int64_t clock_wall_ms(void);
/* Milliseconds from a monotonic clock (CLOCK_MONOTONIC): for deadlines and elapsed time only. */
int64_t clock_mono_ms(void);
/* Nanoseconds from the same monotonic clock, for latencies below a millisecond. */
uint64_t clock_mono_ns(void);

#endif
