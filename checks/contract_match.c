/* contract_match.c - checking a response against a contract case (checks/contract.h): status classes,
 * latency, and every matcher at every JSON path, each mismatch one line of text. Pure: it sends nothing. */
#include "checks/contract.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdarg.h>
#include <string.h>

#include "common/banned.h"

/* ---------- JSON values ---------- */

const char *contract_type_name(enum contract_type t)
{
	static const char *const names[] = {
		"any", "string", "number", "integer", "boolean", "null", "array", "object"
	};
	return (unsigned)t < sizeof(names) / sizeof(names[0]) ? names[t] : "any";
}

static const char *json_kind(const cJSON *v)
{
	if (cJSON_IsString(v))
		return "string";
	if (cJSON_IsNumber(v))
		return "number";
	if (cJSON_IsBool(v))
		return "boolean";
	if (cJSON_IsNull(v))
		return "null";
	if (cJSON_IsArray(v))
		return "array";
	if (cJSON_IsObject(v))
		return "object";
	return "invalid";
}

static int type_ok(const cJSON *v, enum contract_type t)
{
	switch (t) {
	case CONTRACT_T_ANY:
		return 1;
	case CONTRACT_T_STRING:
		return cJSON_IsString(v);
	case CONTRACT_T_NUMBER:
		return cJSON_IsNumber(v);
	case CONTRACT_T_INTEGER:
		return cJSON_IsNumber(v) && isfinite(v->valuedouble) && floor(v->valuedouble) == v->valuedouble;
	case CONTRACT_T_BOOLEAN:
		return cJSON_IsBool(v);
	case CONTRACT_T_NULL:
		return cJSON_IsNull(v);
	case CONTRACT_T_ARRAY:
		return cJSON_IsArray(v);
	case CONTRACT_T_OBJECT:
		return cJSON_IsObject(v);
	}
	return 0;
}

/* Deep equality; numbers compare as doubles, object members in any order. */
static int json_equal(const cJSON *a, const cJSON *b)
{
	if (cJSON_IsNumber(a) && cJSON_IsNumber(b))
		return a->valuedouble == b->valuedouble;
	if (cJSON_IsString(a) && cJSON_IsString(b))
		return !strcmp(a->valuestring, b->valuestring);
	if (cJSON_IsBool(a) && cJSON_IsBool(b))
		return cJSON_IsTrue(a) == cJSON_IsTrue(b);
	if (cJSON_IsNull(a) && cJSON_IsNull(b))
		return 1;
	if (cJSON_IsArray(a) && cJSON_IsArray(b)) {
		const cJSON *x = a->child, *y = b->child;
		for (; x && y; x = x->next, y = y->next)
			if (!json_equal(x, y))
				return 0;
		return !x && !y;
	}
	if (cJSON_IsObject(a) && cJSON_IsObject(b)) {
		if (cJSON_GetArraySize(a) != cJSON_GetArraySize(b))
			return 0;
		for (const cJSON *x = a->child; x; x = x->next) {
			const cJSON *y = cJSON_GetObjectItemCaseSensitive(b, x->string);
			if (!y || !json_equal(x, y))
				return 0;
		}
		return 1;
	}
	return 0;
}

void contract_json_text(const cJSON *v, size_t max, struct buf *out)
{
	char *t = v ? cJSON_PrintUnformatted(v) : NULL;
	if (!t) {
		buf_addstr(out, "?");
		return;
	}
	if (strlen(t) > max && max > 3) {
		buf_add(out, t, max - 3);
		buf_addstr(out, "...");
	} else {
		buf_addstr(out, t);
	}
	cJSON_free(t);
}

/* ---------- a response ---------- */

void contract_result_init(struct contract_result *r)
{
	memset(r, 0, sizeof(*r));
	strvec_init(&r->problems);
}

void contract_result_release(struct contract_result *r)
{
	strvec_clear(&r->problems);
}

struct match_ctx {
	const struct contract_expect *x;
	struct strvec *problems;
	size_t added;
};

static void problem(struct match_ctx *m, const char *where, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void problem(struct match_ctx *m, const char *where, const char *fmt, ...)
{
	struct buf b = BUF_INIT;
	va_list ap;
	buf_addf(&b, "%s: ", *where ? where : "$");
	va_start(ap, fmt);
	buf_vaddf(&b, fmt, ap);
	va_end(ap);
	strvec_push_owned(m->problems, buf_detach(&b, NULL));
	m->added++;
}

static void check_value(const cJSON *v, const char *where, void *payload)
{
	struct match_ctx *m = payload;
	const struct contract_expect *x = m->x;
	struct buf ev = BUF_INIT, av = BUF_INIT;
	contract_json_text(v, 120, &av);
	if (x->equals && !json_equal(x->equals, v)) {
		contract_json_text(x->equals, 120, &ev);
		problem(m, where, "expected %s, got %s", ev.ptr, av.ptr);
	}
	if (x->one_of) {
		int ok = 0;
		for (const cJSON *o = x->one_of->child; o && !ok; o = o->next)
			ok = json_equal(o, v);
		if (!ok) {
			buf_reset(&ev);
			contract_json_text(x->one_of, 120, &ev);
			problem(m, where, "expected one of %s, got %s", ev.ptr, av.ptr);
		}
	}
	if (x->type != CONTRACT_T_ANY && !type_ok(v, x->type))
		problem(m, where, "expected type %s, got %s %s", contract_type_name(x->type), json_kind(v), av.ptr);
	if (x->has_min || x->has_max) {
		if (!cJSON_IsNumber(v))
			problem(m, where, "expected a number in [%s%g, %g%s], got %s %s", x->has_min ? "" : "-inf ",
				x->has_min ? x->min : 0, x->has_max ? x->max : 0, x->has_max ? "" : " (no max)",
				json_kind(v), av.ptr);
		else if (x->has_min && v->valuedouble < x->min)
			problem(m, where, "expected >= %.17g, got %.17g", x->min, v->valuedouble);
		else if (x->has_max && v->valuedouble > x->max)
			problem(m, where, "expected <= %.17g, got %.17g", x->max, v->valuedouble);
	}
	if (x->len >= 0 || x->min_len >= 0 || x->max_len >= 0) {
		int64_t n = -1;
		if (cJSON_IsArray(v) || cJSON_IsObject(v))
			n = cJSON_GetArraySize(v);
		else if (cJSON_IsString(v))
			n = (int64_t)strlen(v->valuestring);
		if (n < 0)
			problem(m, where, "expected an array, object or string (for its length), got %s %s",
				json_kind(v), av.ptr);
		else if (x->len >= 0 && n != x->len)
			problem(m, where, "expected length %lld, got length %lld", (long long)x->len, (long long)n);
		else if (x->min_len >= 0 && n < x->min_len)
			problem(m, where, "expected length >= %lld, got length %lld", (long long)x->min_len,
				(long long)n);
		else if (x->max_len >= 0 && n > x->max_len)
			problem(m, where, "expected length <= %lld, got length %lld", (long long)x->max_len,
				(long long)n);
	}
	if (x->contains) {
		if (!cJSON_IsString(v))
			problem(m, where, "expected a string containing \"%s\", got %s %s", x->contains, json_kind(v),
				av.ptr);
		else if (!strstr(v->valuestring, x->contains))
			problem(m, where, "expected a string containing \"%s\", got %s", x->contains, av.ptr);
	}
	buf_release(&ev);
	buf_release(&av);
}

static void note_present(const cJSON *v, const char *where, void *payload)
{
	struct match_ctx *m = payload;
	struct buf av = BUF_INIT;
	contract_json_text(v, 120, &av);
	problem(m, where, "expected no such value, got %s", av.ptr);
	buf_release(&av);
}

/* What a missing path should say: the longest prefix that exists, and what it holds. */
static void report_missing(struct match_ctx *m, const cJSON *root)
{
	const struct contract_expect *x = m->x;
	struct buf want = BUF_INIT;
	if (x->equals)
		contract_json_text(x->equals, 120, &want);
	else if (x->type != CONTRACT_T_ANY)
		buf_addf(&want, "type %s", contract_type_name(x->type));
	else
		buf_addstr(&want, "a value");
	(void)root;
	problem(m, x->text, "missing (expected %s)", want.ptr);
	buf_release(&want);
}

size_t contract_check_response(const struct contract_case *c, long status, double latency_ms, const char *body,
			       size_t body_len, struct contract_result *r)
{
	size_t before = r->problems.n;
	int status_ok = 0;
	cJSON *root = NULL;
	r->status = status;
	r->latency_ms = latency_ms;
	for (size_t i = 0; i < c->n_status; i++)
		if (status >= c->status[i].lo && status <= c->status[i].hi)
			status_ok = 1;
	if (!status_ok) {
		struct buf want = BUF_INIT;
		for (size_t i = 0; i < c->n_status; i++) {
			if (i)
				buf_addstr(&want, i + 1 == c->n_status ? " or " : ", ");
			if (c->status[i].lo == c->status[i].hi)
				buf_addf(&want, "%ld", c->status[i].lo);
			else
				buf_addf(&want, "%ldxx", c->status[i].lo / 100);
		}
		strvec_pushf(&r->problems, "status: expected %s, got %ld", want.ptr, status);
		buf_release(&want);
	}
	if (c->max_latency_ms > 0 && latency_ms > c->max_latency_ms)
		strvec_pushf(&r->problems, "latency: expected <= %g ms, got %.1f ms", c->max_latency_ms, latency_ms);
	if (c->n_json) {
		root = cJSON_ParseWithLength(body ? body : "", body ? body_len : 0);
		if (!root) {
			struct buf show = BUF_INIT;
			for (size_t i = 0; i < body_len && i < 80; i++)
				buf_addch(&show, (unsigned char)body[i] < 0x20 ? ' ' : body[i]);
			strvec_pushf(&r->problems, "body: expected JSON, got %s\"%s%s\"",
				     body_len ? "" : "an empty body ", show.ptr, body_len > 80 ? "..." : "");
			buf_release(&show);
		} else {
			for (size_t i = 0; i < c->n_json; i++) {
				struct match_ctx m = { &c->json[i], &r->problems, 0 };
				size_t n;
				if (!c->json[i].exists) {
					contract_path_each(root, &c->json[i].path, note_present, &m);
					continue;
				}
				n = contract_path_each(root, &c->json[i].path, check_value, &m);
				if (!n)
					report_missing(&m, root);
			}
		}
		cJSON_Delete(root);
	}
	r->passed = r->problems.n == before;
	return r->problems.n - before;
}
