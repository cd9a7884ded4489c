/* policy.h - the promotion policy, read from the trusted side only: $MLCI_HOME/policy.yaml when present,
 * else mlci.yaml of the repository's main branch, never the commit under test (docs/promotion.md); and
 * the questions asked of it. Which one applies is the session's choice (cd/session.c). */
#ifndef MLCI_POLICY_H
#define MLCI_POLICY_H

#include <time.h>

#include "spec/spec.h"
#include "common/error.h"

struct policy {
	const struct spec *spec; /* environments (+ groups, freeze, state); NULL = no policy */
	struct spec *owned;      /* what "spec" points to; owned */
	char *source;            /* "$home/policy.yaml" or "mlci.yaml@main"; owned */
	char *main_commit;       /* the commit of main it was read from (mlci.yaml@main only); owned */
};

/* $home/policy.yaml: 1 when it exists and was loaded into "p", 0 when absent ("p" empty), -1 when it is
 * invalid (MLCI_EUSAGE with every problem as file:line:col) or unreadable. */
int policy_load_file(struct policy *p, const char *home, struct err *e);
/* mlci.yaml of the tip of branch main of "repo" (a path, or a URL mirrored under $home: fetched first
 * when "fetch", else read as last fetched). No main, no mlci.yaml there or an invalid one: p->spec NULL
 * and 0. */
int policy_load_main(struct policy *p, const char *home, const char *repo, int fetch, struct err *e);
void policy_release(struct policy *p);
/* How many policy files this process parsed (a debug counter: `mlci -v` prints it). */
int policy_parse_count(void);

const struct spec_environment *policy_env(const struct policy *p, const char *name);
/* 1 when "user" is listed in the environment's approvers, directly or through an @group of the policy
 * (case-insensitive). */
int policy_is_approver(const struct policy *p, const struct spec_environment *env, const char *user);
/* The same for the environment's override_approvers (who may pass over a gate with --override). */
int policy_is_override_approver(const struct policy *p, const struct spec_environment *env, const char *user);
/* "alice, @release (bob, carol)" into "out": the approvers, or any list of names and @groups. */
void policy_describe_approvers(const struct policy *p, const struct spec_environment *env, struct buf *out);
void policy_describe_list(const struct policy *p, const struct spec_strlist *l, struct buf *out);
/* 1 when "now" is inside one of the environment's (or the policy's global) freeze windows; "until" is
 * the end of the longest active one. */
int policy_frozen(const struct policy *p, const struct spec_environment *env, time_t now, time_t *until);
/* supersede: as given, else 1. */
int policy_supersede(const struct spec_environment *env);

/* "Now" for promotion decisions and state commits: $MLCI_NOW (ISO-8601 or epoch seconds; a test hook,
 * docs/promotion.md) when set and valid, else the clock. */
time_t policy_now(void);

#endif
