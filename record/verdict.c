/* verdict.c - the list of check verdicts (see verdict.h): names of statuses, appending, the worst
 * status of a list. */
#include "record/verdict.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "common/alloc.h"
#include "common/buf.h"
#include "common/banned.h"

static const char *const status_names[] = { "pass", "warn", "fail", "skipped" };

const char *verdict_status_name(enum verdict_status s)
{
	if ((unsigned)s < sizeof(status_names) / sizeof(status_names[0]))
		return status_names[s];
	return "unknown";
}

int verdict_status_parse(const char *name, enum verdict_status *out)
{
	for (size_t i = 0; i < sizeof(status_names) / sizeof(status_names[0]); i++)
		if (!strcmp(name, status_names[i])) {
			*out = (enum verdict_status)i;
			return 0;
		}
	return -1;
}

struct verdict *verdicts_add(struct verdicts *v, const char *name, const char *kind, enum verdict_status status,
			     struct cJSON *details, int64_t started_ms, int64_t duration_ms, const char *fmt, ...)
{
	struct buf summary = BUF_INIT;
	struct verdict *it;
	va_list ap;

	va_start(ap, fmt);
	buf_vaddf(&summary, fmt, ap);
	va_end(ap);
	if (!details)
		details = cJSON_CreateObject();
	if (!details)
		abort();
	ALLOC_GROW(v->items, v->n + 1, v->alloc);
	it = &v->items[v->n++];
	it->name = xstrdup(name);
	it->kind = kind;
	it->status = status;
	it->summary = buf_detach(&summary, NULL);
	it->details = details;
	it->started_ms = started_ms;
	it->duration_ms = duration_ms;
	return it;
}

enum verdict_status verdicts_worst(const struct verdicts *v)
{
	enum verdict_status worst = VERDICT_PASS;
	for (size_t i = 0; i < v->n; i++) {
		if (v->items[i].status == VERDICT_FAIL)
			return VERDICT_FAIL;
		if (v->items[i].status == VERDICT_WARN)
			worst = VERDICT_WARN;
	}
	return worst;
}

void verdicts_release(struct verdicts *v)
{
	for (size_t i = 0; i < v->n; i++) {
		free(v->items[i].name);
		free(v->items[i].summary);
		cJSON_Delete(v->items[i].details);
	}
	free(v->items);
	v->items = NULL;
	v->n = v->alloc = 0;
}
