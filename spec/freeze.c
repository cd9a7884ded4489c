/* freeze.c - freeze windows (absolute or weekly, UTC) and ISO-8601 times for promotion policies.
 * Deliberately small grammars, documented in docs/promotion.md; no locale, no time zones but UTC. */
#include "spec/freeze.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/banned.h"

#define WEEK (7LL * 24 * 3600)

/* Exactly "n" digits at *p, advancing it. */
static int digits(const char **p, int n, int *out)
{
	int v = 0;
	for (int i = 0; i < n; i++) {
		if (!isdigit((unsigned char)(*p)[i]))
			return -1;
		v = v * 10 + ((*p)[i] - '0');
	}
	*p += n;
	*out = v;
	return 0;
}

/* ISO-8601 at "s" up to "end" (exclusive). */
static int parse_iso(const char *s, const char *end, time_t *out)
{
	struct tm tm;
	int y, mo, d, h = 0, mi = 0, se = 0;
	const char *p = s;
	memset(&tm, 0, sizeof(tm));
	if (end - p < 10 || digits(&p, 4, &y) < 0 || *p++ != '-' || digits(&p, 2, &mo) < 0 || *p++ != '-' ||
	    digits(&p, 2, &d) < 0)
		return -1;
	if (p < end && (*p == 'T' || *p == ' ')) {
		p++;
		if (end - p < 5 || digits(&p, 2, &h) < 0 || *p++ != ':' || digits(&p, 2, &mi) < 0)
			return -1;
		if (p < end && *p == ':') {
			p++;
			if (end - p < 2 || digits(&p, 2, &se) < 0)
				return -1;
		}
	}
	if (p < end && *p == 'Z')
		p++;
	if (p != end || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || se > 60)
		return -1;
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = se;
	*out = timegm(&tm);
	return 0;
}

int freeze_parse_time(const char *text, time_t *out)
{
	const char *end = text + strlen(text);
	if (*text && strspn(text, "0123456789") == strlen(text) && strlen(text) <= 12) {
		*out = (time_t)strtoll(text, NULL, 10);
		return 0;
	}
	return parse_iso(text, end, out);
}

void freeze_format_time(time_t t, char *out, size_t n)
{
	struct tm tm;
	gmtime_r(&t, &tm);
	strftime(out, n, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* "Fri 18:00" -> seconds since Monday 00:00. */
static int parse_weekly(const char *s, const char *end, long long *out)
{
	static const char *const days[] = { "mon", "tue", "wed", "thu", "fri", "sat", "sun" };
	const char *p = s;
	int h, m, day = -1;
	if (end - p < 9)
		return -1;
	for (int i = 0; i < 7; i++)
		if (!strncasecmp(p, days[i], 3))
			day = i;
	p += 3;
	if (day < 0 || *p++ != ' ' || digits(&p, 2, &h) < 0 || *p++ != ':' || digits(&p, 2, &m) < 0 || p != end ||
	    h > 24 || m > 59 || (h == 24 && m))
		return -1;
	*out = (long long)day * 86400 + h * 3600LL + m * 60LL;
	return 0;
}

static void trim(const char **s, const char **end)
{
	while (*s < *end && isspace((unsigned char)**s))
		(*s)++;
	while (*end > *s && isspace((unsigned char)(*end)[-1]))
		(*end)--;
}

int freeze_parse(const char *text, struct freeze_window *w, const char **why)
{
	const char *sep = strstr(text, "..");
	const char *a = text, *ae, *b, *be;
	time_t t1, t2;
	memset(w, 0, sizeof(*w));
	if (!sep) {
		*why = "expected FROM .. TO";
		return -1;
	}
	ae = sep;
	b = sep + 2;
	be = text + strlen(text);
	trim(&a, &ae);
	trim(&b, &be);
	if (a < ae && isdigit((unsigned char)*a)) {
		if (parse_iso(a, ae, &t1) < 0 || parse_iso(b, be, &t2) < 0) {
			*why = "expected ISO-8601 UTC times such as 2026-12-24T18:00Z";
			return -1;
		}
		if (t2 <= t1) {
			*why = "the window ends before it starts";
			return -1;
		}
		w->from = (long long)t1;
		w->to = (long long)t2;
		return 0;
	}
	if (parse_weekly(a, ae, &w->from) < 0 || parse_weekly(b, be, &w->to) < 0) {
		*why = "expected weekly times such as \"Fri 18:00 .. Mon 08:00\" or dates such as "
		       "\"2026-12-24 .. 2027-01-02\"";
		return -1;
	}
	if (w->from == w->to) {
		*why = "the window is empty";
		return -1;
	}
	w->weekly = 1;
	return 0;
}

int freeze_active(const struct freeze_window *w, time_t now, time_t *until)
{
	long long t = (long long)now, into, len;
	if (!w->weekly) {
		if (t >= w->from && t < w->to) {
			*until = (time_t)w->to;
			return 1;
		}
		return 0;
	}
	/* 1970-01-01 was a Thursday: Monday 00:00 of that week is 3 days earlier */
	into = ((t + 3 * 86400LL) % WEEK + WEEK) % WEEK;
	len = ((w->to - w->from) % WEEK + WEEK) % WEEK;
	{
		long long off = ((into - w->from) % WEEK + WEEK) % WEEK; /* time since the window last opened */
		if (off < len) {
			*until = (time_t)(t + (len - off));
			return 1;
		}
	}
	return 0;
}
