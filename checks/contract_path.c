/* contract_path.c - JSON paths of contract cases (checks/contract.h): parse "outputs[1].data[0]", "[*]",
 * ["a.b"], and walk a cJSON value calling back for each match. Pure: no I/O, no YAML. */
#include "checks/contract.h"

#include <cjson/cJSON.h>
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "common/alloc.h"
#include "common/banned.h"

static void path_add(struct contract_path *p, enum contract_seg_kind kind, char *key, size_t index)
{
	p->segs = xrealloc(p->segs, (p->n + 1) * sizeof(*p->segs));
	p->segs[p->n].kind = kind;
	p->segs[p->n].key = key;
	p->segs[p->n].index = index;
	p->n++;
}

void contract_path_release(struct contract_path *p)
{
	for (size_t i = 0; i < p->n; i++)
		free(p->segs[i].key);
	free(p->segs);
	p->segs = NULL;
	p->n = 0;
}

int contract_path_parse(const char *text, struct contract_path *out, struct buf *why)
{
	const char *s = text;
	memset(out, 0, sizeof(*out));
	if (s[0] == '$') {
		s++;
		if (*s == '.')
			s++;
		else if (*s && *s != '[')
			goto bad_char;
	}
	while (*s) {
		if (*s == '[') {
			s++;
			if (*s == '*' && s[1] == ']') {
				path_add(out, CONTRACT_SEG_ALL, NULL, 0);
				s += 2;
			} else if (*s == '"') {
				struct buf k = BUF_INIT;
				s++;
				while (*s && *s != '"') {
					if (*s == '\\' && s[1])
						s++;
					buf_addch(&k, *s++);
				}
				if (s[0] != '"' || s[1] != ']') {
					buf_release(&k);
					buf_addf(why, "unterminated [\"key\"] in path \"%s\"", text);
					goto fail;
				}
				path_add(out, CONTRACT_SEG_KEY, buf_detach(&k, NULL), 0);
				s += 2;
			} else if (isdigit((unsigned char)*s)) {
				size_t v = 0;
				while (isdigit((unsigned char)*s)) {
					if (v > 100000000) {
						buf_addf(why, "index too large in path \"%s\"", text);
						goto fail;
					}
					v = v * 10 + (size_t)(*s++ - '0');
				}
				if (*s != ']') {
					buf_addf(why, "expected ']' after the index in path \"%s\"", text);
					goto fail;
				}
				s++;
				path_add(out, CONTRACT_SEG_INDEX, NULL, v);
			} else {
				buf_addf(why, "expected an index, [*] or [\"key\"] after '[' in path \"%s\"", text);
				goto fail;
			}
			if (*s == '.') {
				s++;
				if (!*s || *s == '.' || *s == '[')
					goto empty_key;
			} else if (*s && *s != '[') {
				goto bad_char;
			}
		} else {
			const char *st = s;
			while (*s && *s != '.' && *s != '[' && *s != ']')
				s++;
			if (s == st)
				goto empty_key;
			if (*s == ']')
				goto bad_char;
			path_add(out, CONTRACT_SEG_KEY, xstrndup(st, (size_t)(s - st)), 0);
			if (*s == '.') {
				s++;
				if (!*s || *s == '.' || *s == '[')
					goto empty_key;
			}
		}
	}
	return 0;
empty_key:
	buf_addf(why, "empty key in path \"%s\"", text);
	goto fail;
bad_char:
	buf_addf(why, "unexpected '%c' in path \"%s\"", *s, text);
fail:
	contract_path_release(out);
	return -1;
}

static size_t path_walk(const cJSON *v, const struct contract_path *p, size_t i, struct buf *where,
			void (*fn)(const cJSON *, const char *, void *), void *payload)
{
	size_t mark = where->len, n = 0;
	const struct contract_seg *s;
	if (i == p->n) {
		fn(v, where->ptr, payload);
		return 1;
	}
	s = &p->segs[i];
	if (s->kind == CONTRACT_SEG_KEY) {
		const cJSON *m = cJSON_IsObject(v) ? cJSON_GetObjectItemCaseSensitive(v, s->key) : NULL;
		if (!m)
			return 0;
		if (strpbrk(s->key, ".[]\"") || !*s->key)
			buf_addf(where, "[\"%s\"]", s->key);
		else
			buf_addf(where, "%s%s", where->len ? "." : "", s->key);
		n = path_walk(m, p, i + 1, where, fn, payload);
	} else if (s->kind == CONTRACT_SEG_INDEX) {
		const cJSON *m = cJSON_IsArray(v)
					 ? cJSON_GetArrayItem(v, (int)(s->index > 0x7fffffff ? 0x7fffffff : s->index))
					 : NULL;
		if (!m)
			return 0;
		buf_addf(where, "[%zu]", s->index);
		n = path_walk(m, p, i + 1, where, fn, payload);
	} else if (cJSON_IsArray(v) || cJSON_IsObject(v)) {
		size_t k = 0;
		for (const cJSON *m = v->child; m; m = m->next, k++) {
			if (cJSON_IsArray(v))
				buf_addf(where, "[%zu]", k);
			else
				buf_addf(where, "[\"%s\"]", m->string ? m->string : "");
			n += path_walk(m, p, i + 1, where, fn, payload);
			buf_setlen(where, mark);
		}
	}
	buf_setlen(where, mark);
	return n;
}

size_t contract_path_each(const cJSON *root, const struct contract_path *p,
			  void (*fn)(const cJSON *v, const char *where, void *payload), void *payload)
{
	struct buf where = BUF_INIT;
	size_t n = root ? path_walk(root, p, 0, &where, fn, payload) : 0;
	buf_release(&where);
	return n;
}
