/* error.c - message-chain errors (see error.h).
 * Must not print or exit: the caller in cmd/ decides what the user sees. */
#include "common/error.h"

#include <errno.h>
#include <stdarg.h>
#include <string.h>

#include "common/banned.h"

/* The new message is built aside and then replaces the old one, so an argument may be the old
 * message itself (err_set(e, c, "while x: %s", err_msg(e))). */
static void replace_msg(struct err *e, struct buf *msg)
{
	buf_release(&e->msg);
	e->msg = *msg;
}

int err_set(struct err *e, int code, const char *fmt, ...)
{
	struct buf msg = BUF_INIT;
	va_list ap;
	if (!e)
		return -1;
	va_start(ap, fmt);
	buf_vaddf(&msg, fmt, ap);
	va_end(ap);
	replace_msg(e, &msg);
	e->code = code;
	return -1;
}

int err_errno(struct err *e, int code, const char *fmt, ...)
{
	int saved = errno;
	struct buf msg = BUF_INIT;
	va_list ap;
	if (!e)
		return -1;
	va_start(ap, fmt);
	buf_vaddf(&msg, fmt, ap);
	va_end(ap);
	buf_addf(&msg, ": %s", strerror(saved));
	replace_msg(e, &msg);
	e->code = code;
	errno = saved;
	return -1;
}

int err_prefix(struct err *e, const char *fmt, ...)
{
	struct buf pre = BUF_INIT;
	va_list ap;
	if (!e)
		return -1;
	va_start(ap, fmt);
	buf_vaddf(&pre, fmt, ap);
	va_end(ap);
	buf_addstr(&pre, ": ");
	buf_insert(&e->msg, 0, pre.ptr, pre.len);
	buf_release(&pre);
	if (e->code == MLCI_OK)
		e->code = MLCI_EINFRA;
	return -1;
}

void err_clear(struct err *e)
{
	e->code = MLCI_OK;
	buf_reset(&e->msg);
}

void err_release(struct err *e)
{
	e->code = MLCI_OK;
	buf_release(&e->msg);
}

const char *err_msg(const struct err *e)
{
	return e->msg.ptr;
}
