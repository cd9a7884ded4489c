/* protocol.c - conformance checks of the KServe V2 and TF Serving REST protocols (see protocol.h and
 * docs/service.md). Each item is one or two HTTP requests with a timeout; nothing here prints. */
#include "checks/protocol.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/http.h"
#include "common/alloc.h"
#include "common/buf.h"
#include "common/banned.h"

#define MAX_ELEMENTS 1000000 /* a tensor built from metadata larger than this is refused */

enum { P_PASS = 0, P_FAIL = 1, P_SKIP = 2 };

static void add(struct protocol_report *r, const char *name, int status, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static void add(struct protocol_report *r, const char *name, int status, const char *fmt, ...)
{
	struct buf b = BUF_INIT;
	va_list ap;
	va_start(ap, fmt);
	buf_vaddf(&b, fmt, ap);
	va_end(ap);
	ALLOC_GROW(r->items, r->n + 1, r->alloc);
	r->items[r->n].name = xstrdup(name);
	r->items[r->n].status = status;
	r->items[r->n].detail = buf_detach(&b, NULL);
	r->n++;
	if (status == P_FAIL)
		r->failed++;
}

void protocol_report_release(struct protocol_report *r)
{
	for (size_t i = 0; i < r->n; i++) {
		free(r->items[i].name);
		free(r->items[i].detail);
	}
	free(r->items);
	memset(r, 0, sizeof(*r));
}

/* Turn the last item (just added as passed) into a failure saying "detail" (owned by the item now). */
static void fail_last(struct protocol_report *r, char *detail)
{
	struct protocol_item *it = &r->items[r->n - 1];
	it->status = P_FAIL;
	r->failed++;
	free(it->detail);
	it->detail = detail;
}

/* One request; "body" NULL for none. The parsed JSON answer (or NULL) goes to "*json". */
static int call(const struct protocol_opts *o, const char *method, const char *path, const char *body,
		struct http_resp *resp, cJSON **json)
{
	static const char *const jh[] = { "Content-Type: application/json", NULL };
	struct http_req q;
	struct buf url = BUF_INIT;
	int r;
	buf_addf(&url, "%s%s", o->base_url, path);
	memset(&q, 0, sizeof(q));
	q.method = method;
	q.url = url.ptr;
	q.body = body;
	q.body_len = body ? strlen(body) : 0;
	q.headers = body ? jh : NULL;
	q.timeout_ms = o->timeout_ms > 0 ? o->timeout_ms : 10000;
	r = http_do(&q, resp);
	if (json)
		*json = r == 0 ? cJSON_ParseWithLength(resp->body.ptr, resp->body.len) : NULL;
	buf_release(&url);
	return r;
}

/* "answered 503: {"error":"model not loaded"}" or "no answer: ..." into "b". */
static void describe(const struct http_resp *resp, int ok, struct buf *b)
{
	if (!ok) {
		buf_addf(b, "no answer: %s", resp->error);
		return;
	}
	buf_addf(b, "answered %ld in %.1f ms", resp->status, resp->latency_ms);
	if (resp->body.len) {
		buf_addstr(b, ": ");
		for (size_t i = 0; i < resp->body.len && i < 160; i++)
			buf_addch(b, (unsigned char)resp->body.ptr[i] < 0x20 ? ' ' : resp->body.ptr[i]);
		if (resp->body.len > 160)
			buf_addstr(b, "...");
	}
}

/* GET "path" expecting 200; returns the JSON answer (may be NULL) through "json" when asked. */
static int expect_200(const struct protocol_opts *o, struct protocol_report *r, const char *name, const char *path,
		      cJSON **json)
{
	struct http_resp resp;
	struct buf d = BUF_INIT;
	int ok, pass;
	http_resp_init(&resp);
	ok = call(o, "GET", path, NULL, &resp, json) == 0;
	pass = ok && resp.status == 200;
	if (pass) {
		add(r, name, P_PASS, "GET %s: 200 in %.1f ms", path, resp.latency_ms);
	} else {
		describe(&resp, ok, &d);
		add(r, name, P_FAIL, "GET %s: expected 200, %s", path, d.ptr);
	}
	buf_release(&d);
	http_resp_release(&resp);
	return pass ? 0 : -1;
}

/* A bad request must get a 4xx with {"error": "..."}: never a 2xx, a 5xx or no answer. */
static void expect_error(const struct protocol_opts *o, struct protocol_report *r, const char *name, const char *path,
			 const char *body)
{
	struct http_resp resp;
	struct buf d = BUF_INIT;
	cJSON *j = NULL;
	int ok;
	http_resp_init(&resp);
	ok = call(o, "POST", path, body, &resp, &j) == 0;
	if (!ok) {
		describe(&resp, ok, &d);
		add(r, name, P_FAIL, "POST %s: expected a 4xx with {\"error\": ...}, %s", path, d.ptr);
	} else if (resp.status < 400 || resp.status > 499) {
		describe(&resp, ok, &d);
		add(r, name, P_FAIL, "POST %s: expected a 4xx with {\"error\": ...}, %s%s", path, d.ptr,
		    resp.status >= 500  ? " (a client error must not be a server error)"
		    : resp.status < 400 ? " (the bad request was accepted)"
					: "");
	} else if (!cJSON_IsObject(j) || !cJSON_IsString(cJSON_GetObjectItemCaseSensitive(j, "error"))) {
		describe(&resp, ok, &d);
		add(r, name, P_FAIL, "POST %s: %s, but the body is not {\"error\": \"...\"}", path, d.ptr);
	} else {
		add(r, name, P_PASS, "%ld: %.120s", resp.status,
		    cJSON_GetObjectItemCaseSensitive(j, "error")->valuestring);
	}
	cJSON_Delete(j);
	buf_release(&d);
	http_resp_release(&resp);
}

static char *xstrfmt(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static char *xstrfmt(const char *fmt, ...)
{
	struct buf b = BUF_INIT;
	va_list ap;
	va_start(ap, fmt);
	buf_vaddf(&b, fmt, ap);
	va_end(ap);
	return buf_detach(&b, NULL);
}

static char *print(const cJSON *j)
{
	return cJSON_PrintUnformatted(j);
}

/* ---------------------------------------------------------------- KServe V2 */

static const char *const v2_types[] = { "BOOL",  "UINT8", "UINT16", "UINT32", "UINT64", "INT8",  "INT16",
					"INT32", "INT64", "FP16",   "FP32",   "FP64",   "BYTES", NULL };

static int v2_type_ok(const char *t)
{
	for (size_t i = 0; v2_types[i]; i++)
		if (!strcmp(v2_types[i], t))
			return 1;
	return 0;
}

static int is_int(const cJSON *v)
{
	return cJSON_IsNumber(v) && floor(v->valuedouble) == v->valuedouble && fabs(v->valuedouble) < 1e15;
}

/* Check one tensor description {name, datatype, shape} at "where"; -1 with "why". */
static int tensor_meta_ok(const cJSON *t, const char *where, struct buf *why)
{
	const cJSON *name = cJSON_GetObjectItemCaseSensitive(t, "name");
	const cJSON *dt = cJSON_GetObjectItemCaseSensitive(t, "datatype");
	const cJSON *shape = cJSON_GetObjectItemCaseSensitive(t, "shape");
	if (!cJSON_IsObject(t))
		return buf_addf(why, "%s is not an object", where), -1;
	if (!cJSON_IsString(name) || !*name->valuestring)
		return buf_addf(why, "%s.name is not a non-empty string", where), -1;
	if (!cJSON_IsString(dt) || !v2_type_ok(dt->valuestring))
		return buf_addf(why, "%s.datatype is not a V2 datatype (BOOL, INT32, FP32, BYTES, ...)", where), -1;
	if (!cJSON_IsArray(shape))
		return buf_addf(why, "%s.shape is not an array", where), -1;
	for (const cJSON *d = shape->child; d; d = d->next)
		if (!is_int(d) || d->valuedouble < -1)
			return buf_addf(why, "%s.shape holds something other than integers >= -1", where), -1;
	return 0;
}

static int model_meta_ok(const cJSON *m, const char *model, struct buf *why)
{
	const cJSON *name = cJSON_GetObjectItemCaseSensitive(m, "name");
	static const char *const lists[] = { "inputs", "outputs" };
	if (!cJSON_IsObject(m))
		return buf_addstr(why, "the body is not a JSON object"), -1;
	if (!cJSON_IsString(name) || strcmp(name->valuestring, model))
		return buf_addf(why, "name is not \"%s\"", model), -1;
	for (size_t l = 0; l < 2; l++) {
		const cJSON *a = cJSON_GetObjectItemCaseSensitive(m, lists[l]);
		size_t i = 0;
		if (!cJSON_IsArray(a) || !a->child)
			return buf_addf(why, "%s is not a non-empty array", lists[l]), -1;
		for (const cJSON *t = a->child; t; t = t->next, i++) {
			char where[64];
			snprintf(where, sizeof(where), "%s[%zu]", lists[l], i);
			if (tensor_meta_ok(t, where, why) < 0)
				return -1;
		}
	}
	return 0;
}

static cJSON *zero_of(const char *dt)
{
	if (!strcmp(dt, "BOOL"))
		return cJSON_CreateFalse();
	if (!strcmp(dt, "BYTES"))
		return cJSON_CreateString("");
	return cJSON_CreateNumber(0);
}

cJSON *protocol_kserve_request(const cJSON *meta, char *why, size_t why_len)
{
	const cJSON *inputs = cJSON_GetObjectItemCaseSensitive(meta, "inputs");
	cJSON *req, *arr;
	if (!cJSON_IsArray(inputs) || !inputs->child) {
		snprintf(why, why_len, "the model metadata has no inputs");
		return NULL;
	}
	req = cJSON_CreateObject();
	arr = cJSON_AddArrayToObject(req, "inputs");
	for (const cJSON *in = inputs->child; in; in = in->next) {
		const cJSON *name = cJSON_GetObjectItemCaseSensitive(in, "name");
		const cJSON *dt = cJSON_GetObjectItemCaseSensitive(in, "datatype");
		const cJSON *shape = cJSON_GetObjectItemCaseSensitive(in, "shape");
		cJSON *t, *sh, *data;
		double count = 1;
		if (!cJSON_IsString(name) || !cJSON_IsString(dt) || !cJSON_IsArray(shape)) {
			snprintf(why, why_len, "an input lacks name, datatype or shape");
			cJSON_Delete(req);
			return NULL;
		}
		t = cJSON_CreateObject();
		cJSON_AddItemToArray(arr, t);
		cJSON_AddStringToObject(t, "name", name->valuestring);
		cJSON_AddStringToObject(t, "datatype", dt->valuestring);
		sh = cJSON_AddArrayToObject(t, "shape");
		for (const cJSON *d = shape->child; d; d = d->next) {
			double v = is_int(d) && d->valuedouble >= 0 ? d->valuedouble : 1;
			cJSON_AddItemToArray(sh, cJSON_CreateNumber(v));
			count *= v;
		}
		if (count > MAX_ELEMENTS) {
			snprintf(why, why_len, "input \"%.64s\" would have %.0f elements (more than %d)",
				 name->valuestring, count, MAX_ELEMENTS);
			cJSON_Delete(req);
			return NULL;
		}
		data = cJSON_AddArrayToObject(t, "data");
		for (double k = 0; k < count; k++)
			cJSON_AddItemToArray(data, zero_of(dt->valuestring));
	}
	return req;
}

static int data_type_ok(const cJSON *v, const char *dt)
{
	if (!strcmp(dt, "BOOL"))
		return cJSON_IsBool(v);
	if (!strcmp(dt, "BYTES"))
		return cJSON_IsString(v);
	return cJSON_IsNumber(v);
}

/* Count the elements of a flat or nested "data" array, checking each against "dt"; -1 on a bad one. */
static long count_data(const cJSON *a, const char *dt, int depth)
{
	long n = 0;
	if (depth > 16)
		return -1;
	for (const cJSON *v = a->child; v; v = v->next) {
		if (cJSON_IsArray(v)) {
			long k = count_data(v, dt, depth + 1);
			if (k < 0)
				return -1;
			n += k;
		} else if (data_type_ok(v, dt)) {
			n++;
		} else {
			return -1;
		}
	}
	return n;
}

/* Check an infer answer against the model metadata; -1 with "why". */
static int infer_answer_ok(const cJSON *ans, const cJSON *meta, const char *model, struct buf *why)
{
	const cJSON *outs = cJSON_GetObjectItemCaseSensitive(ans, "outputs");
	const cJSON *mouts = cJSON_GetObjectItemCaseSensitive(meta, "outputs");
	const cJSON *mn = cJSON_GetObjectItemCaseSensitive(ans, "model_name");
	if (!cJSON_IsObject(ans))
		return buf_addstr(why, "the answer is not a JSON object"), -1;
	if (!cJSON_IsString(mn) || strcmp(mn->valuestring, model))
		return buf_addf(why, "model_name is not \"%s\"", model), -1;
	if (!cJSON_IsArray(outs) || !outs->child)
		return buf_addstr(why, "outputs is not a non-empty array"), -1;
	for (const cJSON *mo = mouts ? mouts->child : NULL; mo; mo = mo->next) {
		const char *name = cJSON_GetObjectItemCaseSensitive(mo, "name")->valuestring;
		const char *mdt = cJSON_GetObjectItemCaseSensitive(mo, "datatype")->valuestring;
		const cJSON *mshape = cJSON_GetObjectItemCaseSensitive(mo, "shape");
		const cJSON *o = NULL, *dt, *shape, *data;
		double count = 1;
		long have;
		for (const cJSON *x = outs->child; x && !o; x = x->next) {
			const cJSON *xn = cJSON_GetObjectItemCaseSensitive(x, "name");
			if (cJSON_IsString(xn) && !strcmp(xn->valuestring, name))
				o = x;
		}
		if (!o)
			return buf_addf(why, "output \"%s\" (in the metadata) is missing", name), -1;
		dt = cJSON_GetObjectItemCaseSensitive(o, "datatype");
		shape = cJSON_GetObjectItemCaseSensitive(o, "shape");
		data = cJSON_GetObjectItemCaseSensitive(o, "data");
		if (!cJSON_IsString(dt) || strcmp(dt->valuestring, mdt))
			return buf_addf(why, "output \"%s\": datatype %s%s%s, but the metadata says %s", name,
					cJSON_IsString(dt) ? "\"" : "",
					cJSON_IsString(dt) ? dt->valuestring : "missing",
					cJSON_IsString(dt) ? "\"" : "", mdt),
			       -1;
		if (!cJSON_IsArray(shape))
			return buf_addf(why, "output \"%s\": shape is not an array", name), -1;
		if (cJSON_GetArraySize(shape) != cJSON_GetArraySize(mshape)) {
			char *a = print(shape), *b = print(mshape);
			buf_addf(why, "output \"%s\": shape %s does not match the metadata's %s", name, a, b);
			cJSON_free(a);
			cJSON_free(b);
			return -1;
		}
		for (const cJSON *d = shape->child, *md = mshape->child; d; d = d->next, md = md->next) {
			if (!is_int(d) || d->valuedouble < 0)
				return buf_addf(why, "output \"%s\": shape holds something other than integers >= 0",
						name),
				       -1;
			if (md->valuedouble >= 0 && d->valuedouble != md->valuedouble) {
				char *a = print(shape), *b = print(mshape);
				buf_addf(why, "output \"%s\": shape %s does not match the metadata's %s", name, a, b);
				cJSON_free(a);
				cJSON_free(b);
				return -1;
			}
			count *= d->valuedouble;
		}
		if (!cJSON_IsArray(data))
			return buf_addf(why, "output \"%s\": data is not an array", name), -1;
		have = count_data(data, mdt, 0);
		if (have < 0)
			return buf_addf(why, "output \"%s\": data holds values that are not %s", name, mdt), -1;
		if ((double)have != count) {
			char *a = print(shape);
			buf_addf(why, "output \"%s\": %ld values do not match shape %s", name, have, a);
			cJSON_free(a);
			return -1;
		}
	}
	return 0;
}

/* One KServe V2 conformance run: the URLs, and what the early items learn for the later ones. */
struct kserve_run {
	const struct protocol_opts *o;
	struct protocol_report *r;
	struct buf model; /* "/v2/models/NAME" */
	struct buf infer; /* "/v2/models/NAME/infer" */
	int ready_ok;     /* the server answered 200 to /v2/health/ready */
	cJSON *meta;      /* the model metadata, when usable; owned; NULL = none */
	cJSON *req;       /* the infer request built from it; owned; NULL = none */
	const char *dt;   /* the datatype of req's first input (points into req) */
};

/* A deep copy of the request and its first input, for the bad requests to spoil. */
static cJSON *copy_request(const struct kserve_run *k, cJSON **first_input)
{
	cJSON *bad = cJSON_Duplicate(k->req, 1);
	*first_input = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(bad, "inputs"), 0);
	return bad;
}

/* POST "bad" to the infer URL, expecting a 4xx with {"error": ...}; frees "bad". */
static void send_bad(struct kserve_run *k, const char *name, cJSON *bad)
{
	char *body = print(bad);
	expect_error(k->o, k->r, name, k->infer.ptr, body);
	cJSON_free(body);
	cJSON_Delete(bad);
}

/* GET /v2/models/NAME: 200 with a name and described inputs and outputs. */
static void kserve_model_metadata(struct kserve_run *k)
{
	struct buf why = BUF_INIT;
	int ok = expect_200(k->o, k->r, "model metadata", k->model.ptr, &k->meta) == 0;
	if (ok && model_meta_ok(k->meta, k->o->model, &why) < 0) {
		fail_last(k->r, xstrfmt("GET %s: %s", k->model.ptr, why.ptr));
		ok = 0;
	}
	if (!ok) { /* what a failed answer held is of no use to the later items */
		cJSON_Delete(k->meta);
		k->meta = NULL;
	}
	buf_release(&why);
}

/* Zeros shaped by the metadata, sent right after readiness: a server claiming readiness before it can
 * answer is caught here. */
static void kserve_infer_after_ready(struct kserve_run *k)
{
	static const char *const name = "infer right after ready";
	struct http_resp resp;
	struct buf why = BUF_INIT, d = BUF_INIT;
	cJSON *ans = NULL;
	char whyb[256], *body;
	int ok;
	if (!k->meta) {
		add(k->r, name, P_SKIP, "no usable model metadata to build a request from");
		return;
	}
	if (!(k->req = protocol_kserve_request(k->meta, whyb, sizeof(whyb)))) {
		add(k->r, name, P_FAIL, "%s", whyb);
		return;
	}
	k->dt = cJSON_GetObjectItemCaseSensitive(
			cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(k->req, "inputs"), 0), "datatype")
			->valuestring;
	http_resp_init(&resp);
	body = print(k->req);
	ok = call(k->o, "POST", k->infer.ptr, body, &resp, &ans) == 0;
	if (!ok || resp.status != 200) {
		describe(&resp, ok, &d);
		add(k->r, name, P_FAIL, "POST %s (zeros shaped by the metadata): expected 200, %s%s", k->infer.ptr,
		    d.ptr,
		    k->ready_ok && ok && resp.status >= 500 ? "; readiness was claimed before the model could answer"
							    : "");
	} else if (infer_answer_ok(ans, k->meta, k->o->model, &why) < 0) {
		add(k->r, name, P_FAIL, "POST %s: %s", k->infer.ptr, why.ptr);
	} else {
		add(k->r, name, P_PASS, "200 in %.1f ms, outputs match the metadata", resp.latency_ms);
	}
	cJSON_free(body);
	cJSON_Delete(ans);
	http_resp_release(&resp);
	buf_release(&why);
	buf_release(&d);
}

/* GET /v2: 200 with {"name": string, "version": string, "extensions": [...]}. */
static void kserve_server_metadata(struct kserve_run *k)
{
	cJSON *sm = NULL;
	if (expect_200(k->o, k->r, "server metadata", "/v2", &sm) == 0) {
		const cJSON *n = cJSON_GetObjectItemCaseSensitive(sm, "name");
		const cJSON *v = cJSON_GetObjectItemCaseSensitive(sm, "version");
		const cJSON *x = cJSON_GetObjectItemCaseSensitive(sm, "extensions");
		if (!cJSON_IsString(n) || !cJSON_IsString(v) || !cJSON_IsArray(x))
			fail_last(k->r, xstrdup("GET /v2: expected {\"name\": string, \"version\": string, "
						"\"extensions\": [...]}"));
	}
	cJSON_Delete(sm);
}

static void kserve_model_ready(struct kserve_run *k)
{
	struct buf path = BUF_INIT;
	buf_addf(&path, "%s/ready", k->model.ptr);
	expect_200(k->o, k->r, "model ready", path.ptr, NULL);
	buf_release(&path);
}

/* Strings labelled BYTES for a numeric input, numbers labelled FP32 otherwise. */
static void kserve_bad_datatype(struct kserve_run *k)
{
	static const char *const name = "bad request: wrong datatype";
	cJSON *bt, *bad, *nd;
	int numeric;
	size_t n;
	if (!k->req) {
		add(k->r, name, P_SKIP, "no request could be built from the metadata");
		return;
	}
	numeric = strcmp(k->dt, "BYTES") && strcmp(k->dt, "BOOL");
	bad = copy_request(k, &bt);
	n = (size_t)cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(bt, "data"));
	cJSON_ReplaceItemInObjectCaseSensitive(bt, "datatype", cJSON_CreateString(numeric ? "BYTES" : "FP32"));
	nd = cJSON_CreateArray();
	for (size_t i = 0; i < n; i++)
		cJSON_AddItemToArray(nd, numeric ? cJSON_CreateString("x") : cJSON_CreateNumber(1.5));
	cJSON_ReplaceItemInObjectCaseSensitive(bt, "data", nd);
	send_bad(k, name, bad);
}

/* The last fixed dimension of the first input one larger, with data to match. */
static void kserve_bad_shape(struct kserve_run *k)
{
	static const char *const name = "bad request: wrong shape";
	const cJSON *mshape, *last = NULL;
	cJSON *bt, *bad, *nd;
	double count = 1;
	if (!k->req) {
		add(k->r, name, P_SKIP, "no request could be built from the metadata");
		return;
	}
	mshape = cJSON_GetObjectItemCaseSensitive(
		cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(k->meta, "inputs"), 0), "shape");
	for (const cJSON *x = mshape ? mshape->child : NULL; x; x = x->next)
		last = x;
	if (!last || last->valuedouble < 1 || !cJSON_GetArraySize(mshape)) {
		add(k->r, name, P_SKIP, "the first input has no fixed last dimension");
		return;
	}
	bad = copy_request(k, &bt);
	for (cJSON *x = cJSON_GetObjectItemCaseSensitive(bt, "shape")->child; x; x = x->next) {
		if (!x->next)
			cJSON_SetNumberValue(x, x->valuedouble + 1);
		count *= x->valuedouble;
	}
	nd = cJSON_CreateArray();
	for (double i = 0; i < count && i < MAX_ELEMENTS; i++)
		cJSON_AddItemToArray(nd, zero_of(k->dt));
	cJSON_ReplaceItemInObjectCaseSensitive(bt, "data", nd);
	send_bad(k, name, bad);
}

/* Data that does not fill the shape: one value short (or one too many when there is none). */
static void kserve_bad_data_count(struct kserve_run *k)
{
	static const char *const name = "bad request: data does not match the shape";
	cJSON *bt, *bad, *data;
	if (!k->req) {
		add(k->r, name, P_SKIP, "no request could be built from the metadata");
		return;
	}
	bad = copy_request(k, &bt);
	data = cJSON_GetObjectItemCaseSensitive(bt, "data");
	if (cJSON_GetArraySize(data) > 0)
		cJSON_DeleteItemFromArray(data, 0);
	else
		cJSON_AddItemToArray(data, zero_of(k->dt));
	send_bad(k, name, bad);
}

/* A good request (or an empty one) to a model that does not exist. */
static void kserve_unknown_model(struct kserve_run *k)
{
	struct buf path = BUF_INIT;
	char *body = k->req ? print(k->req) : xstrdup("{\"inputs\":[]}");
	buf_addf(&path, "/v2/models/%s-no-such-model/infer", k->o->model);
	expect_error(k->o, k->r, "bad request: unknown model", path.ptr, body);
	if (k->req)
		cJSON_free(body);
	else
		free(body);
	buf_release(&path);
}

static void kserve(const struct protocol_opts *o, struct protocol_report *r)
{
	struct kserve_run k;
	memset(&k, 0, sizeof(k));
	k.o = o;
	k.r = r;
	buf_init(&k.model, 0);
	buf_init(&k.infer, 0);
	buf_addf(&k.model, "/v2/models/%s", o->model);
	buf_addf(&k.infer, "/v2/models/%s/infer", o->model);

	k.ready_ok = expect_200(o, r, "server ready", "/v2/health/ready", NULL) == 0;
	kserve_model_metadata(&k);
	kserve_infer_after_ready(&k);
	expect_200(o, r, "server live", "/v2/health/live", NULL);
	kserve_server_metadata(&k);
	kserve_model_ready(&k);
	kserve_bad_datatype(&k);
	kserve_bad_shape(&k);
	kserve_bad_data_count(&k);
	kserve_unknown_model(&k);
	expect_error(o, r, "bad request: invalid JSON", k.infer.ptr, "{\"inputs\": [");

	cJSON_Delete(k.meta);
	cJSON_Delete(k.req);
	buf_release(&k.model);
	buf_release(&k.infer);
}

/* ---------------------------------------------------------------- TF Serving REST */

static void tfserving(const struct protocol_opts *o, struct protocol_report *r)
{
	struct buf path = BUF_INIT, predict = BUF_INIT, d = BUF_INIT;
	struct http_resp resp;
	cJSON *st = NULL;
	http_resp_init(&resp);
	buf_addf(&path, "/v1/models/%s", o->model);
	buf_addf(&predict, "/v1/models/%s:predict", o->model);

	if (expect_200(o, r, "model status", path.ptr, &st) == 0) {
		const cJSON *mvs = cJSON_GetObjectItemCaseSensitive(st, "model_version_status");
		int avail = 0;
		for (const cJSON *v = cJSON_IsArray(mvs) ? mvs->child : NULL; v; v = v->next) {
			const cJSON *s = cJSON_GetObjectItemCaseSensitive(v, "state");
			if (cJSON_IsString(s) && !strcmp(s->valuestring, "AVAILABLE"))
				avail = 1;
		}
		if (!avail)
			fail_last(r,
				  xstrfmt("GET %s: no model_version_status entry with state \"AVAILABLE\"", path.ptr));
	}
	if (!cJSON_IsArray(o->instances) || !o->instances->child) {
		add(r, "predict", P_SKIP, "no instances to send (tfserving-v1 needs parity data to build them)");
		add(r, "bad request: wrong row length", P_SKIP, "no instances to send");
	} else {
		cJSON *req = cJSON_CreateObject(), *ans = NULL;
		char *body;
		int ok, n = cJSON_GetArraySize(o->instances);
		cJSON_AddItemToObject(req, "instances", cJSON_Duplicate(o->instances, 1));
		body = print(req);
		ok = call(o, "POST", predict.ptr, body, &resp, &ans) == 0;
		if (!ok || resp.status != 200) {
			describe(&resp, ok, &d);
			add(r, "predict", P_FAIL, "POST %s: expected 200, %s", predict.ptr, d.ptr);
		} else {
			const cJSON *p = cJSON_GetObjectItemCaseSensitive(ans, "predictions");
			if (!cJSON_IsArray(p) || cJSON_GetArraySize(p) != n)
				add(r, "predict", P_FAIL, "POST %s: expected {\"predictions\": [...]} with %d entries",
				    predict.ptr, n);
			else
				add(r, "predict", P_PASS, "200 in %.1f ms, %d predictions", resp.latency_ms, n);
		}
		cJSON_free(body);
		cJSON_Delete(ans);
		/* rows one value short */
		{
			cJSON *inst = cJSON_GetObjectItemCaseSensitive(req, "instances");
			int shortened = 0;
			for (cJSON *row = inst->child; row; row = row->next)
				if (cJSON_IsArray(row) && row->child) {
					cJSON_DeleteItemFromArray(row, 0);
					shortened = 1;
				}
			if (!shortened) {
				add(r, "bad request: wrong row length", P_SKIP, "instances are not lists of values");
			} else {
				body = print(req);
				expect_error(o, r, "bad request: wrong row length", predict.ptr, body);
				cJSON_free(body);
			}
		}
		cJSON_Delete(req);
	}
	expect_error(o, r, "bad request: instances not a list", predict.ptr, "{\"instances\": \"x\"}");
	buf_reset(&d);
	buf_addf(&d, "/v1/models/%s-no-such-model:predict", o->model);
	expect_error(o, r, "bad request: unknown model", d.ptr, "{\"instances\": [[0]]}");
	expect_error(o, r, "bad request: invalid JSON", predict.ptr, "{\"instances\": [");
	cJSON_Delete(st);
	http_resp_release(&resp);
	buf_release(&path);
	buf_release(&predict);
	buf_release(&d);
}

int protocol_check(const struct protocol_opts *o, struct protocol_report *r)
{
	if (!strcmp(o->protocol, "kserve-v2"))
		kserve(o, r);
	else if (!strcmp(o->protocol, "tfserving-v1"))
		tfserving(o, r);
	else
		return -1;
	return 0;
}
