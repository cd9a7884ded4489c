/* fuzz_csv_spans.c - libFuzzer harness for the parallel spans of `data check` (checks/schema_check.c):
 * the fuzzed bytes are a CSV file validated against a fixed schema by the streaming reader alone and by
 * 1 to 4 spans of a fuzzed size; the reports (or error messages) must be identical. No filesystem. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "checks/schema.h"

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
	schema_span_min = 1 + (size_t)(data[0] >> 2);
	want = run(&s, (const char *)data + 1, size - 1, 0, 2);
	got = run(&s, (const char *)data + 1, size - 1, 1, 1 + (data[0] & 3));
	if (!want || !got || strcmp(want, got))
		__builtin_trap();
	free(want);
	free(got);
	return 0;
}
