/* pipeline.c - pipeline_run (pipeline/pipeline.h): the engine, then promotion, in one session, and the
 * exit code. Shared by every front end so that none of them re-implements the sequence; it never
 * prints. */
#include "pipeline/pipeline.h"

#include <string.h>

#include "cd/policy.h"
#include "cd/session.h"
#include "cd/state.h"
#include "pipeline/baseline.h"
#include "common/banned.h"

void pipeline_result_release(struct pipeline_result *res)
{
	run_record_release(&res->rec);
	err_release(&res->run_err);
	promote_outcome_release(&res->promo);
	err_release(&res->promo_err);
	memset(res, 0, sizeof(*res));
}

static int exit_code_for(const struct run_record *rec, const struct pipeline_opts *o)
{
	switch (rec->status) {
	case RUN_PASSED:
		return 0;
	case RUN_CANCELLED:
		return 128 + (o->stop_signal && *o->stop_signal ? (int)*o->stop_signal : 2 /* SIGINT */);
	default:
		return 1;
	}
}

int pipeline_run(const struct pipeline_opts *o, struct pipeline_result *res)
{
	struct run_opts ro = o->run;
	struct run_baselines bl;
	struct cd_session s;
	struct run r;
	int parses0 = policy_parse_count(), opens0 = state_open_count();

	memset(res, 0, sizeof(*res));
	run_record_init(&res->rec);
	cd_session_init(&s, ro.home, NULL, ro.repo);
	pipeline_baselines(&bl, &s);
	ro.baselines = &bl;

	/* one store for the run and its promotion; the engine opens its own when this one cannot be */
	if (cd_session_store(&s, &ro.store, &res->run_err) < 0) {
		ro.store = NULL;
		err_clear(&res->run_err);
	}
	run_init(&r);
	res->run_failed = run_execute(&r, &ro, &res->run_err) < 0;
	run_to_record(&r, &res->rec);
	run_release(&r);
	if (res->run_failed) {
		res->exit_code = res->run_err.code ? res->run_err.code : 3;
		goto done;
	}
	res->exit_code = exit_code_for(&res->rec, o);
	res->promoted = 1;
	cd_session_set_repo(&s, res->rec.repo, 0);
	if (promote_after_run(&s, &res->rec, o->actor, &res->promo, &res->promo_err) < 0) {
		res->promo_failed = 1;
		res->exit_code = res->promo_err.code ? res->promo_err.code : 3;
	} else if (res->promo.action == PROMOTE_FAILED && res->exit_code == 0) {
		res->exit_code = 1;
	}
done:
	cd_session_release(&s);
	res->policy_parses = policy_parse_count() - parses0;
	res->state_opens = state_open_count() - opens0;
	return res->exit_code;
}
