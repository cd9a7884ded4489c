/* gate_evidence.c - gate and check verdicts that travel with a promotion (cd/gate_evidence.h). It
 * records what was decided; it must not decide or print. */
#include "cd/gate_evidence.h"

#include <cjson/cJSON.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "common/alloc.h"
#include "common/clock.h"
#include "registry/store_checks.h"
#include "common/banned.h"

void cd_gate(struct verdicts *gates, const char *name, enum verdict_status status, cJSON *details, const char *fmt, ...)
{
	struct buf b = BUF_INIT;
	va_list ap;
	va_start(ap, fmt);
	buf_vaddf(&b, fmt, ap);
	va_end(ap);
	verdicts_add(gates, name, "gate", status, details, clock_wall_ms(), 0, "%s", b.ptr ? b.ptr : "");
	buf_release(&b);
}

void cd_evidence_from_run(struct verdicts *gates, const struct run_record *rec)
{
	for (size_t i = 0; i < rec->checks.n; i++) {
		const struct verdict *v = &rec->checks.items[i];
		if (strcmp(v->kind, "model"))
			continue;
		verdicts_add(gates, v->name, v->kind, v->status, v->details ? cJSON_Duplicate(v->details, 1) : NULL,
			     v->started_ms, v->duration_ms, "%s", v->summary);
	}
}

static int add_stored(void *payload, const struct store_check_row *row)
{
	struct verdicts *gates = payload;
	enum verdict_status st;
	cJSON *d;
	if (strcmp(row->kind, "model") || verdict_status_parse(row->status, &st) < 0)
		return 0;
	d = cJSON_Parse(row->details_json ? row->details_json : "{}");
	if (!cJSON_IsObject(d)) {
		cJSON_Delete(d);
		d = NULL;
	}
	verdicts_add(gates, row->name, "model", st, d, row->started_ms, row->duration_ms, "%s", row->summary);
	return 0;
}

int cd_evidence_from_store(struct verdicts *gates, struct store *st, const char *run, struct err *e)
{
	return run ? store_checks_each(st, run, add_stored, gates, e) : 0;
}

void cd_evidence_approvals(struct verdicts *gates, const struct spec_environment *env, const struct strvec *approvers)
{
	cJSON *d = cJSON_CreateObject(), *who = cJSON_AddArrayToObject(d, "approvers");
	struct buf names = BUF_INIT;
	for (size_t i = 0; approvers && i < approvers->n; i++) {
		cJSON_AddItemToArray(who, cJSON_CreateString(approvers->v[i]));
		buf_addf(&names, "%s%s", i ? ", " : "", approvers->v[i]);
	}
	cJSON_AddNumberToObject(d, "count", approvers ? (double)approvers->n : 0);
	cJSON_AddNumberToObject(d, "required", (double)env->approvals);
	cd_gate(gates, "approvals", approvers && (int64_t)approvers->n >= env->approvals ? VERDICT_PASS : VERDICT_FAIL,
		d, "approvals %zu/%lld%s%s%s", approvers ? approvers->n : 0, (long long)env->approvals,
		names.len ? " (" : "", names.len ? names.ptr : "", names.len ? ")" : "");
	buf_release(&names);
}

void cd_evidence_message(const struct verdicts *gates, struct buf *msg)
{
	for (size_t i = 0; i < gates->n; i++)
		buf_addf(msg, "Gate: %s %s: %s\n", gates->items[i].name, verdict_status_name(gates->items[i].status),
			 gates->items[i].summary);
}

char *cd_evidence_json(const struct verdicts *gates)
{
	cJSON *j;
	char *text;
	if (!gates->n)
		return NULL;
	j = verdicts_to_json(gates);
	text = cJSON_PrintUnformatted(j);
	cJSON_Delete(j);
	return text;
}

const struct verdict *cd_evidence_failure(const struct verdicts *gates)
{
	for (size_t i = 0; i < gates->n; i++)
		if (gates->items[i].status == VERDICT_FAIL)
			return &gates->items[i];
	return NULL;
}
