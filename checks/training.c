/* training.c - training checks: loss convergence from history.csv, the overfit-sample bound, and the
 * NaN/Inf scan of JSON and CSV outputs. Verdicts only (record/verdict.h); it never prints. */
#include "checks/training.h"

#include <cjson/cJSON.h>
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "checks/csv.h"
#include "checks/stats.h"
#include "common/alloc.h"
#include "common/buf.h"
#include "common/clock.h"
#include "common/banned.h"

int training_loss_column(const char *const *names, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!strcasecmp(names[i], "loss"))
			return (int)i;
	for (size_t i = 0; i < n; i++) {
		for (const char *p = names[i]; *p; p++)
			if (!strncasecmp(p, "loss", 4))
				return (int)i;
	}
	return -1;
}

int training_converged(const double *losses, size_t n, size_t window, double ratio, double *first_mean,
		       double *last_mean, size_t *used_window)
{
	double a = 0, b = 0;
	size_t w = window ? window : TRAINING_WINDOW_DEFAULT;
	if (n < 2)
		return -1;
	for (size_t i = 0; i < n; i++)
		if (!isfinite(losses[i]))
			return -1;
	if (w > n / 3)
		w = n / 3;
	if (w < 1)
		w = 1;
	for (size_t i = 0; i < w; i++) {
		a += losses[i];
		b += losses[n - w + i];
	}
	a /= (double)w;
	b /= (double)w;
	*first_mean = a;
	*last_mean = b;
	*used_window = w;
	return b < ratio * a ? 1 : 0;
}

void training_check_converges(struct verdicts *out, const char *path, const char *display, int64_t window, double ratio)
{
	int64_t t0 = clock_wall_ms();
	struct csv_reader rd;
	struct err e = ERR_INIT;
	double *loss = NULL, first = 0, last = 0;
	size_t n = 0, alloc = 0, used = 0;
	int col, rc;
	cJSON *d;

	if (ratio <= 0)
		ratio = TRAINING_RATIO_DEFAULT;
	if (csv_open(&rd, path, &e) < 0) {
		verdicts_add(out, "training.converges", "training", VERDICT_FAIL, NULL, t0, clock_wall_ms() - t0,
			     "%s: %s", display, err_msg(&e));
		err_release(&e);
		return;
	}
	col = training_loss_column((const char *const *)rd.names, rd.n_names);
	if (col < 0) {
		verdicts_add(out, "training.converges", "training", VERDICT_FAIL, NULL, t0, clock_wall_ms() - t0,
			     "%s: no loss column (a column named loss, or containing \"loss\")", display);
		csv_close(&rd);
		return;
	}
	while ((rc = csv_next(&rd, &e)) == 1) {
		double x = NAN;
		if ((size_t)col < rd.n_fields && rd.fields[col].ptr &&
		    !stats_parse_number(rd.fields[col].ptr, rd.fields[col].len, &x)) {
			if (!strcasecmp(rd.fields[col].ptr, "inf") || !strcasecmp(rd.fields[col].ptr, "infinity"))
				x = INFINITY;
			else
				x = NAN;
		}
		ALLOC_GROW(loss, n + 1, alloc);
		loss[n++] = x;
	}
	if (rc < 0) {
		verdicts_add(out, "training.converges", "training", VERDICT_FAIL, NULL, t0, clock_wall_ms() - t0, "%s",
			     err_msg(&e));
		goto done;
	}
	d = cJSON_CreateObject();
	cJSON_AddStringToObject(d, "history", display);
	cJSON_AddStringToObject(d, "column", rd.names[col]);
	cJSON_AddNumberToObject(d, "rows", (double)n);
	cJSON_AddNumberToObject(d, "ratio", ratio);
	rc = training_converged(loss, n, window > 0 ? (size_t)window : 0, ratio, &first, &last, &used);
	if (rc < 0) {
		size_t bad = 0;
		while (bad < n && isfinite(loss[bad]))
			bad++;
		if (n < 2)
			verdicts_add(out, "training.converges", "training", VERDICT_FAIL, d, t0, clock_wall_ms() - t0,
				     "%s: %zu rows of %s, at least 2 needed", display, n, rd.names[col]);
		else
			verdicts_add(out, "training.converges", "training", VERDICT_FAIL, d, t0, clock_wall_ms() - t0,
				     "%s: %s is not a finite number on row %zu", display, rd.names[col], bad + 1);
		goto done;
	}
	cJSON_AddNumberToObject(d, "window", (double)used);
	cJSON_AddNumberToObject(d, "first_mean", first);
	cJSON_AddNumberToObject(d, "last_mean", last);
	cJSON_AddNumberToObject(d, "limit", ratio * first);
	if (rc)
		verdicts_add(out, "training.converges", "training", VERDICT_PASS, d, t0, clock_wall_ms() - t0,
			     "%s mean of last %zu %.4g < %.4g (%g x first %zu %.4g)", rd.names[col], used, last,
			     ratio * first, ratio, used, first);
	else
		verdicts_add(out, "training.converges", "training", VERDICT_FAIL, d, t0, clock_wall_ms() - t0,
			     "%s mean of last %zu %.4g >= %.4g (%g x first %zu %.4g): not converging", rd.names[col],
			     used, last, ratio * first, ratio, used, first);
done:
	free(loss);
	err_release(&e);
	csv_close(&rd);
}

static int is_word(int c)
{
	return isalnum(c) || c == '_' || c == '.';
}

/* A NaN/Inf spelling (optionally signed), case-insensitive. */
static int nan_word(const char *p, size_t len)
{
	static const char *const words[] = { "nan", "inf", "infinity" };
	if (len && (*p == '-' || *p == '+')) {
		p++;
		len--;
	}
	for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++)
		if (len == strlen(words[i]) && !strncasecmp(p, words[i], len))
			return 1;
	return 0;
}

int training_find_nan(const char *path, uint64_t *line, uint64_t *col, char token[32], struct err *e)
{
	struct buf b = BUF_INIT;
	size_t plen = strlen(path);
	int json = plen >= 5 && !strcmp(path + plen - 5, ".json");
	uint64_t ln = 1;
	size_t line_start = 0;
	int in_str = 0;
	if (buf_read_file(&b, path) < 0) {
		buf_release(&b);
		return err_errno(e, MLCI_EINFRA, "could not read '%s'", path);
	}
	for (size_t i = 0; i < b.len; i++) {
		char c = b.ptr[i];
		if (c == '\n') {
			ln++;
			line_start = i + 1;
			continue;
		}
		if (json && in_str) {
			if (c == '\\')
				i++;
			else if (c == '"')
				in_str = 0;
			continue;
		}
		if (json && c == '"') {
			in_str = 1;
			continue;
		}
		if (c == '"' && !json)
			continue;
		if (isalpha((unsigned char)c) || c == '-' || c == '+') {
			size_t s = i, j = i;
			if (s > 0 && is_word((unsigned char)b.ptr[s - 1]))
				goto skip;
			if (c == '-' || c == '+')
				j++;
			while (j < b.len && is_word((unsigned char)b.ptr[j]))
				j++;
			if (nan_word(b.ptr + s, j - s)) {
				*line = ln;
				*col = (uint64_t)(s - line_start + 1);
				snprintf(token, 32, "%.*s", (int)(j - s > 31 ? 31 : j - s), b.ptr + s);
				buf_release(&b);
				return 1;
			}
			i = j > i ? j - 1 : i;
			continue;
		skip:
			while (i + 1 < b.len && is_word((unsigned char)b.ptr[i + 1]))
				i++;
		}
	}
	buf_release(&b);
	return 0;
}

void training_check_no_nan(struct verdicts *out, const char *const *paths, const char *const *display, size_t n)
{
	int64_t t0 = clock_wall_ms();
	cJSON *d = cJSON_CreateObject(), *files = cJSON_AddArrayToObject(d, "files");
	for (size_t i = 0; i < n; i++) {
		uint64_t line = 0, col = 0;
		char tok[32];
		struct err e = ERR_INIT;
		int rc = training_find_nan(paths[i], &line, &col, tok, &e);
		cJSON_AddItemToArray(files, cJSON_CreateString(display[i]));
		if (rc != 0) {
			if (rc > 0) {
				cJSON_AddStringToObject(d, "path", display[i]);
				cJSON_AddNumberToObject(d, "line", (double)line);
				cJSON_AddNumberToObject(d, "column", (double)col);
				cJSON_AddStringToObject(d, "value", tok);
				verdicts_add(out, "training.no_nan", "training", VERDICT_FAIL, d, t0,
					     clock_wall_ms() - t0, "%s:%llu:%llu: %s", display[i],
					     (unsigned long long)line, (unsigned long long)col, tok);
			} else {
				verdicts_add(out, "training.no_nan", "training", VERDICT_FAIL, d, t0,
					     clock_wall_ms() - t0, "%s: %s", display[i], err_msg(&e));
			}
			err_release(&e);
			return;
		}
	}
	verdicts_add(out, "training.no_nan", "training", VERDICT_PASS, d, t0, clock_wall_ms() - t0,
		     "no NaN or Inf in %zu file%s", n, n == 1 ? "" : "s");
}

int training_last_number(const char *text, double *out)
{
	const char *p = text;
	int found = 0;
	while (p && *p) {
		size_t len;
		double x;
		while (*p && isspace((unsigned char)*p))
			p++;
		len = strcspn(p, " \t\r\n");
		if (len && stats_parse_number(p, len, &x)) {
			*out = x;
			found = 1;
		}
		p += len;
	}
	return found;
}
