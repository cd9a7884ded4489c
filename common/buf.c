/* buf.c - the growable buffer used for every string built at run time.
 * It must not print or exit; allocation failure aborts in xrealloc. */
#include "common/buf.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/alloc.h"
#include "common/banned.h"

char buf_empty[1];

void buf_init(struct buf *b, size_t max)
{
	b->ptr = buf_empty;
	b->len = 0;
	b->alloc = 0;
	b->max = max;
}

void buf_release(struct buf *b)
{
	if (b->alloc)
		free(b->ptr);
	buf_init(b, b->max);
}

char *buf_detach(struct buf *b, size_t *len_out)
{
	char *p;
	if (len_out)
		*len_out = b->len;
	if (!b->alloc)
		p = xstrdup("");
	else
		p = b->ptr;
	buf_init(b, b->max);
	return p;
}

void buf_reset(struct buf *b)
{
	buf_setlen(b, 0);
}

void buf_setlen(struct buf *b, size_t len)
{
	if (!b->alloc)
		return;
	if (len > b->len)
		len = b->len;
	b->len = len;
	b->ptr[len] = '\0';
}

int buf_grow(struct buf *b, size_t extra)
{
	size_t need;
	if (b->max && (extra > b->max || b->len > b->max - extra))
		return -1;
	if (extra > (size_t)-1 - b->len - 1)
		return -1;
	need = b->len + extra + 1;
	if (need <= b->alloc)
		return 0;
	{
		size_t n = b->alloc ? b->alloc : 64;
		while (n < need)
			n = n * 2 > n ? n * 2 : need;
		if (!b->alloc) {
			b->ptr = xmalloc(n);
			b->ptr[0] = '\0';
		} else {
			b->ptr = xrealloc(b->ptr, n);
		}
		b->alloc = n;
	}
	return 0;
}

int buf_add(struct buf *b, const void *data, size_t len)
{
	if (buf_grow(b, len) < 0)
		return -1;
	if (len)
		memcpy(b->ptr + b->len, data, len);
	b->len += len;
	b->ptr[b->len] = '\0';
	return 0;
}

int buf_addstr(struct buf *b, const char *s)
{
	return buf_add(b, s, strlen(s));
}

int buf_addch(struct buf *b, char c)
{
	return buf_add(b, &c, 1);
}

int buf_vaddf(struct buf *b, const char *fmt, va_list ap)
{
	va_list cp;
	int n;
	va_copy(cp, ap);
	n = vsnprintf(NULL, 0, fmt, cp);
	va_end(cp);
	if (n < 0)
		return -1;
	if (buf_grow(b, (size_t)n) < 0)
		return -1;
	vsnprintf(b->ptr + b->len, (size_t)n + 1, fmt, ap);
	b->len += (size_t)n;
	return 0;
}

int buf_addf(struct buf *b, const char *fmt, ...)
{
	va_list ap;
	int r;
	va_start(ap, fmt);
	r = buf_vaddf(b, fmt, ap);
	va_end(ap);
	return r;
}

int buf_insert(struct buf *b, size_t pos, const void *data, size_t len)
{
	if (pos > b->len)
		pos = b->len;
	if (buf_grow(b, len) < 0)
		return -1;
	memmove(b->ptr + pos + len, b->ptr + pos, b->len - pos + 1);
	memcpy(b->ptr + pos, data, len);
	b->len += len;
	return 0;
}

int buf_add_shquote(struct buf *b, const char *s)
{
	if (buf_addch(b, '\'') < 0)
		return -1;
	for (; *s; s++) {
		if (*s == '\'') {
			if (buf_addstr(b, "'\\''") < 0)
				return -1;
		} else if (buf_addch(b, *s) < 0) {
			return -1;
		}
	}
	return buf_addch(b, '\'');
}

void buf_rtrim(struct buf *b)
{
	while (b->len && (b->ptr[b->len - 1] == ' ' || b->ptr[b->len - 1] == '\n' || b->ptr[b->len - 1] == '\t' ||
			  b->ptr[b->len - 1] == '\r'))
		b->len--;
	if (b->alloc)
		b->ptr[b->len] = '\0';
}

int buf_read_fd(struct buf *b, int fd)
{
	char tmp[65536];
	for (;;) {
		ssize_t n = read(fd, tmp, sizeof(tmp));
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (n == 0)
			return 0;
		if (buf_add(b, tmp, (size_t)n) < 0) {
			errno = EFBIG;
			return -1;
		}
	}
}

int buf_read_file(struct buf *b, const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	int r, saved;
	if (fd < 0)
		return -1;
	r = buf_read_fd(b, fd);
	saved = errno;
	close(fd);
	errno = saved;
	return r;
}
