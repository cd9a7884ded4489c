/* alloc.h - allocation wrappers that abort on out-of-memory.
 * Callers never check for NULL from these; they must not be used for sizes taken unchecked from input. */
#ifndef MLCI_ALLOC_H
#define MLCI_ALLOC_H

#include <stddef.h>

void *xmalloc(size_t n);
void *xcalloc(size_t nmemb, size_t size);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);

/* Grow array "p" (of "alloc" elements of size "elem") so it holds at least "need". */
#define ALLOC_GROW(p, need, alloc)                                                                                     \
	do {                                                                                                           \
		if ((need) > (alloc)) {                                                                                \
			size_t alloc_grow_n_ = (alloc) ? (alloc)*2 : 8;                                                \
			if (alloc_grow_n_ < (need))                                                                    \
				alloc_grow_n_ = (need);                                                                \
			(p) = xrealloc((p), alloc_grow_n_ * sizeof(*(p)));                                             \
			(alloc) = alloc_grow_n_;                                                                       \
		}                                                                                                      \
	} while (0)

#endif
