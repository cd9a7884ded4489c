/* fuzz_stats_file.c - libFuzzer harness for the saved statistics file (`--save-stats`): load, query every
 * quantile, re-save and re-load, compare against itself. It must not touch the filesystem. */
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "checks/drift.h"
#include "checks/stats.h"
#include "common/error.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct stats s, t;
	struct err e = ERR_INIT;
	struct drift_report r;
	struct drift_opts o;
	cJSON *j;
	char *text;
	if (stats_load_buffer(&s, (const char *)data, size, &e) < 0) {
		err_release(&e);
		return 0;
	}
	for (size_t i = 0; i < s.n_cols; i++)
		for (int q = 0; q <= 100; q++) {
			double v = stats_quantile(&s.cols[i], q / 100.0);
			if (stats_col_type(&s.cols[i]) == STATS_NUMERIC && !(v >= s.cols[i].min && v <= s.cols[i].max))
				__builtin_trap(); /* a quantile is always within [min, max] */
		}
	/* what loaded must save and load again */
	j = stats_to_json(&s);
	text = cJSON_PrintUnformatted(j);
	cJSON_Delete(j);
	if (!text || stats_load_buffer(&t, text, strlen(text), &e) < 0)
		__builtin_trap();
	free(text);
	/* a dataset never drifts from itself */
	drift_opts_init(&o);
	if (drift_compute(&r, &s, &t, &o, &e) < 0 || r.n_drifted != 0)
		__builtin_trap();
	drift_report_release(&r);
	stats_release(&t);
	stats_release(&s);
	err_release(&e);
	return 0;
}
