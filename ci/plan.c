/* plan.c - the steps of a run from its spec: every component's build then test in DAG order (the CI
 * phase), then one run step per component that depends on the whole CI phase and on the run steps of its
 * needs. Planning only; nothing runs here. */
#include "ci/run_int.h"

#include <stdlib.h>
#include <string.h>

#include "common/alloc.h"
#include "common/dag.h"
#include "common/banned.h"

static void add_step(struct run *r, size_t *alloc, size_t comp, enum step_phase phase, const char *cmd)
{
	struct run_step *s;
	ALLOC_GROW(r->steps, r->n_steps + 1, *alloc);
	s = &r->steps[r->n_steps++];
	memset(s, 0, sizeof(*s));
	s->comp = comp;
	s->component = r->spec.components[comp].name;
	s->phase = phase;
	s->command = cmd;
	s->status = STEP_PENDING;
}

static void add_dep(struct run_step *s, size_t dep)
{
	s->deps = xrealloc(s->deps, (s->n_deps + 1) * sizeof(*s->deps));
	s->deps[s->n_deps++] = dep;
}

int run_plan(struct run *r, struct err *e)
{
	size_t n = r->spec.n_components, alloc = 0;
	struct dag_node *nodes = xcalloc(n ? n : 1, sizeof(*nodes));
	size_t *order = xcalloc(n ? n : 1, sizeof(*order));
	size_t *level = xcalloc(n ? n : 1, sizeof(*level));
	size_t *run_step_of = xcalloc(n ? n : 1, sizeof(*run_step_of));
	size_t n_ci;
	int ret = -1;

	for (size_t i = 0; i < n; i++) {
		nodes[i].needs = r->spec.components[i].need_idx;
		nodes[i].n_needs = r->spec.components[i].needs.n;
	}
	if (dag_order(n, nodes, order, level, NULL, NULL) < 0) {
		err_set(e, MLCI_EUSAGE, "components form a dependency cycle");
		goto done;
	}
	for (size_t k = 0; k < n; k++) {
		const struct spec_component *c = &r->spec.components[order[k]];
		size_t build = (size_t)-1;
		if (c->build) {
			build = r->n_steps;
			add_step(r, &alloc, order[k], PHASE_BUILD, c->build);
		}
		if (c->test) {
			add_step(r, &alloc, order[k], PHASE_TEST, c->test);
			if (build != (size_t)-1)
				add_dep(&r->steps[r->n_steps - 1], build);
		}
	}
	n_ci = r->n_steps;
	for (size_t k = 0; k < n; k++) {
		const struct spec_component *c = &r->spec.components[order[k]];
		run_step_of[order[k]] = r->n_steps;
		add_step(r, &alloc, order[k], PHASE_RUN, c->run);
	}
	for (size_t k = 0; k < n; k++) {
		size_t ci = order[k];
		struct run_step *s = &r->steps[run_step_of[ci]];
		for (size_t i = 0; i < n_ci; i++)
			add_dep(s, i);
		for (size_t d = 0; d < r->spec.components[ci].needs.n; d++)
			add_dep(s, run_step_of[r->spec.components[ci].need_idx[d]]);
	}
	ret = 0;
done:
	free(nodes);
	free(order);
	free(level);
	free(run_step_of);
	return ret;
}
