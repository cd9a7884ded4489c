/* buf.h - growable, always NUL-terminated byte buffer with strbuf semantics and an optional maximum.
 * "ptr" is never NULL; buf_detach is the one way to take ownership of the bytes. */
#ifndef MLCI_BUF_H
#define MLCI_BUF_H

#include <stdarg.h>
#include <stddef.h>

struct buf {
	char *ptr;    /* owned unless it points at buf_empty; always NUL-terminated */
	size_t len;   /* bytes used, not counting the NUL */
	size_t alloc; /* bytes allocated; 0 while ptr == buf_empty */
	size_t max;   /* 0 = unbounded; else buf_add* refuses to grow len past it */
};

extern char buf_empty[];
#define BUF_INIT                                                                                                       \
	{                                                                                                              \
		buf_empty, 0, 0, 0                                                                                     \
	}

void buf_init(struct buf *b, size_t max);
void buf_release(struct buf *b);
/* Hand the bytes to the caller (who must free() them) and reset "b". */
char *buf_detach(struct buf *b, size_t *len_out);
void buf_reset(struct buf *b);
void buf_setlen(struct buf *b, size_t len);

/* The add functions return 0, or -1 when "max" would be exceeded (nothing is added then). */
int buf_grow(struct buf *b, size_t extra);
int buf_add(struct buf *b, const void *data, size_t len);
int buf_addstr(struct buf *b, const char *s);
int buf_addch(struct buf *b, char c);
int buf_addf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int buf_vaddf(struct buf *b, const char *fmt, va_list ap) __attribute__((format(printf, 2, 0)));
int buf_insert(struct buf *b, size_t pos, const void *data, size_t len);
/* Append "s" quoted for /bin/sh (single quotes). */
int buf_add_shquote(struct buf *b, const char *s);
/* Strip trailing whitespace. */
void buf_rtrim(struct buf *b);

/* Append the whole file at "path"; -1 with errno set on I/O error, -1 with errno=EFBIG past "max". */
int buf_read_file(struct buf *b, const char *path);
/* Append everything readable from "fd" until EOF. */
int buf_read_fd(struct buf *b, int fd);

#endif
