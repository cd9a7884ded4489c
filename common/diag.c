/* diag.c - the diagnostics list (common/diag.h): add with a cap and terminal-safe text, sort by position,
 * format as FILE:LINE:COL: KEY: MESSAGE. It knows no file format and never prints. */
#include "common/diag.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "common/alloc.h"
#include "common/banned.h"

#define QUOTED_MAX 64   /* longer quoted values are cut with "..." */
#define KEY_MAX    256  /* bytes of a key path kept */
#define MSG_MAX    1024 /* bytes of a message kept */

void diags_init(struct diags *d)
{
	memset(d, 0, sizeof(*d));
	d->max = DIAGS_MAX;
}

void diags_release(struct diags *d)
{
	for (size_t i = 0; i < d->n; i++) {
		free(d->items[i].key);
		free(d->items[i].msg);
	}
	free(d->items);
	free(d->file);
	diags_init(d);
}

void diags_set_file(struct diags *d, const char *file)
{
	if (d->file && file && !strcmp(d->file, file))
		return;
	free(d->file);
	d->file = file ? xstrdup(file) : NULL;
}

/* Copy text that may quote the user's values into "out" fit for a terminal: control characters
 * (C0, DEL, C1) escaped, every "quoted" run cut to QUOTED_MAX bytes at a character boundary, the
 * whole capped at "max" bytes. Quotes inside values may confuse the pairing; the output stays safe. */
static void sanitize(struct buf *out, const char *s, size_t max)
{
	int quoted = 0, cut = 0;
	size_t run = 0;
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (out->len >= max) {
			buf_addstr(out, "...");
			return;
		}
		if (*p == '"') {
			quoted = !quoted;
			run = 0;
			cut = 0;
			buf_addch(out, '"');
			continue;
		}
		if (quoted) {
			if ((*p & 0xc0) != 0x80)
				run++; /* a character starts here */
			if (run > QUOTED_MAX) {
				if (!cut)
					buf_addstr(out, "...");
				cut = 1;
				continue;
			}
		}
		if (*p == '\n')
			buf_addstr(out, "\\n");
		else if (*p == '\t')
			buf_addstr(out, "\\t");
		else if (*p == '\r')
			buf_addstr(out, "\\r");
		else if (*p < 0x20 || *p == 0x7f)
			buf_addf(out, "\\x%02x", *p);
		else if (*p == 0xc2 && p[1] >= 0x80 && p[1] <= 0x9f)
			buf_addf(out, "\\u%04x", *++p);
		else
			buf_addch(out, (char)*p);
	}
}

static char *keep(const char *s, size_t max, int verbatim)
{
	struct buf b = BUF_INIT;
	if (verbatim)
		return xstrdup(s);
	sanitize(&b, s, max);
	return buf_detach(&b, NULL);
}

/* Past d->max items a single "too many errors" entry is added and everything after it is dropped, so a
 * hostile file cannot make the list (or the output) huge. */
void diags_vadd(struct diags *d, struct diag_pos pos, const char *key, const char *fmt, va_list ap)
{
	struct buf msg = BUF_INIT;
	struct diag *dg;
	if (d->max && d->n > d->max)
		return;
	ALLOC_GROW(d->items, d->n + 1, d->alloc);
	dg = &d->items[d->n++];
	dg->pos = pos;
	if (d->max && d->n == d->max + 1) {
		dg->key = xstrdup("");
		dg->msg = xstrdup("too many errors; stopping here");
		return;
	}
	buf_vaddf(&msg, fmt, ap);
	dg->key = keep(key ? key : "", KEY_MAX, d->verbatim);
	dg->msg = keep(msg.ptr, MSG_MAX, d->verbatim);
	buf_release(&msg);
}

void diags_add(struct diags *d, struct diag_pos pos, const char *key, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	diags_vadd(d, pos, key, fmt, ap);
	va_end(ap);
}

static int pos_before(struct diag_pos a, struct diag_pos b)
{
	return a.line < b.line || (a.line == b.line && a.col < b.col);
}

/* Insertion sort: stable, and the list is at most d->max items long when a cap is set. */
void diags_sort(struct diags *d, size_t from)
{
	size_t end = d->max && d->n > d->max ? d->max : d->n;
	for (size_t i = from + 1; i < end; i++) {
		struct diag t = d->items[i];
		size_t j = i;
		while (j > from && pos_before(t.pos, d->items[j - 1].pos)) {
			d->items[j] = d->items[j - 1];
			j--;
		}
		d->items[j] = t;
	}
}

void diag_format(const struct diags *d, size_t i, struct buf *out)
{
	const struct diag *dg;
	if (i >= d->n)
		return;
	dg = &d->items[i];
	buf_addstr(out, d->file ? d->file : "");
	if (dg->pos.line)
		buf_addf(out, ":%u:%u", dg->pos.line, dg->pos.col);
	buf_addstr(out, ": ");
	if (dg->key && *dg->key)
		buf_addf(out, "%s: ", dg->key);
	buf_addstr(out, dg->msg);
}

void diags_to_strvec(const struct diags *d, struct strvec *out)
{
	struct buf b = BUF_INIT;
	for (size_t i = 0; i < d->n; i++) {
		buf_reset(&b);
		diag_format(d, i, &b);
		strvec_push(out, b.ptr);
	}
	buf_release(&b);
}
