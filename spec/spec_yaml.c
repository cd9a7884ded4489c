/* spec_yaml.c - the spec parser's getters over the YAML toolkit (common/yaml_doc.h): diagnostics under
 * the key path, typed values worded for mlci.yaml, name lookup and "did you mean". It knows no section of
 * mlci.yaml (spec_sections.c does). */
#include "spec/spec_int.h"

#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "common/alloc.h"
#include "common/path.h"
#include "common/banned.h"

/* ---------- diagnostics ---------- */

void spec_err(struct spec_ctx *c, const yaml_node_t *n, const char *fmt, ...)
{
	va_list ap;
	c->nerr++;
	va_start(ap, fmt);
	diags_vadd(c->diags, yaml_doc_pos(n), c->key.ptr, fmt, ap);
	va_end(ap);
}

void spec_err_at(struct spec_ctx *c, struct diag_pos pos, const char *fmt, ...)
{
	va_list ap;
	c->nerr++;
	va_start(ap, fmt);
	diags_vadd(c->diags, pos, c->key.ptr, fmt, ap);
	va_end(ap);
}

/* ---------- nodes ---------- */

const char *spec_kind(const yaml_node_t *n)
{
	return yaml_doc_is_null(n) ? "null" : yaml_doc_kind(n);
}

const char *spec_scalar(struct spec_ctx *c, const yaml_node_t *n, const char *what)
{
	const char *v = yaml_doc_scalar(n);
	if (!v || yaml_doc_is_null(n)) {
		spec_err(c, n, "expected %s, got %s", what, spec_kind(n));
		return NULL;
	}
	if (strlen(v) != yaml_doc_scalar_len(n)) {
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
	if (yaml_doc_is_null(n))
		return 0;
	if (!n || n->type != YAML_MAPPING_NODE) {
		spec_err(c, n, "expected a mapping, got %s", spec_kind(n));
		return -1;
	}
	np = yaml_doc_map_len(n);
	out->n = np;
	out->keys = xcalloc(np, sizeof(*out->keys));
	out->vals = xcalloc(np, sizeof(*out->vals));
	out->names = xcalloc(np, sizeof(*out->names));
	for (size_t i = 0; i < np; i++) {
		yaml_node_t *k = yaml_doc_map_key(c->doc, n, i);
		const char *name = spec_scalar(c, k, "a key");
		if (!name)
			continue;
		out->keys[i] = k;
		out->vals[i] = yaml_doc_map_value(c->doc, n, i);
		out->names[i] = name;
	}
	first = spec_find_dups(out->names, np);
	for (size_t i = 0; i < np; i++) {
		if (first[i] == SPEC_NONE)
			continue;
		spec_err(c, out->keys[i], "duplicate key \"%s\" (first defined at line %u)", out->names[i],
			 yaml_doc_pos(out->keys[first[i]]).line);
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
	mark = yaml_doc_key_push(&c->key, name);
	t = spec_scalar(c, n, what);
	if (t && !*t) {
		spec_err(c, n, "expected %s, got an empty string", what);
	} else if (t) {
		free(*out);
		*out = xstrdup(t);
		ret = 0;
	}
	yaml_doc_key_pop(&c->key, mark);
	return ret;
}

int spec_get_bool(struct spec_ctx *c, yaml_node_t *n, const char *name, int *out)
{
	size_t mark;
	const char *t;
	int ret = -1;
	if (!n)
		return 1;
	mark = yaml_doc_key_push(&c->key, name);
	t = spec_scalar(c, n, "true or false");
	if (t) {
		ret = yaml_doc_bool(t, out);
		if (ret < 0)
			spec_err(c, n, "invalid boolean \"%s\" (expected true or false)", t);
	}
	yaml_doc_key_pop(&c->key, mark);
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
	mark = yaml_doc_key_push(&c->key, name);
	t = spec_scalar(c, n, "a whole number");
	if (t) {
		if (yaml_doc_int(t, &v) == 0 && v >= min && v <= max) {
			*out = v;
			ret = 0;
		} else if (max == INT64_MAX) {
			spec_err(c, n, "invalid number \"%s\" (expected a whole number >= %lld)", t, (long long)min);
		} else {
			spec_err(c, n, "invalid number \"%s\" (expected a whole number from %lld to %lld)", t,
				 (long long)min, (long long)max);
		}
	}
	yaml_doc_key_pop(&c->key, mark);
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
	mark = yaml_doc_key_push(&c->key, name);
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
	yaml_doc_key_pop(&c->key, mark);
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
	mark = yaml_doc_key_push(&c->key, name);
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
	yaml_doc_key_pop(&c->key, mark);
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
	mark = yaml_doc_key_push(&c->key, name);
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
	yaml_doc_key_pop(&c->key, mark);
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
	mark = yaml_doc_key_push(&c->key, name);
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
	yaml_doc_key_pop(&c->key, mark);
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
			size_t mark = yaml_doc_key_push_index(&c->key, orig[i]);
			spec_err_at(c, l->pos[i], "duplicate %s \"%s\"", noun, l->items[i]);
			yaml_doc_key_pop(&c->key, mark);
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
	mark = yaml_doc_key_push(&c->key, name);
	if (yaml_doc_is_null(n)) {
		yaml_doc_key_pop(&c->key, mark);
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
				out->pos[0] = yaml_doc_pos(n);
				out->n = 1;
			} else {
				ret = -1;
			}
		}
		yaml_doc_key_pop(&c->key, mark);
		return ret;
	}
	if (n->type != YAML_SEQUENCE_NODE) {
		spec_err(c, n, "expected a sequence, got %s", spec_kind(n));
		yaml_doc_key_pop(&c->key, mark);
		return -1;
	}
	count = yaml_doc_seq_len(n);
	out->items = xcalloc(count, sizeof(*out->items));
	out->pos = xcalloc(count, sizeof(*out->pos));
	orig = xcalloc(count, sizeof(*orig));
	for (size_t i = 0; i < count; i++) {
		yaml_node_t *item = yaml_doc_seq_item(c->doc, n, i);
		size_t m2 = yaml_doc_key_push_index(&c->key, i);
		const char *t = spec_scalar(c, item, what);
		char *v = t ? conv(c, item, t) : NULL;
		if (v) {
			out->items[out->n] = v;
			out->pos[out->n] = yaml_doc_pos(item);
			orig[out->n] = i;
			out->n++;
		} else {
			ret = -1;
		}
		yaml_doc_key_pop(&c->key, m2);
	}
	if (dup_noun && list_dedup(c, out, orig, dup_noun) < 0)
		ret = -1;
	free(orig);
	yaml_doc_key_pop(&c->key, mark);
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
