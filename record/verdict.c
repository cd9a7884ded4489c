/* verdict.c - the list of check verdicts (see verdict.h): names of statuses, appending, the worst
 * status of a list. */
#include "record/verdict.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "common/alloc.h"
#include "common/buf.h"
#include "common/json.h"
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

cJSON *verdicts_to_json(const struct verdicts *v)
{
	cJSON *arr = cJSON_CreateArray();
	for (size_t i = 0; i < v->n; i++) {
		const struct verdict *it = &v->items[i];
		cJSON *o = cJSON_CreateObject();
		cJSON_AddStringToObject(o, "name", it->name);
		cJSON_AddStringToObject(o, "kind", it->kind);
		cJSON_AddStringToObject(o, "status", verdict_status_name(it->status));
		cJSON_AddStringToObject(o, "summary", it->summary);
		cJSON_AddItemToObject(o, "details",
				      it->details ? cJSON_Duplicate(it->details, 1) : cJSON_CreateObject());
		cJSON_AddNumberToObject(o, "started_ms", (double)it->started_ms);
		cJSON_AddNumberToObject(o, "duration_ms", (double)it->duration_ms);
		cJSON_AddItemToArray(arr, o);
	}
	return arr;
}

/* The static kind string for "name" (verdict.kind is never owned). */
static const char *kind_of(const char *name)
{
	static const char *const kinds[] = { "data", "training", "model", "infra", "service", "gate" };
	for (size_t i = 0; name && i < sizeof(kinds) / sizeof(kinds[0]); i++)
		if (!strcmp(kinds[i], name))
			return kinds[i];
	return "other";
}

static const char *member_str(const cJSON *o, const char *k)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
	return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* A time in ms; 0 when absent or beyond what an int64 holds. */
static int64_t member_ms(const cJSON *o, const char *k)
{
	return json_int64(o, k, 0);
}

int verdicts_from_json(struct verdicts *v, const cJSON *arr)
{
	const cJSON *it;
	if (!cJSON_IsArray(arr))
		return -1;
	cJSON_ArrayForEach(it, arr) {
		enum verdict_status st;
		if (!cJSON_IsObject(it) || !member_str(it, "name") || !member_str(it, "status") ||
		    verdict_status_parse(member_str(it, "status"), &st) < 0)
			return -1;
	}
	cJSON_ArrayForEach(it, arr) {
		enum verdict_status st = VERDICT_PASS;
		const cJSON *d = cJSON_GetObjectItemCaseSensitive(it, "details");
		verdict_status_parse(member_str(it, "status"), &st);
		verdicts_add(v, member_str(it, "name"), kind_of(member_str(it, "kind")), st,
			     cJSON_IsObject(d) ? cJSON_Duplicate(d, 1) : NULL, member_ms(it, "started_ms"),
			     member_ms(it, "duration_ms"), "%s",
			     member_str(it, "summary") ? member_str(it, "summary") : "");
	}
	return 0;
}
