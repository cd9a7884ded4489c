/* parity.c - training/serving parity (see parity.h and docs/service.md "Parity"): batches of parity.csv
 * rows to the service, answers compared with predictions.csv within a tolerance. Never prints. */
#include "checks/parity.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "checks/csv.h"
#include "common/http.h"
#include "common/alloc.h"
#include "common/buf.h"
#include "common/json.h"
#include "common/banned.h"

/* A CSV file held in memory: header, cells row-major, the line each row started on. */
struct table {
	struct strvec names;
	struct strvec cells;
	uint64_t *lines;
	size_t rows, alloc;
};

static void table_release(struct table *t)
{
	strvec_clear(&t->names);
	strvec_clear(&t->cells);
	free(t->lines);
	memset(t, 0, sizeof(*t));
}

static int table_read(const char *path, size_t max_rows, struct table *t, struct err *e)
{
	struct csv_reader r;
	int k = 0;
	memset(t, 0, sizeof(*t));
	strvec_init(&t->names);
	strvec_init(&t->cells);
	if (csv_open(&r, path, e) < 0)
		return -1;
	for (size_t i = 0; i < r.n_names; i++)
		strvec_push(&t->names, r.names[i]);
	while (t->rows < max_rows && (k = csv_next(&r, e)) == 1) {
		if (r.n_fields != r.n_names) {
			err_set(e, MLCI_EFAILED, "%s:%llu: %zu fields, the header has %zu", path,
				(unsigned long long)r.line, r.n_fields, r.n_names);
			csv_close(&r);
			return -1;
		}
		for (size_t i = 0; i < r.n_fields; i++)
			strvec_push(&t->cells, r.fields[i].ptr ? r.fields[i].ptr : "");
		ALLOC_GROW(t->lines, t->rows + 1, t->alloc);
		t->lines[t->rows++] = r.line;
	}
	csv_close(&r);
	if (k < 0 && t->rows < max_rows)
		return -1;
	return 0;
}

static const char *cell(const struct table *t, size_t row, size_t col)
{
	return t->cells.v[row * t->names.n + col];
}

static int number(const char *s, double *out)
{
	char *end;
	if (!*s)
		return -1;
	errno = 0;
	*out = strtod(s, &end);
	return *end || errno == ERANGE || !isfinite(*out) ? -1 : 0;
}

void parity_report_init(struct parity_report *r)
{
	memset(r, 0, sizeof(*r));
	strvec_init(&r->columns);
	strvec_init(&r->diffs);
}

void parity_report_release(struct parity_report *r)
{
	strvec_clear(&r->columns);
	strvec_clear(&r->diffs);
	free(r->problem);
	memset(r, 0, sizeof(*r));
}

static void set_problem(struct parity_report *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void set_problem(struct parity_report *r, const char *fmt, ...)
{
	struct buf b = BUF_INIT;
	va_list ap;
	va_start(ap, fmt);
	buf_vaddf(&b, fmt, ap);
	va_end(ap);
	free(r->problem);
	r->problem = buf_detach(&b, NULL);
}

struct cJSON *parity_sample_rows(const char *path, size_t n, struct err *e)
{
	struct table t;
	cJSON *a;
	if (table_read(path, n, &t, e) < 0)
		return NULL;
	a = cJSON_CreateArray();
	for (size_t i = 0; i < t.rows; i++) {
		cJSON *row = cJSON_CreateArray();
		for (size_t c = 0; c < t.names.n; c++) {
			double d;
			const char *s = cell(&t, i, c);
			cJSON_AddItemToArray(row, number(s, &d) == 0 ? cJSON_CreateNumber(d) : cJSON_CreateString(s));
		}
		cJSON_AddItemToArray(a, row);
	}
	table_release(&t);
	return a;
}

/* One request/answer; the parsed answer in "*ans", or NULL after set_problem. */
static cJSON *post(const struct parity_opts *o, const char *path, const cJSON *req, struct parity_report *r)
{
	static const char *const jh[] = { "Content-Type: application/json", NULL };
	struct http_req q;
	struct http_resp resp;
	struct buf url = BUF_INIT;
	char *body = cJSON_PrintUnformatted(req);
	cJSON *ans = NULL;
	buf_addf(&url, "%s%s", o->base_url, path);
	memset(&q, 0, sizeof(q));
	q.method = "POST";
	q.url = url.ptr;
	q.headers = jh;
	q.body = body;
	q.body_len = strlen(body);
	q.timeout_ms = o->timeout_ms > 0 ? o->timeout_ms : 30000;
	http_resp_init(&resp);
	if (http_do(&q, &resp) < 0) {
		set_problem(r, "POST %s: no answer: %s", path, resp.error);
	} else if (resp.status != 200) {
		set_problem(r, "POST %s: answered %ld: %.200s", path, resp.status, resp.body.ptr);
	} else if (!(ans = cJSON_ParseWithLength(resp.body.ptr, resp.body.len))) {
		set_problem(r, "POST %s: the answer is not JSON", path);
	}
	http_resp_release(&resp);
	buf_release(&url);
	cJSON_free(body);
	return ans;
}

static cJSON *get_json(const struct parity_opts *o, const char *path, struct parity_report *r)
{
	struct http_req q;
	struct http_resp resp;
	struct buf url = BUF_INIT;
	cJSON *ans = NULL;
	buf_addf(&url, "%s%s", o->base_url, path);
	memset(&q, 0, sizeof(q));
	q.url = url.ptr;
	q.timeout_ms = o->timeout_ms > 0 ? o->timeout_ms : 30000;
	http_resp_init(&resp);
	if (http_do(&q, &resp) < 0)
		set_problem(r, "GET %s: no answer: %s", path, resp.error);
	else if (resp.status != 200)
		set_problem(r, "GET %s: answered %ld", path, resp.status);
	else if (!(ans = cJSON_ParseWithLength(resp.body.ptr, resp.body.len)))
		set_problem(r, "GET %s: the answer is not JSON", path);
	http_resp_release(&resp);
	buf_release(&url);
	return ans;
}

/* Flatten nested arrays of "a" into "out" (borrowed pointers). */
static void flatten(const cJSON *a, const cJSON ***out, size_t *n, size_t *alloc, int depth)
{
	for (const cJSON *v = a->child; v; v = v->next) {
		if (cJSON_IsArray(v) && depth < 16) {
			flatten(v, out, n, alloc, depth + 1);
		} else {
			ALLOC_GROW(*out, *n + 1, *alloc);
			(*out)[(*n)++] = v;
		}
	}
}

/* Compare the offline value "want" (text) with the service's "got" for one row and column. */
static int values_differ(const char *want, const cJSON *got, double tol, double *absdiff)
{
	double w;
	*absdiff = 0;
	if (cJSON_IsNumber(got) && number(want, &w) == 0) {
		*absdiff = fabs(w - got->valuedouble);
		return !(*absdiff <= tol);
	}
	if (cJSON_IsString(got))
		return strcmp(want, got->valuestring) != 0;
	if (cJSON_IsBool(got))
		return strcmp(want, cJSON_IsTrue(got) ? "true" : "false") &&
		       strcmp(want, cJSON_IsTrue(got) ? "1" : "0") &&
		       strcmp(want, cJSON_IsTrue(got) ? "True" : "False");
	return 1;
}

struct cmp_state {
	const struct parity_opts *o;
	const struct table *data, *pred;
	size_t *pred_row; /* data row -> predictions row */
	size_t *cols;     /* predictions columns compared */
	size_t ncols;
	unsigned char *row_bad; /* per data row */
};

static void compare(struct cmp_state *s, struct parity_report *r, size_t row, size_t k, const cJSON *got)
{
	size_t pc = s->cols[k];
	const char *want = cell(s->pred, s->pred_row[row], pc);
	double d;
	int differ = values_differ(want, got, s->o->tolerance, &d);
	r->values++;
	if (d > r->max_abs_diff)
		r->max_abs_diff = d;
	if (!differ)
		return;
	if (!s->row_bad[row]) {
		s->row_bad[row] = 1;
		r->differing++;
	}
	if (r->diffs.n < PARITY_MAX_SHOWN) {
		struct buf g = BUF_INIT;
		char *t = cJSON_PrintUnformatted(got);
		buf_addstr(&g, t ? t : "?");
		cJSON_free(t);
		if (d > 0)
			strvec_pushf(&r->diffs, "%s:%llu (row %zu): %s: offline %s, service %s (difference %.3g > %g)",
				     s->o->data_path, (unsigned long long)s->data->lines[row], row,
				     s->pred->names.v[pc], want, g.ptr, d, s->o->tolerance);
		else
			strvec_pushf(&r->diffs, "%s:%llu (row %zu): %s: offline %s, service %s", s->o->data_path,
				     (unsigned long long)s->data->lines[row], row, s->pred->names.v[pc], want, g.ptr);
		buf_release(&g);
	}
}

static cJSON *value_json(const char *s, int strings)
{
	double d;
	if (!strings && number(s, &d) == 0)
		return cJSON_CreateNumber(d);
	return cJSON_CreateString(s);
}

/* KServe V2: one batch [from, to). Returns 0, or -1 after set_problem. */
static int kserve_batch(struct cmp_state *s, const cJSON *meta, struct parity_report *r, size_t from, size_t to)
{
	const cJSON *in = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(meta, "inputs"), 0);
	const char *iname = json_str(in, "name", ""), *dt = json_str(in, "datatype", "");
	const struct table *t = s->data;
	size_t n = to - from, ncol = t->names.n;
	cJSON *req = cJSON_CreateObject(), *inputs = cJSON_AddArrayToObject(req, "inputs"), *ten = cJSON_CreateObject();
	cJSON *shape, *data, *ans;
	const cJSON *outs;
	struct buf path = BUF_INIT;
	int ret = 0;
	cJSON_AddItemToArray(inputs, ten);
	cJSON_AddStringToObject(ten, "name", iname);
	cJSON_AddStringToObject(ten, "datatype", dt);
	shape = cJSON_AddArrayToObject(ten, "shape");
	cJSON_AddItemToArray(shape, cJSON_CreateNumber((double)n));
	cJSON_AddItemToArray(shape, cJSON_CreateNumber((double)ncol));
	data = cJSON_AddArrayToObject(ten, "data");
	for (size_t i = from; i < to; i++)
		for (size_t c = 0; c < ncol; c++)
			cJSON_AddItemToArray(data, value_json(cell(t, i, c), !strcmp(dt, "BYTES")));
	buf_addf(&path, "/v2/models/%s/infer", s->o->model);
	ans = post(s->o, path.ptr, req, r);
	if (!ans) {
		ret = -1;
		goto done;
	}
	outs = cJSON_GetObjectItemCaseSensitive(ans, "outputs");
	for (size_t k = 0; k < s->ncols; k++) {
		const char *col = s->pred->names.v[s->cols[k]];
		const cJSON *o = NULL, *od;
		const cJSON **flat = NULL;
		size_t nf = 0, af = 0;
		for (const cJSON *x = cJSON_IsArray(outs) ? outs->child : NULL; x && !o; x = x->next) {
			const char *xn = json_str(x, "name", NULL);
			if (xn && !strcmp(xn, col))
				o = x;
		}
		od = o ? cJSON_GetObjectItemCaseSensitive(o, "data") : NULL;
		if (!cJSON_IsArray(od)) {
			set_problem(r, "POST %s: the answer has no output \"%s\" with data", path.ptr, col);
			ret = -1;
			goto done;
		}
		flatten(od, &flat, &nf, &af, 0);
		if (nf != n) {
			set_problem(r, "POST %s: output \"%s\" has %zu values for a batch of %zu rows", path.ptr, col,
				    nf, n);
			free(flat);
			ret = -1;
			goto done;
		}
		for (size_t i = 0; i < n; i++)
			compare(s, r, from + i, k, flat[i]);
		free(flat);
	}
	r->rows += n;
done:
	cJSON_Delete(req);
	cJSON_Delete(ans);
	buf_release(&path);
	return ret;
}

/* TF Serving: {"instances": rows} -> {"predictions": [...]}; an entry is a value (the first compared
 * column), a list (the compared columns in order) or an object (by column name). */
static int tfs_batch(struct cmp_state *s, struct parity_report *r, size_t from, size_t to)
{
	const struct table *t = s->data;
	size_t n = to - from;
	cJSON *req = cJSON_CreateObject(), *inst = cJSON_AddArrayToObject(req, "instances"), *ans;
	const cJSON *preds;
	struct buf path = BUF_INIT;
	size_t i = 0;
	int ret = 0;
	for (size_t row = from; row < to; row++) {
		cJSON *a = cJSON_CreateArray();
		for (size_t c = 0; c < t->names.n; c++)
			cJSON_AddItemToArray(a, value_json(cell(t, row, c), 0));
		cJSON_AddItemToArray(inst, a);
	}
	buf_addf(&path, "/v1/models/%s:predict", s->o->model);
	ans = post(s->o, path.ptr, req, r);
	if (!ans) {
		ret = -1;
		goto done;
	}
	preds = cJSON_GetObjectItemCaseSensitive(ans, "predictions");
	if (!cJSON_IsArray(preds) || (size_t)cJSON_GetArraySize(preds) != n) {
		set_problem(r, "POST %s: expected {\"predictions\": [...]} with %zu entries", path.ptr, n);
		ret = -1;
		goto done;
	}
	for (const cJSON *p = preds->child; p; p = p->next, i++) {
		for (size_t k = 0; k < s->ncols; k++) {
			const cJSON *v;
			if (cJSON_IsObject(p))
				v = cJSON_GetObjectItemCaseSensitive(p, s->pred->names.v[s->cols[k]]);
			else if (cJSON_IsArray(p))
				v = cJSON_GetArrayItem(p, (int)k);
			else
				v = k == 0 ? p : NULL;
			if (!v && !cJSON_IsObject(p) && !cJSON_IsArray(p))
				continue; /* a bare value answers the first column only */
			if (!v) {
				set_problem(r, "POST %s: prediction %zu has no value for \"%s\"", path.ptr, i,
					    s->pred->names.v[s->cols[k]]);
				ret = -1;
				goto done;
			}
			compare(s, r, from + i, k, v);
		}
	}
	r->rows += n;
done:
	cJSON_Delete(req);
	cJSON_Delete(ans);
	buf_release(&path);
	return ret;
}

int parity_run(const struct parity_opts *o, struct parity_report *r, struct err *e)
{
	struct table data, pred;
	struct cmp_state s;
	cJSON *meta = NULL;
	size_t row_col = (size_t)-1, batch = o->batch ? o->batch : 64;
	int kserve = !strcmp(o->protocol, "kserve-v2"), ret = -1;

	memset(&s, 0, sizeof(s));
	if (!kserve && strcmp(o->protocol, "tfserving-v1"))
		return err_set(e, MLCI_EUSAGE, "parity needs protocol kserve-v2 or tfserving-v1, not \"%s\"",
			       o->protocol);
	if (table_read(o->data_path, PARITY_MAX_ROWS, &data, e) < 0)
		return -1;
	if (table_read(o->predictions_path, PARITY_MAX_ROWS, &pred, e) < 0) {
		table_release(&data);
		return -1;
	}
	s.o = o;
	s.data = &data;
	s.pred = &pred;
	s.cols = xcalloc(pred.names.n + 1, sizeof(*s.cols));
	for (size_t c = 0; c < pred.names.n; c++) {
		if (!strcmp(pred.names.v[c], "row"))
			row_col = c;
		else {
			s.cols[s.ncols++] = c;
			strvec_push(&r->columns, pred.names.v[c]);
		}
	}
	if (!s.ncols) {
		err_set(e, MLCI_EFAILED, "%s: no column to compare (only \"row\")", o->predictions_path);
		goto out;
	}
	if (!data.rows) {
		err_set(e, MLCI_EFAILED, "%s: no rows", o->data_path);
		goto out;
	}
	/* which prediction answers which row */
	s.pred_row = xcalloc(data.rows, sizeof(*s.pred_row));
	s.row_bad = xcalloc(data.rows, 1);
	for (size_t i = 0; i < data.rows; i++)
		s.pred_row[i] = (size_t)-1;
	for (size_t p = 0; p < pred.rows; p++) {
		size_t row = p;
		if (row_col != (size_t)-1) {
			double d;
			if (number(cell(&pred, p, row_col), &d) < 0 || d < 0 || floor(d) != d ||
			    d >= (double)data.rows) {
				err_set(e, MLCI_EFAILED, "%s:%llu: row \"%s\" is not a row of %s (0 to %zu)",
					o->predictions_path, (unsigned long long)pred.lines[p], cell(&pred, p, row_col),
					o->data_path, data.rows - 1);
				goto out;
			}
			row = (size_t)d;
		}
		if (row >= data.rows) {
			err_set(e, MLCI_EFAILED, "%s: %zu predictions for %zu rows of %s", o->predictions_path,
				pred.rows, data.rows, o->data_path);
			goto out;
		}
		s.pred_row[row] = p;
	}
	for (size_t i = 0; i < data.rows; i++)
		if (s.pred_row[i] == (size_t)-1) {
			err_set(e, MLCI_EFAILED, "%s: no prediction for row %zu (%s:%llu)", o->predictions_path, i,
				o->data_path, (unsigned long long)data.lines[i]);
			goto out;
		}
	if (kserve) {
		struct buf path = BUF_INIT;
		const cJSON *in;
		buf_addf(&path, "/v2/models/%s", o->model);
		meta = get_json(o, path.ptr, r);
		buf_release(&path);
		if (!meta) {
			ret = 0;
			goto out;
		}
		in = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(meta, "inputs"), 0);
		if (!json_str(in, "name", NULL) || !json_str(in, "datatype", NULL)) {
			set_problem(r, "the model metadata names no input (name and datatype) to send the rows to");
			ret = 0;
			goto out;
		}
	}
	for (size_t from = 0; from < data.rows; from += batch) {
		size_t to = from + batch < data.rows ? from + batch : data.rows;
		if ((kserve ? kserve_batch(&s, meta, r, from, to) : tfs_batch(&s, r, from, to)) < 0)
			break;
	}
	ret = 0;
out:
	cJSON_Delete(meta);
	free(s.cols);
	free(s.pred_row);
	free(s.row_bad);
	table_release(&data);
	table_release(&pred);
	return ret;
}
