/* fuzz_csv_spans.c - libFuzzer harness for the parallel spans of `data check` (checks/schema_check.c):
 * the fuzzed bytes are a CSV file validated against a fixed schema by the streaming reader alone and by
 * 1 to 4 spans of a fuzzed size; the reports (or error messages) must be identical. The same file's
 * fields also go through stats_add (an exact-size copy) and stats_add_padded (in the reader's buffer,
 * the SWAR decimal path): the statistics must be identical; and the statistics of the whole file read
 * in spans (stats_from_data_stream) must be those of one value at a time: counts, extremes, sketch
 * buckets and (when no table overflowed) categories identical, mean and std close. No filesystem. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "checks/csv.h"
#include "checks/csv_spans.h"
#include "checks/schema.h"
#include "checks/stats.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char yaml[] = "columns:\n"
			   "  - { name: a, type: int, min: -5, max: 1000 }\n"
			   "  - { name: b, type: float, min: -1.5, max: 2000 }\n"
			   "  - { name: c, type: string, domain: [x, yy, a-value-longer-than-8, abcdefgh] }\n"
			   "  - { name: d, type: bool, nullable: true }\n"
			   "  - { name: e, type: string, nullable: true }\n"
			   "  - { name: f, type: int, domain: [1, 2, 3] }\n"
			   "  - { name: g, type: float, nullable: true, min: 0.1, max: 0.3 }\n"
			   "  - { name: h, type: bool, domain: [true, false] }\n";

static char *run(const struct schema *s, const char *d, size_t n, int spans, int threads)
{
	struct schema_report rep;
	struct err e = ERR_INIT;
	char *out;
	FILE *f = fmemopen((void *)d, n, "r");
	int k;
	if (!f)
		return NULL;
	k = schema_validate_stream(s, f, "fuzz.csv", spans ? d : NULL, spans ? n : 0, threads, &rep, &e);
	fclose(f);
	if (k) {
		const char *m = err_msg(&e);
		out = malloc(strlen(m) + 1);
		memcpy(out, m, strlen(m) + 1);
	} else {
		cJSON *j = schema_report_json(&rep);
		out = cJSON_PrintUnformatted(j);
		cJSON_Delete(j);
	}
	schema_report_release(&rep);
	err_release(&e);
	return out;
}

/* The first 4 columns of every record through stats_add and stats_add_padded. */
static void stats_same(const char *d, size_t n)
{
	struct csv_reader r;
	struct err e = ERR_INIT;
	struct stats a, b;
	const char *names[] = { "a", "b", "c", "d" };
	FILE *f = fmemopen((void *)d, n, "r");
	if (!f)
		return;
	stats_init(&a, names, 4);
	stats_init(&b, names, 4);
	if (csv_open_stream(&r, f, "fuzz.csv", CSV_FORMAT_CSV, &e) == 0) {
		while (csv_next(&r, &e) > 0)
			for (size_t j = 0; j < 4 && j < r.n_fields; j++) {
				size_t len = r.fields[j].len;
				char *exact = malloc(len ? len : 1);
				memcpy(exact, r.fields[j].ptr, len);
				stats_add(&a.cols[j], exact, len);
				stats_add_padded(&b.cols[j], r.fields[j].ptr, len);
				free(exact);
			}
		csv_close(&r);
	}
	fclose(f);
	{
		cJSON *ja = stats_to_json(&a), *jb = stats_to_json(&b);
		char *ta = cJSON_PrintUnformatted(ja), *tb = cJSON_PrintUnformatted(jb);
		if (!ta || !tb || strcmp(ta, tb))
			__builtin_trap();
		free(ta);
		free(tb);
		cJSON_Delete(ja);
		cJSON_Delete(jb);
	}
	stats_release(&a);
	stats_release(&b);
	err_release(&e);
}

static void same_col(const struct stats_col *a, const struct stats_col *b)
{
	int64_t *oa, *ob;
	uint64_t *ca, *cb;
	size_t na, nb;
	double scale = fabs(a->min) + fabs(a->max);
	if (a->count != b->count || a->nulls != b->nulls || a->n_num != b->n_num ||
	    stats_col_type(a) != stats_col_type(b))
		__builtin_trap();
	if (a->n_num && (a->min != b->min || a->max != b->max))
		__builtin_trap();
	if (a->n_num && isfinite(a->mean) && isfinite(b->mean) && fabs(a->mean - b->mean) > 1e-9 * scale)
		__builtin_trap();
	na = stats_sketch_ordinals(&a->sk, &oa, &ca);
	nb = stats_sketch_ordinals(&b->sk, &ob, &cb);
	if (na != nb || memcmp(oa, ob, na * sizeof(*oa)) || memcmp(ca, cb, na * sizeof(*ca)))
		__builtin_trap();
	free(oa);
	free(ob);
	free(ca);
	free(cb);
	if (stats_col_type(a) == STATS_CATEGORICAL && !a->cats.other) {
		const struct stats_cat **va, **vb;
		na = stats_categories(a, &va);
		nb = stats_categories(b, &vb);
		if (na != nb || b->cats.other)
			__builtin_trap();
		for (size_t i = 0; i < na; i++)
			if (va[i]->len != vb[i]->len || memcmp(va[i]->s, vb[i]->s, va[i]->len) ||
			    va[i]->count != vb[i]->count)
				__builtin_trap();
		free(va);
		free(vb);
	}
}

/* Every column one value at a time through the reader, and the file in spans on "threads" threads. */
static void spans_stats_same(const char *d, size_t n, int threads)
{
	struct csv_reader r;
	struct err e = ERR_INIT, e2 = ERR_INIT;
	struct stats a, b;
	int ka = -1, kb;
	FILE *f = fmemopen((void *)d, n, "r"), *g;
	if (!f)
		return;
	memset(&a, 0, sizeof(a));
	if (csv_open_stream(&r, f, "fuzz.csv", CSV_FORMAT_CSV, &e) == 0) {
		stats_init(&a, (const char *const *)r.names, r.n_names);
		while ((ka = csv_next(&r, &e)) > 0) {
			a.rows++;
			for (size_t j = 0; j < r.n_names; j++)
				stats_add(&a.cols[j], j < r.n_fields ? r.fields[j].ptr : NULL,
					  j < r.n_fields ? r.fields[j].len : 0);
		}
		csv_close(&r);
	}
	fclose(f);
	g = fmemopen((void *)d, n, "r");
	if (!g)
		return;
	kb = stats_from_data_stream(&b, g, "fuzz.csv", d, n, threads, NULL, 0, &e2);
	fclose(g);
	if ((ka < 0) != (kb < 0))
		__builtin_trap();
	if (ka == 0) {
		if (a.rows != b.rows || a.n_cols != b.n_cols)
			__builtin_trap();
		for (size_t j = 0; j < a.n_cols; j++)
			same_col(&a.cols[j], &b.cols[j]);
		stats_release(&b);
	}
	stats_release(&a);
	err_release(&e);
	err_release(&e2);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct schema s;
	static int ready;
	char *want, *got;
	if (!ready) {
		struct strvec d = STRVEC_INIT;
		if (schema_parse_buffer(&s, yaml, strlen(yaml), "s.yaml", &d))
			__builtin_trap();
		strvec_clear(&d);
		ready = 1;
	}
	if (size < 2)
		return 0;
	/* byte 0: threads (1-4) and span size (1 to 64 bytes); the rest is the file */
	csv_span_min = 1 + (size_t)(data[0] >> 2);
	want = run(&s, (const char *)data + 1, size - 1, 0, 2);
	got = run(&s, (const char *)data + 1, size - 1, 1, 1 + (data[0] & 3));
	if (!want || !got || strcmp(want, got))
		__builtin_trap();
	free(want);
	free(got);
	stats_same((const char *)data + 1, size - 1);
	spans_stats_same((const char *)data + 1, size - 1, 1 + (data[0] & 3));
	return 0;
}
