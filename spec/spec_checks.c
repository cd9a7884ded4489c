/* spec_checks.c - the "checks" section of mlci.yaml: data, training, model, infra and service checks,
 * and the "component/output" references they make. Parsing only: the checks themselves live in checks/. */
#include "spec/spec_int.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "common/alloc.h"
#include "common/path.h"
#include "common/banned.h"

void spec_ref_release(struct spec_ref *r)
{
	free(r->text);
	free(r->output);
	memset(r, 0, sizeof(*r));
}

/* The declared outputs of component "ci", indexed on first use. */
static const struct spec_index *outputs_of(struct spec_ctx *c, size_t ci)
{
	struct spec_index *ix = &c->outputs[ci];
	const struct spec_component *comp = &c->s->components[ci];
	if (!ix->names && comp->outputs.n)
		spec_index_build(ix, (const char *const *)comp->outputs.items, comp->outputs.n);
	return ix;
}

/* Resolve "text" (already on the key path) as "component/output" into "r". */
static void resolve_ref(struct spec_ctx *c, yaml_node_t *n, const char *text, struct spec_ref *r)
{
	const char *slash = strchr(text, '/');
	char *comp;
	size_t ci;
	struct buf msg = BUF_INIT;
	r->text = xstrdup(text);
	r->pos = yaml_doc_pos(n);
	r->comp = SPEC_NONE;
	if (!slash || slash == text || !slash[1]) {
		spec_err(c, n, "invalid reference \"%s\" (expected component/output, e.g. \"train/model.json\")", text);
		return;
	}
	comp = xstrndup(text, (size_t)(slash - text));
	r->output = xstrdup(slash + 1);
	ci = c->s->n_components ? spec_index_find(&c->comps, comp) : SPEC_NONE;
	if (ci == SPEC_NONE) {
		const char **names = xcalloc(c->s->n_components, sizeof(*names));
		for (size_t i = 0; i < c->s->n_components; i++)
			names[i] = c->s->components[i].name;
		buf_addf(&msg, "unknown component \"%s\" in \"%s\"", comp, text);
		spec_add_suggestion(&msg, comp, names, c->s->n_components);
		spec_err(c, n, "%s", msg.ptr);
		free(names);
	} else if (spec_index_find(outputs_of(c, ci), r->output) == SPEC_NONE) {
		const struct spec_strlist *outs = &c->s->components[ci].outputs;
		buf_addf(&msg, "component \"%s\" declares no output \"%s\"", comp, r->output);
		spec_add_suggestion(&msg, r->output, (const char *const *)outs->items, outs->n);
		spec_err(c, n, "%s", msg.ptr);
	} else {
		r->comp = ci;
	}
	buf_release(&msg);
	free(comp);
}

void spec_get_ref(struct spec_ctx *c, yaml_node_t *n, const char *name, struct spec_ref *r)
{
	size_t mark;
	const char *t;
	if (!n)
		return;
	mark = yaml_doc_key_push(&c->key, name);
	t = spec_scalar(c, n, "a reference of the form component/output");
	if (t)
		resolve_ref(c, n, t, r);
	yaml_doc_key_pop(&c->key, mark);
}

/* ---------- data ---------- */

static const char *const drift_methods[] = { "auto", "psi", "ks", "chi2", "jensen_shannon", "linf" };
static const char *const on_drift_names[] = { "fail", "warn", "retrain" };

static void parse_drift(struct spec_ctx *c, struct spec_check_data *d, yaml_node_t *n)
{
	static const struct spec_field f[] = {
		{ "reference", 0 }, { "method", 0 }, { "threshold", 0 }, { "on_drift", 0 }
	};
	yaml_node_t *v[4];
	int idx;
	size_t mark = yaml_doc_key_push(&c->key, "drift");
	d->drift_present = 1;
	d->drift_threshold = 0.2;
	if (spec_fields(c, n, f, 4, v) < 0)
		goto done;
	if (spec_get_str(c, v[0], "reference", "production, a model version or a path", &d->drift_reference) == 0) {
		d->drift_reference_pos = yaml_doc_pos(v[0]);
		if (strchr(d->drift_reference, '/')) {
			/* a repository path; normalised, but still with a '/' so that it reads as one */
			size_t m2 = yaml_doc_key_push(&c->key, "reference");
			char *p = spec_repo_path(c, v[0], d->drift_reference);
			if (p) {
				free(d->drift_reference);
				d->drift_reference = strchr(p, '/') ? xstrdup(p) : path_join(".", p);
				free(p);
			}
			yaml_doc_key_pop(&c->key, m2);
		}
	}
	if (spec_get_enum(c, v[1], "method", drift_methods, 6, &idx) == 0)
		d->drift_method = xstrdup(drift_methods[idx]);
	spec_get_num(c, v[2], "threshold", 0, 1, INFINITY, &d->drift_threshold);
	if (spec_get_enum(c, v[3], "on_drift", on_drift_names, 3, &idx) == 0)
		d->on_drift = xstrdup(on_drift_names[idx]);
done:
	if (!d->drift_reference)
		d->drift_reference = xstrdup("production");
	if (!d->drift_method)
		d->drift_method = xstrdup("auto");
	if (!d->on_drift)
		d->on_drift = xstrdup("fail");
	yaml_doc_key_pop(&c->key, mark);
}

static void parse_data(struct spec_ctx *c, struct spec_check_data *d, yaml_node_t *n)
{
	static const struct spec_field f[] = { { "dataset", 1 }, { "schema", 0 }, { "drift", 0 } };
	yaml_node_t *v[3];
	size_t mark = yaml_doc_key_push(&c->key, "data");
	d->present = 1;
	if (spec_fields(c, n, f, 3, v) < 0)
		goto done;
	spec_get_ref(c, v[0], "dataset", &d->dataset);
	if (v[1]) {
		size_t m2 = yaml_doc_key_push(&c->key, "schema");
		const char *t = spec_scalar(c, v[1], "a path");
		if (t) {
			d->schema = spec_repo_path(c, v[1], t);
			d->schema_pos = yaml_doc_pos(v[1]);
		}
		yaml_doc_key_pop(&c->key, m2);
	}
	if (v[2])
		parse_drift(c, d, v[2]);
done:
	yaml_doc_key_pop(&c->key, mark);
}

/* ---------- training ---------- */

static void parse_training(struct spec_ctx *c, struct spec_check_training *t, yaml_node_t *n)
{
	static const struct spec_field f[] = {
		{ "history", 0 }, { "converges", 0 }, { "no_nan", 0 }, { "overfit_sample", 0 }
	};
	yaml_node_t *v[4];
	size_t mark = yaml_doc_key_push(&c->key, "training");
	int conv_ok;
	t->present = 1;
	if (spec_fields(c, n, f, 4, v) < 0)
		goto done;
	spec_get_ref(c, v[0], "history", &t->history);
	if (v[1] && v[1]->type == YAML_MAPPING_NODE) {
		/* converges: { window: N, ratio: R } */
		static const struct spec_field cf[] = { { "window", 0 }, { "ratio", 0 } };
		yaml_node_t *cv[2];
		size_t m2 = yaml_doc_key_push(&c->key, "converges");
		t->converges = 1;
		conv_ok = 0;
		if (spec_fields(c, v[1], cf, 2, cv) == 0) {
			spec_get_int(c, cv[0], "window", 1, 1000000, &t->converges_window);
			spec_get_num(c, cv[1], "ratio", 0, 1, 1, &t->converges_ratio);
		}
		yaml_doc_key_pop(&c->key, m2);
	} else {
		conv_ok = spec_get_bool(c, v[1], "converges", &t->converges);
	}
	if (v[3] && !yaml_doc_is_null(v[3])) {
		static const struct spec_field of[] = { { "run", 1 }, { "max_loss", 1 } };
		yaml_node_t *ov[2];
		size_t m2 = yaml_doc_key_push(&c->key, "overfit_sample");
		if (spec_fields(c, v[3], of, 2, ov) == 0) {
			spec_get_str(c, ov[0], "run", "a command", &t->overfit_run);
			spec_get_num(c, ov[1], "max_loss", 0, 0, 1e300, &t->overfit_max_loss);
		}
		yaml_doc_key_pop(&c->key, m2);
	}
	if (conv_ok == 0 && t->converges == 1 && !v[0]) {
		size_t m2 = yaml_doc_key_push(&c->key, "converges");
		spec_err(c, v[1], "converges needs \"history\" (the training history to check)");
		yaml_doc_key_pop(&c->key, m2);
	}
	if (v[2] && !yaml_doc_is_null(v[2])) {
		size_t m2 = yaml_doc_key_push(&c->key, "no_nan");
		if (v[2]->type != YAML_SEQUENCE_NODE) {
			if (v[2]->type == YAML_SCALAR_NODE)
				spec_err(c, v[2], "expected a sequence, got a scalar (write [%s] for a one-item list)",
					 yaml_doc_scalar(v[2]));
			else
				spec_err(c, v[2], "expected a sequence, got %s", spec_kind(v[2]));
		} else {
			size_t cnt = yaml_doc_seq_len(v[2]);
			t->no_nan = xcalloc(cnt, sizeof(*t->no_nan));
			for (size_t i = 0; i < cnt; i++) {
				yaml_node_t *item = yaml_doc_seq_item(c->doc, v[2], i);
				size_t m3 = yaml_doc_key_push_index(&c->key, i);
				const char *txt = spec_scalar(c, item, "a reference of the form component/output");
				if (txt)
					resolve_ref(c, item, txt, &t->no_nan[t->n_no_nan++]);
				yaml_doc_key_pop(&c->key, m3);
			}
		}
		yaml_doc_key_pop(&c->key, m2);
	}
done:
	yaml_doc_key_pop(&c->key, mark);
}

/* ---------- model ---------- */

static void parse_thresholds(struct spec_ctx *c, struct spec_check_model *m, yaml_node_t *n)
{
	struct spec_pairs p;
	size_t mark = yaml_doc_key_push(&c->key, "thresholds");
	if (spec_map(c, n, &p) < 0)
		goto done;
	m->thresholds = xcalloc(p.n, sizeof(*m->thresholds));
	for (size_t i = 0; i < p.n; i++) {
		struct spec_threshold *th = &m->thresholds[m->n_thresholds];
		const char *t;
		size_t m2;
		if (!p.keys[i])
			continue;
		m2 = yaml_doc_key_push(&c->key, p.names[i]);
		t = spec_scalar(c, p.vals[i], "a threshold such as \">= 0.90\"");
		if (t && spec_parse_threshold(t, &th->op, &th->value) < 0) {
			spec_err(c, p.vals[i],
				 "invalid threshold \"%s\" (expected a comparison and a number, e.g. \">= 0.90\", "
				 "\"<= 0.1\" or \"== 1\")",
				 t);
		} else if (t) {
			th->metric = xstrdup(p.names[i]);
			th->pos = yaml_doc_pos(p.vals[i]);
			m->n_thresholds++;
		}
		yaml_doc_key_pop(&c->key, m2);
	}
done:
	spec_pairs_release(&p);
	yaml_doc_key_pop(&c->key, mark);
}

/* "tolerance" and "max_gap": metric -> absolute number or "N%". */
static void parse_tolerances(struct spec_ctx *c, const char *name, const char *noun, yaml_node_t *n,
			     struct spec_tolerance **out, size_t *nout)
{
	struct spec_pairs p;
	size_t mark = yaml_doc_key_push(&c->key, name);
	if (spec_map(c, n, &p) < 0)
		goto done;
	*out = xcalloc(p.n, sizeof(**out));
	for (size_t i = 0; i < p.n; i++) {
		struct spec_tolerance *tol = &(*out)[*nout];
		const char *t;
		size_t m2;
		if (!p.keys[i])
			continue;
		m2 = yaml_doc_key_push(&c->key, p.names[i]);
		t = spec_scalar(c, p.vals[i], "a number or a percentage");
		if (t && spec_parse_tolerance(t, &tol->value, &tol->relative) < 0) {
			spec_err(c, p.vals[i],
				 "invalid %s \"%s\" (expected a number >= 0 such as 0.01, or a percentage such as "
				 "\"1%%\")",
				 noun, t);
		} else if (t) {
			tol->metric = xstrdup(p.names[i]);
			tol->pos = yaml_doc_pos(p.vals[i]);
			(*nout)++;
		}
		yaml_doc_key_pop(&c->key, m2);
	}
done:
	spec_pairs_release(&p);
	yaml_doc_key_pop(&c->key, mark);
}

static void parse_slices(struct spec_ctx *c, struct spec_check_model *m, yaml_node_t *n)
{
	static const struct spec_field f[] = { { "metrics", 1 }, { "max_gap", 0 }, { "min_rows", 0 } };
	yaml_node_t *v[3];
	size_t mark = yaml_doc_key_push(&c->key, "slices");
	if (spec_fields(c, n, f, 3, v) < 0)
		goto done;
	spec_get_ref(c, v[0], "metrics", &m->slices_metrics);
	if (v[1])
		parse_tolerances(c, "max_gap", "gap", v[1], &m->max_gap, &m->n_max_gap);
	spec_get_int(c, v[2], "min_rows", 1, INT64_MAX, &m->slices_min_rows);
done:
	yaml_doc_key_pop(&c->key, mark);
}

static void parse_model(struct spec_ctx *c, struct spec_check_model *m, yaml_node_t *n)
{
	enum { M_METRICS, M_THRESHOLDS, M_BASELINE, M_TOLERANCE, M_SLICES, M_LOWER, M_N };
	static const struct spec_field f[M_N] = {
		[M_METRICS] = { "metrics", 1 },   [M_THRESHOLDS] = { "thresholds", 0 },
		[M_BASELINE] = { "baseline", 0 }, [M_TOLERANCE] = { "tolerance", 0 },
		[M_SLICES] = { "slices", 0 },     [M_LOWER] = { "lower_is_better", 0 },
	};
	yaml_node_t *v[M_N];
	size_t mark = yaml_doc_key_push(&c->key, "model");
	m->present = 1;
	if (spec_fields(c, n, f, M_N, v) < 0)
		goto done;
	spec_get_ref(c, v[M_METRICS], "metrics", &m->metrics);
	if (v[M_THRESHOLDS])
		parse_thresholds(c, m, v[M_THRESHOLDS]);
	if (spec_get_str(c, v[M_BASELINE], "baseline", "production or MODEL@VERSION", &m->baseline) == 0 &&
	    strpbrk(m->baseline, " \t\r\n")) {
		size_t m2 = yaml_doc_key_push(&c->key, "baseline");
		spec_err(c, v[M_BASELINE], "invalid baseline \"%s\" (expected production, MODEL@VERSION or VERSION)",
			 m->baseline);
		yaml_doc_key_pop(&c->key, m2);
	}
	if (v[M_TOLERANCE]) {
		parse_tolerances(c, "tolerance", "tolerance", v[M_TOLERANCE], &m->tolerance, &m->n_tolerance);
		if (!v[M_BASELINE]) {
			size_t m2 = yaml_doc_key_push(&c->key, "tolerance");
			spec_err(c, v[M_TOLERANCE], "tolerance needs \"baseline\" (the model version to compare with)");
			yaml_doc_key_pop(&c->key, m2);
		}
	}
	if (v[M_SLICES])
		parse_slices(c, m, v[M_SLICES]);
	spec_get_list(c, v[M_LOWER], "lower_is_better", 0, "a metric name", spec_conv_str, "metric",
		      &m->lower_is_better);
done:
	yaml_doc_key_pop(&c->key, mark);
}

/* ---------- infra ---------- */

static const char *const accelerators[] = { "none", "nvidia" };

static void parse_infra(struct spec_ctx *c, struct spec_check_infra *in, yaml_node_t *n)
{
	static const struct spec_field f[] = { { "requires", 1 } };
	static const struct spec_field rf[] = {
		{ "commands", 0 }, { "memory", 0 }, { "cpus", 0 }, { "disk", 0 }, { "accelerator", 0 }
	};
	yaml_node_t *v[1], *r[5];
	int idx;
	size_t mark = yaml_doc_key_push(&c->key, "infra");
	in->present = 1;
	if (spec_fields(c, n, f, 1, v) < 0 || !v[0])
		goto done;
	yaml_doc_key_push(&c->key, "requires");
	if (spec_fields(c, v[0], rf, 5, r) < 0)
		goto done;
	spec_get_list(c, r[0], "commands", 0, "a command name", spec_conv_str, "command", &in->commands);
	spec_get_size(c, r[1], "memory", &in->memory_bytes);
	spec_get_num(c, r[2], "cpus", 0, 1, 1e6, &in->cpus);
	spec_get_size(c, r[3], "disk", &in->disk_bytes);
	if (spec_get_enum(c, r[4], "accelerator", accelerators, 2, &idx) == 0)
		in->accelerator = xstrdup(accelerators[idx]);
done:
	yaml_doc_key_pop(&c->key, mark);
}

/* ---------- service ---------- */

static const char *const protocols[] = { "kserve-v2", "tfserving-v1", "none" };

static void parse_load(struct spec_ctx *c, struct spec_check_service *sv, yaml_node_t *n)
{
	static const struct spec_field f[] = { { "rate", 0 },   { "duration", 0 }, { "connections", 0 },
					       { "p99_ms", 0 }, { "min_qps", 0 },  { "max_error_rate", 0 } };
	yaml_node_t *v[6];
	size_t mark = yaml_doc_key_push(&c->key, "load");
	sv->load_present = 1;
	sv->load_duration_ms = 10000;
	sv->load_connections = 1;
	if (spec_fields(c, n, f, 6, v) < 0)
		goto done;
	spec_get_num(c, v[0], "rate", 0, 0, 1e7, &sv->load_rate);
	spec_get_duration(c, v[1], "duration", &sv->load_duration_ms);
	spec_get_int(c, v[2], "connections", 1, 10000, &sv->load_connections);
	spec_get_num(c, v[3], "p99_ms", 0, 1, INFINITY, &sv->load_p99_ms);
	spec_get_num(c, v[4], "min_qps", 0, 1, INFINITY, &sv->load_min_qps);
	spec_get_num(c, v[5], "max_error_rate", 0, 0, 1, &sv->load_max_error_rate);
done:
	yaml_doc_key_pop(&c->key, mark);
}

static void parse_parity(struct spec_ctx *c, struct spec_check_service *sv, yaml_node_t *n)
{
	static const struct spec_field f[] = { { "data", 1 }, { "predictions", 1 }, { "tolerance", 0 } };
	yaml_node_t *v[3];
	size_t mark = yaml_doc_key_push(&c->key, "parity");
	sv->parity_present = 1;
	sv->parity_tolerance = 1e-6;
	if (spec_fields(c, n, f, 3, v) < 0)
		goto done;
	spec_get_ref(c, v[0], "data", &sv->parity_data);
	spec_get_ref(c, v[1], "predictions", &sv->parity_predictions);
	spec_get_num(c, v[2], "tolerance", 0, 0, INFINITY, &sv->parity_tolerance);
done:
	yaml_doc_key_pop(&c->key, mark);
}

static void parse_service(struct spec_ctx *c, struct spec_check_service *sv, yaml_node_t *n)
{
	enum { S_START, S_READY, S_PROTOCOL, S_CONTRACT, S_READY_TIMEOUT, S_LOAD, S_PARITY, S_N };
	static const struct spec_field f[S_N] = {
		[S_START] = { "start", 1 },
		[S_READY] = { "ready", 1 },
		[S_PROTOCOL] = { "protocol", 0 },
		[S_CONTRACT] = { "contract", 0 },
		[S_READY_TIMEOUT] = { "ready_timeout", 0 },
		[S_LOAD] = { "load", 0 },
		[S_PARITY] = { "parity", 0 },
	};
	yaml_node_t *v[S_N];
	int idx = 0;
	size_t mark = yaml_doc_key_push(&c->key, "service");
	sv->present = 1;
	sv->ready_timeout_ms = 60000;
	if (spec_fields(c, n, f, S_N, v) < 0)
		goto done;
	spec_get_str(c, v[S_START], "start", "a command", &sv->start);
	if (spec_get_str(c, v[S_READY], "ready", "an HTTP path", &sv->ready) == 0 && sv->ready[0] != '/') {
		size_t m2 = yaml_doc_key_push(&c->key, "ready");
		spec_err(c, v[S_READY], "invalid ready path \"%s\" (expected an HTTP path starting with \"/\")",
			 sv->ready);
		yaml_doc_key_pop(&c->key, m2);
	}
	if (spec_get_enum(c, v[S_PROTOCOL], "protocol", protocols, 3, &idx) < 0)
		idx = 0;
	sv->protocol = xstrdup(protocols[idx]);
	if (v[S_CONTRACT]) {
		size_t m2 = yaml_doc_key_push(&c->key, "contract");
		const char *t = spec_scalar(c, v[S_CONTRACT], "a path");
		if (t) {
			sv->contract = spec_repo_path(c, v[S_CONTRACT], t);
			sv->contract_pos = yaml_doc_pos(v[S_CONTRACT]);
		}
		yaml_doc_key_pop(&c->key, m2);
	}
	spec_get_duration(c, v[S_READY_TIMEOUT], "ready_timeout", &sv->ready_timeout_ms);
	if (v[S_LOAD])
		parse_load(c, sv, v[S_LOAD]);
	if (v[S_PARITY]) {
		parse_parity(c, sv, v[S_PARITY]);
		if (!strcmp(sv->protocol, "none")) {
			size_t m2 = yaml_doc_key_push(&c->key, "parity");
			spec_err(c, v[S_PARITY],
				 "parity sends rows through the protocol's predict call: it needs protocol "
				 "kserve-v2 or tfserving-v1, not none");
			yaml_doc_key_pop(&c->key, m2);
		}
	}
done:
	yaml_doc_key_pop(&c->key, mark);
}

/* ---------- the section ---------- */

void spec_parse_checks(struct spec_ctx *c, yaml_node_t *n)
{
	enum { K_DATA, K_TRAINING, K_MODEL, K_INFRA, K_SERVICE, K_N };
	static const struct spec_field f[K_N] = {
		[K_DATA] = { "data", 0 },   [K_TRAINING] = { "training", 0 }, [K_MODEL] = { "model", 0 },
		[K_INFRA] = { "infra", 0 }, [K_SERVICE] = { "service", 0 },
	};
	yaml_node_t *v[K_N];
	struct spec_checks *k = &c->s->checks;
	size_t mark = yaml_doc_key_push(&c->key, "checks");
	if (spec_fields(c, n, f, K_N, v) < 0)
		goto done;
	if (v[K_DATA])
		parse_data(c, &k->data, v[K_DATA]);
	if (v[K_TRAINING])
		parse_training(c, &k->training, v[K_TRAINING]);
	if (v[K_MODEL])
		parse_model(c, &k->model, v[K_MODEL]);
	if (v[K_INFRA])
		parse_infra(c, &k->infra, v[K_INFRA]);
	if (v[K_SERVICE])
		parse_service(c, &k->service, v[K_SERVICE]);
done:
	yaml_doc_key_pop(&c->key, mark);
}

void spec_checks_release(struct spec_checks *k)
{
	spec_ref_release(&k->data.dataset);
	free(k->data.schema);
	free(k->data.drift_reference);
	free(k->data.drift_method);
	free(k->data.on_drift);
	spec_ref_release(&k->training.history);
	for (size_t i = 0; i < k->training.n_no_nan; i++)
		spec_ref_release(&k->training.no_nan[i]);
	free(k->training.no_nan);
	spec_ref_release(&k->model.metrics);
	for (size_t i = 0; i < k->model.n_thresholds; i++)
		free(k->model.thresholds[i].metric);
	free(k->model.thresholds);
	free(k->model.baseline);
	for (size_t i = 0; i < k->model.n_tolerance; i++)
		free(k->model.tolerance[i].metric);
	free(k->model.tolerance);
	spec_ref_release(&k->model.slices_metrics);
	for (size_t i = 0; i < k->model.n_max_gap; i++)
		free(k->model.max_gap[i].metric);
	free(k->model.max_gap);
	spec_strlist_release(&k->model.lower_is_better);
	free(k->training.overfit_run);
	spec_strlist_release(&k->infra.commands);
	free(k->infra.accelerator);
	free(k->service.start);
	free(k->service.ready);
	free(k->service.protocol);
	free(k->service.contract);
	spec_ref_release(&k->service.parity_data);
	spec_ref_release(&k->service.parity_predictions);
}
