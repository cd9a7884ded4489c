/* spec_values.c - the small grammars of mlci.yaml values: numbers, durations, sizes, thresholds,
 * tolerances, cron schedules, branch globs, URLs and ssh targets. Pure string functions: no YAML, no I/O. */
#include "spec/spec_int.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "common/banned.h"

static int is_digit(char ch)
{
	return ch >= '0' && ch <= '9';
}

/* ASCII only, whatever the locale says */
static int is_alnum(char ch)
{
	return is_digit(ch) || (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z');
}

static int is_xdigit(char ch)
{
	return is_digit(ch) || (ch >= 'a' && ch <= 'f') || (ch >= 'A' && ch <= 'F');
}

static int is_space_or_cntrl(char ch)
{
	return ch == ' ' || (unsigned char)ch < 0x20 || ch == 0x7f;
}

/* Parse a run of decimal digits at *p into *v (overflow checked); -1 if there are none or on overflow. */
static int digits(const char **p, int64_t *v)
{
	const char *s = *p;
	int64_t x = 0;
	if (!is_digit(*s))
		return -1;
	for (; is_digit(*s); s++) {
		int d = *s - '0';
		if (x > (INT64_MAX - d) / 10)
			return -1;
		x = x * 10 + d;
	}
	*p = s;
	*v = x;
	return 0;
}

/* Strict decimal: [+-]? (D+ (. D*)? | . D+) ([eE] [+-]? D+)?. Converted without strtod so the result
 * does not depend on the locale's decimal point. */
int spec_parse_number(const char *s, double *out)
{
	const char *p = s;
	int neg = 0, exp_neg = 0;
	uint64_t mant = 0;
	long exp10 = 0, e = 0;
	double v;
	if (*p == '+' || *p == '-')
		neg = *p++ == '-';
	if (!is_digit(*p) && !(*p == '.' && is_digit(p[1])))
		return -1;
	for (; is_digit(*p); p++) {
		if (mant < 100000000000000000ULL)
			mant = mant * 10 + (uint64_t)(*p - '0');
		else
			exp10++; /* digits past 17 only scale */
	}
	if (*p == '.') {
		for (p++; is_digit(*p); p++) {
			if (mant < 100000000000000000ULL) {
				mant = mant * 10 + (uint64_t)(*p - '0');
				exp10--;
			}
		}
	}
	if (*p == 'e' || *p == 'E') {
		p++;
		if (*p == '+' || *p == '-')
			exp_neg = *p++ == '-';
		if (!is_digit(*p))
			return -1;
		for (; is_digit(*p); p++)
			if (e < 100000)
				e = e * 10 + (*p - '0');
		exp10 += exp_neg ? -e : e;
	}
	if (*p)
		return -1;
	/* exact for mantissas below 2^53 and small exponents (the usual case); close enough otherwise */
	if (exp10 >= 0 && exp10 <= 22)
		v = (double)mant * pow(10.0, (double)exp10);
	else if (exp10 < 0 && exp10 >= -22)
		v = (double)mant / pow(10.0, (double)-exp10);
	else
		v = (double)mant * pow(10.0, (double)exp10);
	if (!isfinite(v))
		return -1;
	*out = neg ? -v : v;
	return 0;
}

int spec_parse_duration(const char *s, int64_t *ms)
{
	const char *p = s;
	int64_t total = 0;
	if (!s || !*s)
		return -1;
	while (*p) {
		int64_t v, mul;
		if (digits(&p, &v) < 0)
			return -1;
		if (p[0] == 'm' && p[1] == 's') {
			mul = 1;
			p += 2;
		} else if (*p == 's') {
			mul = 1000;
			p++;
		} else if (*p == 'm') {
			mul = 60 * 1000;
			p++;
		} else if (*p == 'h') {
			mul = 3600 * 1000;
			p++;
		} else if (*p == 'd') {
			mul = 86400 * 1000;
			p++;
		} else {
			return -1;
		}
		if (v > (INT64_MAX - total) / mul)
			return -1;
		total += v * mul;
	}
	*ms = total;
	return 0;
}

int spec_parse_size(const char *s, int64_t *bytes)
{
	static const struct {
		const char *sfx;
		int64_t mul;
	} units[] = {
		{ "Ki", 1LL << 10 }, { "Mi", 1LL << 20 },   { "Gi", 1LL << 30 },
		{ "Ti", 1LL << 40 }, { "k", 1000LL },       { "K", 1000LL },
		{ "M", 1000000LL },  { "G", 1000000000LL }, { "T", 1000000000000LL },
	};
	const char *p = s;
	int64_t v, mul = 1;
	if (!s || digits(&p, &v) < 0)
		return -1;
	if (*p) {
		size_t i;
		for (i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
			size_t l = strlen(units[i].sfx);
			if (!strncmp(p, units[i].sfx, l)) {
				mul = units[i].mul;
				p += l;
				break;
			}
		}
		if (*p == 'B')
			p++; /* "512MiB", "1GB", "100B" */
		if (*p)
			return -1;
	}
	if (v > INT64_MAX / mul)
		return -1;
	*bytes = v * mul;
	return 0;
}

int spec_parse_threshold(const char *s, enum spec_cmp *op, double *value)
{
	const char *p = s;
	size_t l;
	char num[64];
	while (*p == ' ' || *p == '\t')
		p++;
	if (p[0] == '>' && p[1] == '=') {
		*op = SPEC_GE;
		p += 2;
	} else if (p[0] == '<' && p[1] == '=') {
		*op = SPEC_LE;
		p += 2;
	} else if (p[0] == '=' && p[1] == '=') {
		*op = SPEC_EQ;
		p += 2;
	} else if (p[0] == '>') {
		*op = SPEC_GT;
		p++;
	} else if (p[0] == '<') {
		*op = SPEC_LT;
		p++;
	} else {
		return -1;
	}
	while (*p == ' ' || *p == '\t')
		p++;
	l = strlen(p);
	while (l && (p[l - 1] == ' ' || p[l - 1] == '\t'))
		l--;
	if (!l || l >= sizeof(num))
		return -1;
	memcpy(num, p, l);
	num[l] = '\0';
	return spec_parse_number(num, value);
}

int spec_parse_tolerance(const char *s, double *value, int *relative)
{
	size_t l = strlen(s);
	char num[64];
	double v;
	if (l && s[l - 1] == '%') {
		if (l - 1 >= sizeof(num))
			return -1;
		memcpy(num, s, l - 1);
		num[l - 1] = '\0';
		if (spec_parse_number(num, &v) < 0 || v < 0)
			return -1;
		*value = v / 100.0;
		*relative = 1;
		return 0;
	}
	if (spec_parse_number(s, &v) < 0 || v < 0)
		return -1;
	*value = v;
	*relative = 0;
	return 0;
}

/* ---------- cron ---------- */

static const struct {
	const char *name;
	int lo, hi;
} cron_fields[5] = {
	{ "minute", 0, 59 }, { "hour", 0, 23 }, { "day of month", 1, 31 }, { "month", 1, 12 }, { "day of week", 0, 7 },
};

/* One field: a comma-separated list of "*", "N", "N-M", each optionally followed by "/STEP". */
static int cron_field(const char *f, size_t len, int which, struct buf *why)
{
	const char *p = f, *end = f + len;
	int lo = cron_fields[which].lo, hi = cron_fields[which].hi;
	const char *name = cron_fields[which].name;
	for (;;) {
		int64_t a = lo, b = hi, step;
		if (p < end && *p == '*') {
			p++;
		} else {
			if (p >= end || !is_digit(*p)) {
				buf_addf(why, "%s field \"%.*s\" is not a number, range, list or \"*\"", name, (int)len,
					 f);
				return -1;
			}
			if (digits(&p, &a) < 0 || a < lo || a > hi) {
				buf_addf(why, "%s \"%.*s\" is out of range %d-%d", name, (int)len, f, lo, hi);
				return -1;
			}
			b = a;
			if (p < end && *p == '-') {
				p++;
				if (p >= end || digits(&p, &b) < 0 || b < lo || b > hi || b < a) {
					buf_addf(why, "%s range in \"%.*s\" is not N-M with %d <= N <= M <= %d", name,
						 (int)len, f, lo, hi);
					return -1;
				}
			}
		}
		if (p < end && *p == '/') {
			p++;
			if (p >= end || digits(&p, &step) < 0 || step < 1 || step > hi) {
				buf_addf(why, "%s step in \"%.*s\" must be a number from 1 to %d", name, (int)len, f,
					 hi);
				return -1;
			}
		}
		if (p == end)
			return 0;
		if (*p != ',' || p + 1 == end) {
			buf_addf(why, "%s field \"%.*s\" is not a number, range, list or \"*\"", name, (int)len, f);
			return -1;
		}
		p++;
	}
}

int spec_check_cron(const char *s, struct buf *why)
{
	const char *start[6];
	size_t len[6];
	size_t nf = 0;
	const char *p = s;
	for (;;) {
		while (*p == ' ' || *p == '\t')
			p++;
		if (!*p)
			break;
		if (nf == 5) {
			nf++;
			break;
		}
		start[nf] = p;
		while (*p && *p != ' ' && *p != '\t')
			p++;
		len[nf] = (size_t)(p - start[nf]);
		nf++;
	}
	if (nf != 5) {
		buf_addstr(why, "expected 5 fields: minute hour day-of-month month day-of-week, e.g. \"0 3 * * *\"");
		return -1;
	}
	for (int i = 0; i < 5; i++)
		if (cron_field(start[i], len[i], i, why) < 0)
			return -1;
	return 0;
}

/* ---------- globs, URLs, ssh targets, names ---------- */

int spec_check_glob(const char *g, const char **why)
{
	const char *p = g;
	if (!*g) {
		*why = "is empty";
		return -1;
	}
	for (; *p; p++) {
		if (is_space_or_cntrl(*p)) {
			*why = "contains whitespace or a control character";
			return -1;
		}
		if (*p == '\\') {
			if (!p[1]) {
				*why = "ends with a backslash";
				return -1;
			}
			p++;
		} else if (*p == '[') {
			const char *q = p + 1;
			if (*q == '!' || *q == '^')
				q++;
			if (*q == ']')
				q++; /* a leading ']' is literal */
			while (*q && *q != ']')
				q++;
			if (!*q) {
				*why = "has a \"[\" without a matching \"]\"";
				return -1;
			}
			p = q;
		} else if (*p == ']') {
			*why = "has a \"]\" without a matching \"[\"";
			return -1;
		}
	}
	return 0;
}

int spec_check_url(const char *s)
{
	const char *host;
	if (!strncmp(s, "http://", 7))
		host = s + 7;
	else if (!strncmp(s, "https://", 8))
		host = s + 8;
	else
		return -1;
	if (!*host || *host == '/' || *host == ':' || *host == '?' || *host == '#')
		return -1;
	for (const char *p = s; *p; p++)
		if (is_space_or_cntrl(*p))
			return -1;
	return 0;
}

static int user_char(char ch)
{
	return is_alnum(ch) || ch == '.' || ch == '_' || ch == '-';
}

int spec_check_ssh(const char *s, const char **why)
{
	const char *p = s, *host;
	int64_t port;
	*why = "expected user@host or user@host:port, e.g. \"deploy@10.0.0.5:22\"";
	if (!user_char(*p) || *p == '-')
		return -1;
	while (user_char(*p))
		p++;
	if (*p != '@')
		return -1;
	host = ++p;
	if (*p == '[') {
		/* [v6]:port */
		p++;
		while (is_xdigit(*p) || *p == ':' || *p == '.')
			p++;
		if (*p != ']' || p == host + 1)
			return -1;
		p++;
	} else {
		if (!is_alnum(*p))
			return -1;
		while (is_alnum(*p) || *p == '.' || *p == '-' || *p == '_')
			p++;
	}
	if (!*p)
		return 0;
	if (*p != ':')
		return -1;
	p++;
	if (digits(&p, &port) < 0 || *p || port < 1 || port > 65535) {
		*why = "has a bad port (expected user@host:PORT with PORT from 1 to 65535)";
		return -1;
	}
	return 0;
}

/* lower_only: [a-z0-9][a-z0-9_-]* up to 63 characters (component and environment names).
 * Otherwise [A-Za-z0-9._-]+ up to 128 characters, not "." or ".." (pipeline and model names). */
int spec_name_ok(const char *s, int lower_only)
{
	size_t n = strlen(s);
	if (!n)
		return 0;
	if (lower_only) {
		if (n > 63 || !((*s >= 'a' && *s <= 'z') || is_digit(*s)))
			return 0;
		for (const char *p = s; *p; p++)
			if (!((*p >= 'a' && *p <= 'z') || is_digit(*p) || *p == '_' || *p == '-'))
				return 0;
		return 1;
	}
	if (n > 128 || !strcmp(s, ".") || !strcmp(s, ".."))
		return 0;
	for (const char *p = s; *p; p++)
		if (!(is_alnum(*p) || *p == '.' || *p == '_' || *p == '-'))
			return 0;
	return 1;
}
