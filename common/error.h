/* error.h - the one error type: a class (which maps to the CLI exit code) and a message chain.
 * Set once where the error happens (err_set), add context on the way up (err_prefix); never print. */
#ifndef MLCI_ERROR_H
#define MLCI_ERROR_H

#include "common/buf.h"

/* Error classes; numbers are the CLI exit codes and are never reused. */
enum mlci_status {
	MLCI_OK = 0,
	MLCI_EFAILED = 1, /* a pipeline step or check failed */
	MLCI_EUSAGE = 2,  /* bad usage or bad spec */
	MLCI_EINFRA = 3,  /* infrastructure: I/O, git, process spawning, store */
};

struct err {
	int code;       /* enum mlci_status; MLCI_OK while unset */
	struct buf msg; /* "outer: inner: innermost" */
};

#define ERR_INIT                                                                                                       \
	{                                                                                                              \
		MLCI_OK, BUF_INIT                                                                                      \
	}

/* Set the error (replacing any previous one) and return -1, so callers can `return err_set(...)`. */
int err_set(struct err *e, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Same, appending ": strerror(errno)" (errno is read before anything else happens). */
int err_errno(struct err *e, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Prepend "context: " to the message; returns -1. A NULL "e" is allowed and ignored. */
int err_prefix(struct err *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void err_clear(struct err *e);
void err_release(struct err *e);
/* Message, or "" when unset. */
const char *err_msg(const struct err *e);

#endif
