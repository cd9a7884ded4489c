/* verdict.h - the result of one check (data, training, model, infra, service): pass/warn/fail/skipped,
 * a one-line summary with the measured figures, and a JSON object of details. Every check produces these. */
#ifndef MLCI_VERDICT_H
#define MLCI_VERDICT_H

#include <stddef.h>
#include <stdint.h>

#include "common/error.h"

struct cJSON;

enum verdict_status { VERDICT_PASS = 0, VERDICT_WARN = 1, VERDICT_FAIL = 2, VERDICT_SKIPPED = 3 };

struct verdict {
	char *name;       /* e.g. "data.schema", "model.thresholds", "service.contract"; owned */
	const char *kind; /* "data" | "training" | "model" | "infra" | "service"; static string */
	enum verdict_status status;
	char *summary;         /* one line naming the figures, e.g. "accuracy 0.91 < 0.95"; owned */
	struct cJSON *details; /* JSON object of measured figures; owned; never NULL once added */
	int64_t started_ms;    /* wall clock, ms since the epoch */
	int64_t duration_ms;
};

/* A growing list of verdicts, in the order the checks ran. */
struct verdicts {
	struct verdict *items; /* owned */
	size_t n, alloc;
};

#define VERDICTS_INIT                                                                                                  \
	{                                                                                                              \
		NULL, 0, 0                                                                                             \
	}

/* "pass", "warn", "fail", "skipped". */
const char *verdict_status_name(enum verdict_status s);
/* Parse one of those names; -1 if unknown. */
int verdict_status_parse(const char *name, enum verdict_status *out);

/* Append a verdict; "details" (may be NULL = empty object) is taken over.
 * The summary is printf-formatted. Returns the new item (valid until the next add);
 * never NULL (allocation failure aborts, see common/alloc.h). */
struct verdict *verdicts_add(struct verdicts *v, const char *name, const char *kind, enum verdict_status status,
			     struct cJSON *details, int64_t started_ms, int64_t duration_ms, const char *fmt, ...)
	__attribute__((format(printf, 8, 9)));
/* The worst status: fail > warn > pass; skipped counts as pass. VERDICT_PASS for an empty list. */
enum verdict_status verdicts_worst(const struct verdicts *v);
void verdicts_release(struct verdicts *v);

/* [{name, kind, status, summary, details, started_ms, duration_ms}] for "v" (the caller owns it). */
struct cJSON *verdicts_to_json(const struct verdicts *v);
/* Append the verdicts of such an array to "v". -1 (nothing appended) when it is not one. */
int verdicts_from_json(struct verdicts *v, const struct cJSON *arr);

#endif
