/* fuzz_csv_spans.c - libFuzzer harness for the parallel spans of `data check` (checks/schema_check.c):
 * the fuzzed bytes are a CSV file validated against a fixed schema by the streaming reader alone and by
 * 1 to 4 spans of a fuzzed size; the reports (or error messages) must be identical. The same file's
 * fields also go through stats_add (an exact-size copy) and stats_add_padded (in the reader's buffer,
 * the SWAR decimal path): the statistics must be identical. No filesystem. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
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
	return 0;
}
