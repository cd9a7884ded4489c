/* test_policy.c - unit tests of promotion policies: freeze windows and times (spec/freeze.c), the
 * policy.yaml parser (spec_parse_policy_buffer) and the questions cd/policy.c answers (approvers
 * through @groups, frozen or not, supersede defaults, policy.yaml preferred over main's spec). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cd/policy.h"
#include "cd/session.h"
#include "spec/freeze.h"
#include "common/buf.h"
#include "common/path.h"
#include "testutil.h"

static time_t t_of(const char *s)
{
	time_t t = 0;
	assert_int_equal(freeze_parse_time(s, &t), 0);
	return t;
}

static void test_times(void **state)
{
	time_t t;
	char out[32];
	(void)state;
	assert_int_equal(freeze_parse_time("2026-11-25T19:14:30Z", &t), 0);
	assert_int_equal((long long)t, 1795634070LL);
	freeze_format_time(t, out, sizeof(out));
	assert_string_equal(out, "2026-11-25T19:14:30Z");
	assert_int_equal(freeze_parse_time("1795634070", &t), 0);
	assert_int_equal((long long)t, 1795634070LL);
	assert_int_equal(freeze_parse_time("2026-11-25", &t), 0);
	assert_int_equal((long long)t, 1795564800LL);
	assert_int_equal(freeze_parse_time("2026-11-25T19:14", &t), 0);
	assert_int_equal(freeze_parse_time("2026-13-01", &t), -1);
	assert_int_equal(freeze_parse_time("yesterday", &t), -1);
	assert_int_equal(freeze_parse_time("2026-11-25T19:14:30+01:00", &t), -1);
	assert_int_equal(freeze_parse_time("", &t), -1);
}

static void test_absolute_window(void **state)
{
	struct freeze_window w;
	const char *why = NULL;
	time_t until = 0;
	(void)state;
	assert_int_equal(freeze_parse("2026-12-24 .. 2027-01-02T08:00Z", &w, &why), 0);
	assert_int_equal(w.weekly, 0);
	assert_int_equal(freeze_active(&w, t_of("2026-12-23T23:59:59Z"), &until), 0);
	assert_int_equal(freeze_active(&w, t_of("2026-12-24T00:00:00Z"), &until), 1);
	assert_int_equal((long long)until, (long long)t_of("2027-01-02T08:00:00Z"));
	assert_int_equal(freeze_active(&w, t_of("2027-01-02T08:00:00Z"), &until), 0); /* end excluded */
	assert_int_equal(freeze_parse("2027-01-02 .. 2026-12-24", &w, &why), -1);
	assert_string_equal(why, "the window ends before it starts");
	assert_int_equal(freeze_parse("2026-12-24", &w, &why), -1);
	assert_int_equal(freeze_parse("2026-12-24 .. soon", &w, &why), -1);
}

static void test_weekly_window(void **state)
{
	struct freeze_window w;
	const char *why = NULL;
	time_t until = 0;
	(void)state;
	/* 2026-11-27 is a Friday */
	assert_int_equal(freeze_parse("Fri 18:00 .. Mon 08:00", &w, &why), 0);
	assert_int_equal(w.weekly, 1);
	assert_int_equal(freeze_active(&w, t_of("2026-11-27T17:59:00Z"), &until), 0);
	assert_int_equal(freeze_active(&w, t_of("2026-11-27T18:00:00Z"), &until), 1);
	assert_int_equal((long long)until, (long long)t_of("2026-11-30T08:00:00Z"));
	assert_int_equal(freeze_active(&w, t_of("2026-11-29T12:00:00Z"), &until), 1); /* Sunday */
	assert_int_equal((long long)until, (long long)t_of("2026-11-30T08:00:00Z"));
	assert_int_equal(freeze_active(&w, t_of("2026-11-30T08:00:00Z"), &until), 0);
	assert_int_equal(freeze_active(&w, t_of("2026-11-25T12:00:00Z"), &until), 0); /* Wednesday */
	assert_int_equal(freeze_parse("sat 00:00 .. sun 24:00", &w, &why), 0);
	assert_int_equal(freeze_active(&w, t_of("2026-11-29T23:59:00Z"), &until), 1);
	assert_int_equal(freeze_parse("Fri 25:00 .. Mon 08:00", &w, &why), -1);
	assert_int_equal(freeze_parse("Fri 18:00 .. Fri 18:00", &w, &why), -1);
	assert_int_equal(freeze_parse("Friday 18:00 .. Mon 08:00", &w, &why), -1);
}

static const char *policy_yaml =
	"groups: { release: [alice, Bob] }\n"
	"freeze: [\"2030-01-01 .. 2030-01-02\"]\n"
	"environments:\n"
	"  test: { promote: auto, branches: [\"dev/*\"] }\n"
	"  staging: { promote: semi, branches: [main], approvals: 1, supersede: false }\n"
	"  production: { promote: manual, from: staging, min_staging_runs: 3,\n"
	"                approvers: [carol, \"@release\"], approvals: 2,\n"
	"                freeze: [\"Fri 18:00 .. Mon 08:00\"], min_soak: 24h,\n"
	"                override_approvers: [\"@release\"],\n"
	"                champion: { metric: auc, tolerance: \"1%\", eval_set: ingest/holdout.csv,\n"
	"                            score: \"python3 score.py\" } }\n";

static void test_policy_parse(void **state)
{
	struct spec s;
	struct diags d;
	struct policy p;
	const struct spec_environment *prod;
	time_t until;
	struct buf b = BUF_INIT;
	(void)state;
	spec_init(&s);
	diags_init(&d);
	assert_int_equal(spec_parse_policy_buffer(&s, policy_yaml, strlen(policy_yaml), "policy.yaml", &d), 0);
	assert_int_equal(d.n, 0);
	assert_int_equal(s.n_groups, 1);
	assert_int_equal(s.n_environments, 3);
	memset(&p, 0, sizeof(p));
	p.spec = &s;
	prod = policy_env(&p, "production");
	assert_non_null(prod);
	assert_int_equal(prod->min_staging_runs, 3);
	assert_int_equal(prod->min_soak_ms, 24LL * 3600 * 1000);
	assert_true(policy_is_override_approver(&p, prod, "bob"));
	assert_false(policy_is_override_approver(&p, prod, "carol"));
	assert_false(policy_is_override_approver(&p, policy_env(&p, "staging"), "bob"));
	assert_true(prod->champion.present);
	assert_string_equal(prod->champion.metric, "auc");
	assert_true(prod->champion.relative);
	assert_true(prod->champion.tolerance > 0.0099 && prod->champion.tolerance < 0.0101);
	assert_string_equal(prod->champion.eval_set, "ingest/holdout.csv");
	assert_string_equal(prod->champion.score, "python3 score.py");
	assert_null(prod->champion.metrics);
	assert_true(policy_is_approver(&p, prod, "carol"));
	assert_true(policy_is_approver(&p, prod, "bob"));
	assert_true(policy_is_approver(&p, prod, "ALICE"));
	assert_false(policy_is_approver(&p, prod, "mallory"));
	assert_false(policy_is_approver(&p, prod, "release"));
	policy_describe_approvers(&p, prod, &b);
	assert_string_equal(b.ptr, "carol, @release (alice, Bob)");
	buf_release(&b);
	assert_true(policy_frozen(&p, prod, t_of("2026-11-28T00:00:00Z"), &until));                   /* Saturday */
	assert_false(policy_frozen(&p, prod, t_of("2026-11-25T00:00:00Z"), &until));                  /* Wednesday */
	assert_true(policy_frozen(&p, policy_env(&p, "test"), t_of("2030-01-01T12:00:00Z"), &until)); /* global */
	assert_int_equal((long long)until, (long long)t_of("2030-01-02"));
	assert_int_equal(policy_supersede(policy_env(&p, "test")), 1);
	assert_int_equal(policy_supersede(policy_env(&p, "staging")), 0);
	assert_int_equal(policy_supersede(prod), 1);
	spec_release(&s);
	diags_release(&d);
}

/* The first diag of an invalid policy. */
static void expect_policy_error(const char *yaml, const char *want)
{
	struct spec s;
	struct diags d;
	struct buf b = BUF_INIT;
	spec_init(&s);
	diags_init(&d);
	assert_int_equal(spec_parse_policy_buffer(&s, yaml, strlen(yaml), "policy.yaml", &d), -1);
	assert_true(d.n > 0);
	diag_format(&d, 0, &b);
	if (!strstr(b.ptr, want))
		fail_msg("expected '%s' in '%s'", want, b.ptr);
	buf_release(&b);
	spec_release(&s);
	diags_release(&d);
}

static void test_policy_errors(void **state)
{
	(void)state;
	expect_policy_error("groups: {}\n", "policy.yaml:1:1: missing required key \"environments\"");
	expect_policy_error("environments:\n  p: { promote: manual, approvers: [\"@ops\"] }\n",
			    "policy.yaml:2:37: environments.p.approvers: unknown group \"ops\"");
	expect_policy_error("environments:\n  t: { promote: auto, branches: [x], freeze: \"tonight\" }\n",
			    "invalid freeze window \"tonight\"");
	expect_policy_error("environments:\n  t: { promote: auto, branches: [x], supersede: maybe }\n", "supersede");
	expect_policy_error("pipeline: x\nenvironments: {}\n", "unknown key \"pipeline\"");
	expect_policy_error("groups: { g: [\"@h\"] }\nenvironments: {}\n", "groups cannot contain groups");
	expect_policy_error("environments:\n  s: { promote: semi, branches: [main] }\n"
			    "  p: { promote: manual, from: s, approvers: [a], min_soak: soon }\n",
			    "environments.p.min_soak: invalid duration \"soon\"");
	expect_policy_error("environments:\n  p: { promote: manual, approvers: [a], min_soak: 1h }\n",
			    "min_soak needs \"from\"");
	expect_policy_error(
		"environments:\n  p: { promote: manual, approvers: [a], override_approvers: [\"@oncall\"] }\n",
		"environments.p.override_approvers: unknown group \"oncall\"");
	expect_policy_error("environments:\n  t: { promote: auto, branches: [x], override_approvers: [a] }\n",
			    "override_approvers apply to manual environments");
	expect_policy_error(
		"environments:\n  p: { promote: manual, approvers: [a], champion: { metric: m, score: s } }\n",
		"environments.p.champion: missing required key \"eval_set\"");
	expect_policy_error("environments:\n  p: { promote: manual, approvers: [a],\n"
			    "    champion: { metric: m, score: s, eval_set: a/b, tolerance: lots } }\n",
			    "policy.yaml:3:64: environments.p.champion.tolerance: invalid tolerance \"lots\"");
	expect_policy_error("environments:\n  p: { promote: manual, approvers: [a], champion: { metric: m, score: s, "
			    "eval_set: nocomponent } }\n",
			    "invalid eval_set \"nocomponent\" (expected component/output");
}

static void test_policy_load(void **state)
{
	char *home = test_scratch_dir("policy");
	char *path;
	const struct policy *p;
	struct cd_session s;
	struct err e = ERR_INIT;
	int parses;
	FILE *f;
	(void)state;
	assert_non_null(home);
	/* no policy.yaml and no repository: no policy, said to come from main */
	cd_session_init(&s, home, NULL, NULL);
	assert_int_equal(cd_session_policy(&s, &p, &e), 0);
	assert_null(p->spec);
	assert_string_equal(p->source, "mlci.yaml@main");
	cd_session_release(&s);
	/* policy.yaml wins, and a session parses it once however often it is asked */
	path = path_join(home, "policy.yaml");
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(policy_yaml, f);
	fclose(f);
	cd_session_init(&s, home, NULL, NULL);
	parses = policy_parse_count();
	assert_int_equal(cd_session_policy(&s, &p, &e), 0);
	assert_non_null(p->spec);
	assert_non_null(policy_env(p, "production"));
	assert_string_equal(p->source, path);
	assert_int_equal(cd_session_policy(&s, &p, &e), 0);
	assert_int_equal(policy_parse_count(), parses + 1);
	cd_session_release(&s);
	/* an invalid one is an error, never a silent fallback */
	f = fopen(path, "w");
	assert_non_null(f);
	fputs("environments: [\n", f);
	fclose(f);
	cd_session_init(&s, home, NULL, NULL);
	assert_int_equal(cd_session_policy(&s, &p, &e), -1);
	assert_int_equal(e.code, MLCI_EUSAGE);
	assert_non_null(strstr(err_msg(&e), "policy.yaml:"));
	err_release(&e);
	cd_session_release(&s);
	free(path);
	assert_int_equal(test_scratch_remove(home), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_times),         cmocka_unit_test(test_absolute_window),
		cmocka_unit_test(test_weekly_window), cmocka_unit_test(test_policy_parse),
		cmocka_unit_test(test_policy_errors), cmocka_unit_test(test_policy_load),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
