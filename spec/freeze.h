/* freeze.h - freeze windows of promotion policies: a date range or a weekly range, in UTC, and the
 * ISO-8601 times they are written with. Pure functions of their arguments (no clock, no I/O). */
#ifndef MLCI_FREEZE_H
#define MLCI_FREEZE_H

#include <time.h>

/* "2026-12-24T00:00Z .. 2027-01-02T08:00Z" (absolute, ISO-8601 UTC; seconds, "T" and "Z" optional,
 * a date alone is midnight) or "Fri 18:00 .. Mon 08:00" (every week, UTC; Mon..Sun). The window
 * includes its start and excludes its end. */
struct freeze_window {
	int weekly;
	long long from, to; /* absolute: epoch seconds; weekly: seconds since Monday 00:00 */
};

/* Parse "text"; -1 with "*why" set (a static string) when it is not a window. */
int freeze_parse(const char *text, struct freeze_window *w, const char **why);
/* 1 when "now" is inside "w", with "*until" the end of this occurrence; 0 otherwise. */
int freeze_active(const struct freeze_window *w, time_t now, time_t *until);
/* Parse an ISO-8601 UTC time ("2026-11-25T19:14:30Z", seconds/"Z" optional, or a date) or a number of
 * seconds since the epoch. -1 when it is neither. */
int freeze_parse_time(const char *text, time_t *out);
/* "2026-11-25T19:14:30Z" into out (21+ bytes). */
void freeze_format_time(time_t t, char *out, size_t n);

#endif
