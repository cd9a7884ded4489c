/* manual_diff.c - what `mlci promote --dry-run` shows besides the gates: the candidate next to what the
 * environment runs (model, artifact, commit, run, since, every metric with its delta). It compares and
 * never decides or writes. */
#include "cd/manual_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/alloc.h"
#include "common/buf.h"
#include "registry/store_stats.h"
#include "common/banned.h"

/* ---------- the diff shown by --dry-run ---------- */

static void diff_row(struct cd_result *res, const char *what, const char *cur, const char *cand)
{
	strvec_push(&res->diff_what, what);
	strvec_push(&res->diff_current, cur ? cur : "-");
	strvec_push(&res->diff_candidate, cand ? cand : "-");
}

struct metric {
	char *key; /* "accuracy" or "accuracy [size=small]" */
	double cur, cand;
	int has_cur, has_cand;
};
struct metrics {
	struct metric *v;
	size_t n;
	int side; /* 0 current, 1 candidate */
};

static int on_metric(void *payload, const char *name, const char *slice, double value)
{
	struct metrics *m = payload;
	struct buf k = BUF_INIT;
	struct metric *it = NULL;
	if (!strncmp(name, "check.", 6))
		return 0; /* check figures (ports, timings) are not results */
	buf_addf(&k, "%s%s%s%s", name, slice && *slice ? " [" : "", slice ? slice : "", slice && *slice ? "]" : "");
	for (size_t i = 0; i < m->n && !it; i++)
		if (!strcmp(m->v[i].key, k.ptr))
			it = &m->v[i];
	if (!it) {
		m->v = xrealloc(m->v, (m->n + 1) * sizeof(*m->v));
		it = &m->v[m->n++];
		memset(it, 0, sizeof(*it));
		it->key = buf_detach(&k, NULL);
	}
	buf_release(&k);
	if (m->side) {
		it->cand = value;
		it->has_cand = 1;
	} else {
		it->cur = value;
		it->has_cur = 1;
	}
	return 0;
}

int manual_diff(struct cd_cmd *c, const struct env_state *cur, int have_cur, const struct env_state *cand,
		struct cd_result *res, struct err *e)
{
	struct metrics m;
	char a[160], b[160];
	int ret = -1;
	memset(&m, 0, sizeof(m));
	snprintf(a, sizeof(a), "%s@%lld", have_cur && cur->model_name ? cur->model_name : "-",
		 have_cur ? (long long)cur->model_version : 0LL);
	snprintf(b, sizeof(b), "%s@%lld", cand->model_name, (long long)cand->model_version);
	diff_row(res, "model", have_cur && cur->model_version ? a : NULL, b);
	snprintf(a, sizeof(a), "%.12s", have_cur && cur->model_artifact ? cur->model_artifact : "-");
	snprintf(b, sizeof(b), "%.12s", cand->model_artifact ? cand->model_artifact : "-");
	diff_row(res, "artifact", a, b);
	snprintf(a, sizeof(a), "%.12s", have_cur && cur->commit ? cur->commit : "-");
	snprintf(b, sizeof(b), "%.12s", cand->commit ? cand->commit : "-");
	diff_row(res, "commit", a, b);
	diff_row(res, "run", have_cur ? cur->run : NULL, cand->run);
	if (have_cur && cur->promoted_at)
		diff_row(res, "since", cur->promoted_at, NULL);
	if (have_cur && cur->run && store_metrics_each(c->st, cur->run, on_metric, &m, e) < 0)
		goto done;
	m.side = 1;
	if (cand->run && store_metrics_each(c->st, cand->run, on_metric, &m, e) < 0)
		goto done;
	for (size_t i = 0; i < m.n; i++) {
		struct buf what = BUF_INIT, cb = BUF_INIT;
		buf_addf(&what, "metric %s", m.v[i].key);
		snprintf(a, sizeof(a), "%.6g", m.v[i].cur);
		if (m.v[i].has_cand) {
			buf_addf(&cb, "%.6g", m.v[i].cand);
			if (m.v[i].has_cur)
				buf_addf(&cb, " (%+.4g)", m.v[i].cand - m.v[i].cur);
		}
		diff_row(res, what.ptr, m.v[i].has_cur ? a : NULL, m.v[i].has_cand ? cb.ptr : NULL);
		buf_release(&what);
		buf_release(&cb);
	}
	ret = 0;
done:
	for (size_t i = 0; i < m.n; i++)
		free(m.v[i].key);
	free(m.v);
	return ret;
}
