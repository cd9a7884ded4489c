/* spec_yaml.c - the spec parser's toolkit: diagnostics with key paths, typed getters over libyaml
 * document nodes, name lookup and "did you mean". It knows no section of mlci.yaml (spec_sections.c does). */
#include "spec/spec_int.h"

#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "common/alloc.h"
#include "common/path.h"
#include "common/banned.h"

/* ---------- diagnostics ---------- */

struct spec_pos spec_node_pos(const yaml_node_t *n)
{
	struct spec_pos p = { 1, 1 };
	if (n) {
		p.line = (unsigned)n->start_mark.line + 1;
		p.col = (unsigned)n->start_mark.column + 1;
	}
	return p;
}

static void diag_vadd(struct spec_diags *d, struct spec_pos pos, const char *key, const char *fmt, va_list ap)
	__attribute__((format(printf, 4, 0)));

#define QUOTED_MAX 64 /* longer quoted values are cut with "..." */

/* Copy text that may quote the user's values into "out" fit for a terminal: control characters
 * (C0, DEL, C1) escaped, every "quoted" run cut to QUOTED_MAX bytes at a character boundary, the
 * whole capped at "max" bytes. Quotes inside values may confuse the pairing; the output stays safe. */
static void sanitize(struct buf *out, const char *s, size_t max)
{
	int quoted = 0, cut = 0;
	size_t run = 0;
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (out->len >= max) {
			buf_addstr(out, "...");
			return;
		}
		if (*p == '"') {
			quoted = !quoted;
			run = 0;
			cut = 0;
			buf_addch(out, '"');
			continue;
		}
		if (quoted) {
			if ((*p & 0xc0) != 0x80)
				run++; /* a character starts here */
			if (run > QUOTED_MAX) {
				if (!cut)
					buf_addstr(out, "...");
				cut = 1;
				continue;
			}
		}
		if (*p == '\n')
			buf_addstr(out, "\\n");
		else if (*p == '\t')
			buf_addstr(out, "\\t");
		else if (*p == '\r')
			buf_addstr(out, "\\r");
		else if (*p < 0x20 || *p == 0x7f)
			buf_addf(out, "\\x%02x", *p);
		else if (*p == 0xc2 && p[1] >= 0x80 && p[1] <= 0x9f)
			buf_addf(out, "\\u%04x", *++p);
		else
			buf_addch(out, (char)*p);
	}
}

/* Append one diagnostic to "d". Past SPEC_MAX_DIAGS a single "too many errors" entry is added and
 * everything after it is dropped, so a hostile file cannot make the list (or the output) huge. */
static void diag_vadd(struct spec_diags *d, struct spec_pos pos, const char *key, const char *fmt, va_list ap)
{
	struct buf msg = BUF_INIT;
	struct spec_diag *dg;
	if (d->n > SPEC_MAX_DIAGS)
		return;
	ALLOC_GROW(d->items, d->n + 1, d->alloc);
	dg = &d->items[d->n++];
	if (d->n == SPEC_MAX_DIAGS + 1) {
		dg->pos = pos;
		dg->key = xstrdup("");
		dg->msg = xstrdup("too many errors; stopping here");
		return;
	}
	buf_vaddf(&msg, fmt, ap);
	dg->pos = pos;
	{
		struct buf clean = BUF_INIT;
		sanitize(&clean, key ? key : "", 256);
		dg->key = buf_detach(&clean, NULL);
		sanitize(&clean, msg.ptr, 1024);
		dg->msg = buf_detach(&clean, NULL);
	}
	buf_release(&msg);
}

void spec_diag_add(struct spec_diags *d, struct spec_pos pos, const char *key, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	diag_vadd(d, pos, key, fmt, ap);
	va_end(ap);
}

void spec_err(struct spec_ctx *c, const yaml_node_t *n, const char *fmt, ...)
{
	va_list ap;
	c->nerr++;
	va_start(ap, fmt);
	diag_vadd(c->diags, spec_node_pos(n), c->key.ptr, fmt, ap);
	va_end(ap);
}

void spec_err_at(struct spec_ctx *c, struct spec_pos pos, const char *fmt, ...)
{
	va_list ap;
	c->nerr++;
	va_start(ap, fmt);
	diag_vadd(c->diags, pos, c->key.ptr, fmt, ap);
	va_end(ap);
}

static int pos_before(struct spec_pos a, struct spec_pos b)
{
	return a.line < b.line || (a.line == b.line && a.col < b.col);
}

/* Order the diags added since "from" by position, stably (insertion sort: at most SPEC_MAX_DIAGS).
 * The "too many errors" entry stays last. */
void spec_diags_sort(struct spec_diags *d, size_t from)
{
	size_t end = d->n > SPEC_MAX_DIAGS ? SPEC_MAX_DIAGS : d->n;
	for (size_t i = from + 1; i < end; i++) {
		struct spec_diag t = d->items[i];
		size_t j = i;
		while (j > from && pos_before(t.pos, d->items[j - 1].pos)) {
			d->items[j] = d->items[j - 1];
			j--;
		}
		d->items[j] = t;
	}
}

/* ---------- key path ---------- */

size_t spec_key_push(struct spec_ctx *c, const char *name)
{
	size_t mark = c->key.len;
	if (name && *name) {
		if (c->key.len)
			buf_addch(&c->key, '.');
		buf_addstr(&c->key, name);
	}
	return mark;
}

size_t spec_key_push_index(struct spec_ctx *c, size_t i)
{
	size_t mark = c->key.len;
	buf_addf(&c->key, "[%zu]", i);
	return mark;
}

void spec_key_pop(struct spec_ctx *c, size_t mark)
{
	buf_setlen(&c->key, mark);
}

/* ---------- nodes ---------- */

yaml_node_t *spec_node(struct spec_ctx *c, int id)
{
	return yaml_document_get_node(c->doc, id);
}

/* A plain scalar spelled as YAML's null: "", "~", "null". Quoted "" is an empty string, not null. */
int spec_is_null(const yaml_node_t *n)
{
	const char *v;
	if (!n || n->type != YAML_SCALAR_NODE || n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
		return 0;
	v = (const char *)n->data.scalar.value;
	return !*v || !strcmp(v, "~") || !strcmp(v, "null") || !strcmp(v, "Null") || !strcmp(v, "NULL");
}

const char *spec_kind(const yaml_node_t *n)
{
	if (!n)
		return "nothing";
	switch (n->type) {
	case YAML_MAPPING_NODE:
		return "a mapping";
	case YAML_SEQUENCE_NODE:
		return "a sequence";
	case YAML_SCALAR_NODE:
		return spec_is_null(n) ? "null" : "a scalar";
	default:
		return "nothing";
	}
}

const char *spec_scalar(struct spec_ctx *c, const yaml_node_t *n, const char *what)
{
	const char *v;
	if (!n || n->type != YAML_SCALAR_NODE || spec_is_null(n)) {
		spec_err(c, n, "expected %s, got %s", what, spec_kind(n));
		return NULL;
	}
	v = (const char *)n->data.scalar.value;
	if (strlen(v) != n->data.scalar.length) {
		spec_err(c, n, "expected %s, got a value containing a NUL character", what);
		return NULL;
	}
	return v;
}

void spec_pairs_release(struct spec_pairs *p)
{
	free(p->keys);
	free(p->vals);
	free(p->names);
	memset(p, 0, sizeof(*p));
}

/* Collect the pairs of mapping "n" (a null counts as an empty mapping), reporting keys that are not
 * scalars and duplicate keys; such pairs get keys[i] == NULL. -1 (after a diag) if "n" is not a mapping. */
int spec_map(struct spec_ctx *c, yaml_node_t *n, struct spec_pairs *out)
{
	size_t np, *first;
	memset(out, 0, sizeof(*out));
	if (spec_is_null(n))
		return 0;
	if (!n || n->type != YAML_MAPPING_NODE) {
		spec_err(c, n, "expected a mapping, got %s", spec_kind(n));
		return -1;
	}
	np = (size_t)(n->data.mapping.pairs.top - n->data.mapping.pairs.start);
	out->n = np;
	out->keys = xcalloc(np, sizeof(*out->keys));
	out->vals = xcalloc(np, sizeof(*out->vals));
	out->names = xcalloc(np, sizeof(*out->names));
	for (size_t i = 0; i < np; i++) {
		yaml_node_pair_t *pr = &n->data.mapping.pairs.start[i];
		yaml_node_t *k = spec_node(c, pr->key);
		const char *name = spec_scalar(c, k, "a key");
		if (!name)
			continue;
		out->keys[i] = k;
		out->vals[i] = spec_node(c, pr->value);
		out->names[i] = name;
	}
	first = spec_find_dups(out->names, np);
	for (size_t i = 0; i < np; i++) {
		if (first[i] == SPEC_NONE)
			continue;
		spec_err(c, out->keys[i], "duplicate key \"%s\" (first defined at line %u)", out->names[i],
			 spec_node_pos(out->keys[first[i]]).line);
		out->keys[i] = NULL;
		out->names[i] = NULL;
	}
	free(first);
	return 0;
}

int spec_fields(struct spec_ctx *c, yaml_node_t *n, const struct spec_field *f, size_t nf, yaml_node_t **vals)
{
	struct spec_pairs p;
	const char **cands;
	for (size_t j = 0; j < nf; j++)
		vals[j] = NULL;
	if (spec_map(c, n, &p) < 0)
		return -1;
	cands = xcalloc(nf, sizeof(*cands));
	for (size_t j = 0; j < nf; j++)
		cands[j] = f[j].name;
	for (size_t i = 0; i < p.n; i++) {
		size_t j;
		struct buf msg = BUF_INIT;
		if (!p.keys[i])
			continue;
		for (j = 0; j < nf; j++)
			if (!strcmp(p.names[i], f[j].name))
				break;
		if (j < nf) {
			vals[j] = p.vals[i];
			continue;
		}
		buf_addf(&msg, "unknown key \"%s\"", p.names[i]);
		spec_add_suggestion(&msg, p.names[i], cands, nf);
		spec_err(c, p.keys[i], "%s", msg.ptr);
		buf_release(&msg);
	}
	for (size_t j = 0; j < nf; j++)
		if (f[j].required && !vals[j])
			spec_err(c, n, "missing required key \"%s\"", f[j].name);
	free(cands);
	spec_pairs_release(&p);
	return 0;
}

/* ---------- typed getters ---------- */

int spec_get_str(struct spec_ctx *c, yaml_node_t *n, const char *name, const char *what, char **out)
{
	size_t mark;
	const char *t;
	int ret = -1;
	if (!n)
		return 1;
	mark = spec_key_push(c, name);
	t = spec_scalar(c, n, what);
	if (t && !*t) {
		spec_err(c, n, "expected %s, got an empty string", what);
	} else if (t) {
		free(*out);
		*out = xstrdup(t);
		ret = 0;
	}
	spec_key_pop(c, mark);
	return ret;
}

int spec_get_bool(struct spec_ctx *c, yaml_node_t *n, const char *name, int *out)
{
	size_t mark;
	const char *t;
	int ret = -1;
	if (!n)
		return 1;
	mark = spec_key_push(c, name);
	t = spec_scalar(c, n, "true or false");
	if (t) {
		if (!strcmp(t, "true") || !strcmp(t, "True") || !strcmp(t, "TRUE")) {
			*out = 1;
			ret = 0;
		} else if (!strcmp(t, "false") || !strcmp(t, "False") || !strcmp(t, "FALSE")) {
			*out = 0;
			ret = 0;
		} else {
			spec_err(c, n, "invalid boolean \"%s\" (expected true or false)", t);
		}
	}
	spec_key_pop(c, mark);
	return ret;
}

int spec_get_int(struct spec_ctx *c, yaml_node_t *n, const char *name, int64_t min, int64_t max, int64_t *out)
{
	size_t mark;
	const char *t;
	int64_t v;
	int ret = -1;
	if (!n)
		return 1;
	mark = spec_key_push(c, name);
	t = spec_scalar(c, n, "a whole number");
	if (t) {
		if (spec_parse_int(t, &v) == 0 && v >= min && v <= max) {
			*out = v;
			ret = 0;
		} else if (max == INT64_MAX) {
			spec_err(c, n, "invalid number \"%s\" (expected a whole number >= %lld)", t, (long long)min);
		} else {
			spec_err(c, n, "invalid number \"%s\" (expected a whole number from %lld to %lld)", t,
				 (long long)min, (long long)max);
		}
	}
	spec_key_pop(c, mark);
	return ret;
}

int spec_get_num(struct spec_ctx *c, yaml_node_t *n, const char *name, double min, int min_excl, double max,
		 double *out)
{
	size_t mark;
	const char *t;
	double v;
	int ret = -1;
	if (!n)
		return 1;
	mark = spec_key_push(c, name);
	t = spec_scalar(c, n, "a number");
	if (t) {
		if (spec_parse_number(t, &v) == 0 && (min_excl ? v > min : v >= min) && v <= max) {
			*out = v;
			ret = 0;
		} else if (isinf(max)) {
			spec_err(c, n, "invalid number \"%s\" (expected a number %s %g)", t,
				 min_excl ? ">" : ">=", min);
		} else if (min_excl) {
			spec_err(c, n, "invalid number \"%s\" (expected a number > %g and <= %g)", t, min, max);
		} else {
			spec_err(c, n, "invalid number \"%s\" (expected a number from %g to %g)", t, min, max);
		}
	}
	spec_key_pop(c, mark);
	return ret;
}

int spec_get_duration(struct spec_ctx *c, yaml_node_t *n, const char *name, int64_t *ms)
{
	size_t mark;
	const char *t;
	int64_t v;
	int ret = -1;
	if (!n)
		return 1;
	mark = spec_key_push(c, name);
	t = spec_scalar(c, n, "a duration");
	if (t) {
		if (spec_parse_duration(t, &v) < 0)
			spec_err(c, n,
				 "invalid duration \"%s\" (expected a number followed by ms, s, m, h or d, "
				 "e.g. \"90s\" or \"5m\")",
				 t);
		else if (v == 0)
			spec_err(c, n, "invalid duration \"%s\" (expected more than zero, e.g. \"90s\" or \"5m\")", t);
		else {
			*ms = v;
			ret = 0;
		}
	}
	spec_key_pop(c, mark);
	return ret;
}

int spec_get_size(struct spec_ctx *c, yaml_node_t *n, const char *name, int64_t *bytes)
{
	size_t mark;
	const char *t;
	int64_t v;
	int ret = -1;
	if (!n)
		return 1;
	mark = spec_key_push(c, name);
	t = spec_scalar(c, n, "a size");
	if (t) {
		if (spec_parse_size(t, &v) < 0)
			spec_err(c, n,
				 "invalid size \"%s\" (expected a number of bytes, optionally followed by k, M, G, "
				 "T, Ki, Mi, Gi or Ti, e.g. \"512Mi\" or \"1G\")",
				 t);
		else if (v == 0)
			spec_err(c, n, "invalid size \"%s\" (expected more than zero, e.g. \"512Mi\")", t);
		else {
			*bytes = v;
			ret = 0;
		}
	}
	spec_key_pop(c, mark);
	return ret;
}

static void add_choices(struct buf *b, const char *const *vals, size_t n)
{
	for (size_t i = 0; i < n; i++)
		buf_addf(b, "%s%s", i == 0 ? "" : i + 1 == n ? " or " : ", ", vals[i]);
}

int spec_get_enum(struct spec_ctx *c, yaml_node_t *n, const char *name, const char *const *vals, size_t nvals, int *idx)
{
	size_t mark;
	const char *t;
	struct buf what = BUF_INIT;
	int ret = -1;
	if (!n)
		return 1;
	mark = spec_key_push(c, name);
	add_choices(&what, vals, nvals);
	t = spec_scalar(c, n, what.ptr);
	if (t) {
		for (size_t i = 0; i < nvals; i++) {
			if (!strcmp(t, vals[i])) {
				*idx = (int)i;
				ret = 0;
			}
		}
		if (ret < 0) {
			const char *sug = spec_suggest(t, vals, nvals);
			if (sug)
				spec_err(c, n, "invalid %s \"%s\" (expected %s; did you mean \"%s\"?)", name, t,
					 what.ptr, sug);
			else
				spec_err(c, n, "invalid %s \"%s\" (expected %s)", name, t, what.ptr);
		}
	}
	buf_release(&what);
	spec_key_pop(c, mark);
	return ret;
}

/* ---------- lists ---------- */

char *spec_conv_str(struct spec_ctx *c, yaml_node_t *item, const char *text)
{
	if (!*text) {
		spec_err(c, item, "expected a non-empty string, got an empty string");
		return NULL;
	}
	return xstrdup(text);
}

char *spec_repo_path(struct spec_ctx *c, yaml_node_t *n, const char *text)
{
	const char *why;
	struct buf norm = BUF_INIT;
	if (path_check_relative(text, &why) < 0) {
		spec_err(c, n, "path \"%s\" %s", text, why);
		return NULL;
	}
	path_normalise(text, &norm);
	if (!norm.len)
		buf_addch(&norm, '.');
	return buf_detach(&norm, NULL);
}

char *spec_conv_repo_path(struct spec_ctx *c, yaml_node_t *item, const char *text)
{
	return spec_repo_path(c, item, text);
}

void spec_strlist_release(struct spec_strlist *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->items[i]);
	free(l->items);
	free(l->pos);
	memset(l, 0, sizeof(*l));
}

/* Report and drop repeated items of "l"; orig[i] is the sequence index item i came from. */
static int list_dedup(struct spec_ctx *c, struct spec_strlist *l, const size_t *orig, const char *noun)
{
	size_t *first = spec_find_dups((const char *const *)l->items, l->n);
	size_t k = 0;
	int ret = 0;
	for (size_t i = 0; i < l->n; i++) {
		if (first[i] == SPEC_NONE) {
			l->items[k] = l->items[i];
			l->pos[k] = l->pos[i];
			k++;
			continue;
		}
		{
			size_t mark = spec_key_push_index(c, orig[i]);
			spec_err_at(c, l->pos[i], "duplicate %s \"%s\"", noun, l->items[i]);
			spec_key_pop(c, mark);
		}
		free(l->items[i]);
		ret = -1;
	}
	l->n = k;
	free(first);
	return ret;
}

int spec_get_list(struct spec_ctx *c, yaml_node_t *n, const char *name, int scalar_ok, const char *what,
		  spec_conv_fn conv, const char *dup_noun, struct spec_strlist *out)
{
	size_t mark, count;
	size_t *orig;
	int ret = 0;
	if (!n)
		return 1;
	mark = spec_key_push(c, name);
	if (spec_is_null(n)) {
		spec_key_pop(c, mark);
		return 0;
	}
	if (n->type == YAML_SCALAR_NODE) {
		const char *t = spec_scalar(c, n, what);
		if (!t) {
			ret = -1;
		} else if (!scalar_ok) {
			spec_err(c, n, "expected a sequence, got a scalar (write [%s] for a one-item list)", t);
			ret = -1;
		} else {
			char *v = conv(c, n, t);
			if (v) {
				out->items = xcalloc(1, sizeof(*out->items));
				out->pos = xcalloc(1, sizeof(*out->pos));
				out->items[0] = v;
				out->pos[0] = spec_node_pos(n);
				out->n = 1;
			} else {
				ret = -1;
			}
		}
		spec_key_pop(c, mark);
		return ret;
	}
	if (n->type != YAML_SEQUENCE_NODE) {
		spec_err(c, n, "expected a sequence, got %s", spec_kind(n));
		spec_key_pop(c, mark);
		return -1;
	}
	count = (size_t)(n->data.sequence.items.top - n->data.sequence.items.start);
	out->items = xcalloc(count, sizeof(*out->items));
	out->pos = xcalloc(count, sizeof(*out->pos));
	orig = xcalloc(count, sizeof(*orig));
	for (size_t i = 0; i < count; i++) {
		yaml_node_t *item = spec_node(c, n->data.sequence.items.start[i]);
		size_t m2 = spec_key_push_index(c, i);
		const char *t = spec_scalar(c, item, what);
		char *v = t ? conv(c, item, t) : NULL;
		if (v) {
			out->items[out->n] = v;
			out->pos[out->n] = spec_node_pos(item);
			orig[out->n] = i;
			out->n++;
		} else {
			ret = -1;
		}
		spec_key_pop(c, m2);
	}
	if (dup_noun && list_dedup(c, out, orig, dup_noun) < 0)
		ret = -1;
	free(orig);
	spec_key_pop(c, mark);
	return ret;
}

/* ---------- names ---------- */

struct named {
	const char *s;
	size_t i;
};

static int named_cmp(const void *a, const void *b)
{
	const struct named *x = a, *y = b;
	int r = strcmp(x->s, y->s);
	if (r)
		return r;
	return x->i < y->i ? -1 : x->i > y->i;
}

/* Sort the non-NULL entries of "strs" by (text, index); returns the count in *m. */
static struct named *sorted_names(const char *const *strs, size_t n, size_t *m)
{
	struct named *v = xcalloc(n, sizeof(*v));
	size_t k = 0;
	for (size_t i = 0; i < n; i++) {
		if (!strs[i])
			continue;
		v[k].s = strs[i];
		v[k].i = i;
		k++;
	}
	if (k > 1)
		qsort(v, k, sizeof(*v), named_cmp);
	*m = k;
	return v;
}

size_t *spec_find_dups(const char *const *strs, size_t n)
{
	size_t *first = xcalloc(n, sizeof(*first));
	size_t m;
	struct named *v = sorted_names(strs, n, &m);
	for (size_t i = 0; i < n; i++)
		first[i] = SPEC_NONE;
	for (size_t k = 1, g = 0; k < m; k++) {
		if (strcmp(v[g].s, v[k].s))
			g = k; /* a new group starts; v[g] is its first (lowest index) */
		else
			first[v[k].i] = v[g].i;
	}
	free(v);
	return first;
}

void spec_index_build(struct spec_index *ix, const char *const *names, size_t n)
{
	size_t m;
	struct named *v = sorted_names(names, n, &m);
	ix->names = xcalloc(m, sizeof(*ix->names));
	ix->idx = xcalloc(m, sizeof(*ix->idx));
	for (size_t k = 0; k < m; k++) {
		ix->names[k] = v[k].s;
		ix->idx[k] = v[k].i;
	}
	ix->n = m;
	free(v);
}

/* The lowest index whose name is "name", or SPEC_NONE. */
size_t spec_index_find(const struct spec_index *ix, const char *name)
{
	size_t lo = 0, hi = ix->n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (strcmp(ix->names[mid], name) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo < ix->n && !strcmp(ix->names[lo], name))
		return ix->idx[lo];
	return SPEC_NONE;
}

void spec_index_release(struct spec_index *ix)
{
	free(ix->names);
	free(ix->idx);
	memset(ix, 0, sizeof(*ix));
}

/* Levenshtein distance between "a" and "b", giving up (returning 3) past 2 or for long words. */
static unsigned edit_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	unsigned row[65], prev[65];
	if (la > 64 || lb > 64 || (la > lb ? la - lb : lb - la) > 2)
		return 3;
	for (size_t j = 0; j <= lb; j++)
		prev[j] = (unsigned)j;
	for (size_t i = 1; i <= la; i++) {
		unsigned best = row[0] = (unsigned)i;
		for (size_t j = 1; j <= lb; j++) {
			unsigned cost = a[i - 1] != b[j - 1];
			unsigned v = prev[j - 1] + cost;
			if (prev[j] + 1 < v)
				v = prev[j] + 1;
			if (row[j - 1] + 1 < v)
				v = row[j - 1] + 1;
			row[j] = v;
			if (v < best)
				best = v;
		}
		if (best > 2)
			return 3;
		memcpy(prev, row, (lb + 1) * sizeof(*row));
	}
	return prev[lb];
}

const char *spec_suggest(const char *word, const char *const *cands, size_t n)
{
	const char *best = NULL;
	unsigned bestd = 3;
	for (size_t i = 0; i < n; i++) {
		unsigned d;
		if (!cands[i] || !strcmp(cands[i], word))
			continue;
		d = edit_distance(word, cands[i]);
		if (d < bestd && d < strlen(cands[i])) {
			bestd = d;
			best = cands[i];
		}
	}
	return best;
}

void spec_add_suggestion(struct buf *b, const char *word, const char *const *cands, size_t n)
{
	const char *s = spec_suggest(word, cands, n);
	if (s)
		buf_addf(b, " (did you mean \"%s\"?)", s);
}
