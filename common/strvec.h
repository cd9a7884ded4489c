/* strvec.h - a NULL-terminated, growable array of owned strings (argv/envp style).
 * "v" is never NULL; entries are owned by the strvec and freed by strvec_clear. */
#ifndef MLCI_STRVEC_H
#define MLCI_STRVEC_H

#include <stddef.h>

struct strvec {
	char **v;
	size_t n;
	size_t alloc;
};

extern char *strvec_empty[];
#define STRVEC_INIT                                                                                                    \
	{                                                                                                              \
		strvec_empty, 0, 0                                                                                     \
	}

void strvec_init(struct strvec *sv);
void strvec_push(struct strvec *sv, const char *s);
void strvec_pushf(struct strvec *sv, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Take ownership of "s" (malloc'd). */
void strvec_push_owned(struct strvec *sv, char *s);
/* For "NAME=value" entries: replace an existing NAME= entry or append. */
void strvec_setenv(struct strvec *sv, const char *name, const char *value);
/* Value of NAME in a NAME=value vector, or NULL. */
const char *strvec_getenv(const struct strvec *sv, const char *name);
int strvec_contains(const struct strvec *sv, const char *s);
void strvec_clear(struct strvec *sv);

#endif
