/* policy.h - the promotion policy, read from the trusted side only: $MLCI_HOME/policy.yaml when present,
 * else mlci.yaml of the repository's main branch, never the commit under test (docs/promotion.md). */
#ifndef MLCI_POLICY_H
#define MLCI_POLICY_H

#include <time.h>

#include "spec/spec.h"
#include "common/error.h"

struct policy {
	const struct spec *spec; /* environments (+ groups, freeze); NULL = no policy */
	struct spec *owned;      /* what "spec" points to when this policy loaded it; owned */
	char *source;            /* "$home/policy.yaml" or "mlci.yaml@main"; owned */
};

/* $home/policy.yaml when it exists (a spec error is MLCI_EUSAGE with every file:line:col diag), else
 * "fallback" (borrowed: main's spec read by the run; may be NULL). */
int policy_load(struct policy *p, const char *home, const struct spec *fallback, struct err *e);
/* The same without a run: $home/policy.yaml, else mlci.yaml on branch main of "repo" (a path or URL
 * already mirrored under $home). "repo" NULL and no policy.yaml: p->spec is NULL. */
int policy_load_for_repo(struct policy *p, const char *home, const char *repo, struct err *e);
void policy_release(struct policy *p);

const struct spec_environment *policy_env(const struct policy *p, const char *name);
/* 1 when "user" is listed in the environment's approvers, directly or through an @group of the policy
 * (case-insensitive). */
int policy_is_approver(const struct policy *p, const struct spec_environment *env, const char *user);
/* "alice, @release (bob, carol)" into "out". */
void policy_describe_approvers(const struct policy *p, const struct spec_environment *env, struct buf *out);
/* 1 when "now" is inside one of the environment's (or the policy's global) freeze windows; "until" is
 * the end of the longest active one. */
int policy_frozen(const struct policy *p, const struct spec_environment *env, time_t now, time_t *until);
/* supersede: as given, else 1. */
int policy_supersede(const struct spec_environment *env);

/* "Now" for promotion decisions and state commits: $MLCI_NOW (ISO-8601 or epoch seconds; a test hook,
 * docs/promotion.md) when set and valid, else the clock. */
time_t policy_now(void);

#endif
