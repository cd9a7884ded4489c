/* strvec.c - NULL-terminated string vectors for argv and environment building.
 * Must not print or exit. */
#include "common/strvec.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "common/alloc.h"
#include "common/buf.h"
#include "common/banned.h"

char *strvec_empty[] = { NULL };

void strvec_init(struct strvec *sv)
{
	sv->v = strvec_empty;
	sv->n = 0;
	sv->alloc = 0;
}

void strvec_push_owned(struct strvec *sv, char *s)
{
	if (sv->v == strvec_empty)
		sv->v = NULL;
	ALLOC_GROW(sv->v, sv->n + 2, sv->alloc);
	sv->v[sv->n++] = s;
	sv->v[sv->n] = NULL;
}

void strvec_push(struct strvec *sv, const char *s)
{
	strvec_push_owned(sv, xstrdup(s));
}

void strvec_pushf(struct strvec *sv, const char *fmt, ...)
{
	struct buf b = BUF_INIT;
	va_list ap;
	va_start(ap, fmt);
	buf_vaddf(&b, fmt, ap);
	va_end(ap);
	strvec_push_owned(sv, buf_detach(&b, NULL));
}

static size_t env_find(const struct strvec *sv, const char *name)
{
	size_t nl = strlen(name);
	for (size_t i = 0; i < sv->n; i++)
		if (!strncmp(sv->v[i], name, nl) && sv->v[i][nl] == '=')
			return i;
	return (size_t)-1;
}

void strvec_setenv(struct strvec *sv, const char *name, const char *value)
{
	struct buf b = BUF_INIT;
	size_t i = env_find(sv, name);
	buf_addf(&b, "%s=%s", name, value);
	if (i == (size_t)-1) {
		strvec_push_owned(sv, buf_detach(&b, NULL));
	} else {
		free(sv->v[i]);
		sv->v[i] = buf_detach(&b, NULL);
	}
}

const char *strvec_getenv(const struct strvec *sv, const char *name)
{
	size_t i = env_find(sv, name);
	return i == (size_t)-1 ? NULL : sv->v[i] + strlen(name) + 1;
}

int strvec_contains(const struct strvec *sv, const char *s)
{
	for (size_t i = 0; i < sv->n; i++)
		if (!strcmp(sv->v[i], s))
			return 1;
	return 0;
}

void strvec_clear(struct strvec *sv)
{
	if (sv->v != strvec_empty) {
		for (size_t i = 0; i < sv->n; i++)
			free(sv->v[i]);
		free(sv->v);
	}
	strvec_init(sv);
}
