/* gate_evidence.h - what a promotion decided on, as verdicts that travel with it (the state commit, the
 * promotions row, approvals): the run's model checks (thresholds, baseline, slices, with their numbers)
 * and each promotion gate (kind "gate") with its figures. It records; deciding is the callers'. */
#ifndef MLCI_GATE_EVIDENCE_H
#define MLCI_GATE_EVIDENCE_H

#include "common/buf.h"
#include "common/strvec.h"
#include "record/run_record.h"
#include "record/verdict.h"
#include "spec/spec.h"

struct cJSON;

/* Append the run's model verdicts (model.*: thresholds, baseline, slices) to "gates". */
void cd_evidence_from_run(struct verdicts *gates, const struct run_record *rec);
/* Append the model verdicts stored for run "run" (mlci promote, outside the run). */
struct store;
int cd_evidence_from_store(struct verdicts *gates, struct store *st, const char *run, struct err *e);
/* Append an "approvals" gate: pass when the count reaches env->approvals (always when none required). */
void cd_evidence_approvals(struct verdicts *gates, const struct spec_environment *env, const struct strvec *approvers);
/* Append one gate verdict (kind "gate") with printf-formatted summary; "details" (may be NULL) is taken. */
void cd_gate(struct verdicts *gates, const char *name, enum verdict_status status, struct cJSON *details,
	     const char *fmt, ...) __attribute__((format(printf, 5, 6)));
/* "Gate: NAME STATUS: SUMMARY" lines for a state commit message. */
void cd_evidence_message(const struct verdicts *gates, struct buf *msg);
/* The gates as compact JSON text (malloc'd), NULL when there are none. */
char *cd_evidence_json(const struct verdicts *gates);
/* The first failing gate, or NULL. */
const struct verdict *cd_evidence_failure(const struct verdicts *gates);

#endif
