/* http.h - the one HTTP client (libcurl): one request (method, URL, headers, body, timeouts) in; status,
 * bounded body, Content-Type and latency out. Also the one libcurl global init. No printing, no retries. */
#ifndef MLCI_HTTP_H
#define MLCI_HTTP_H

#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"
#include "common/error.h"

/* Largest response body kept (body.max after http_resp_init; a caller may lower it); a longer one is an
 * error ("response body larger than N bytes"). */
#define HTTP_MAX_BODY ((size_t)64 << 20)

struct http_req {
	const char *method;         /* NULL: GET, or POST when "body" is set */
	const char *url;            /* required; http:// or https:// (TLS verified: libcurl's default) */
	const char *const *headers; /* "Name: value", NULL-terminated; may be NULL */
	const char *body;           /* NULL = none */
	size_t body_len;
	int64_t timeout_ms;         /* whole request, connect included; 0 = 10 s */
	int64_t connect_timeout_ms; /* the connection alone; 0 = only "timeout_ms" bounds it */
	int discard_body;           /* read the answer's body but keep none of it (and no size limit) */
	int env_proxy;              /* 1: honour http_proxy/https_proxy/no_proxy; 0: always connect directly */
};

struct http_resp {
	long status;           /* HTTP status; 0 when no answer came */
	struct buf body;       /* response body, at most body.max bytes (HTTP_MAX_BODY); owned */
	struct buf ctype;      /* Content-Type header value, "" when absent; owned */
	double latency_ms;     /* from the start of the request to the last byte */
	int timed_out;         /* no complete answer within the timeout */
	char error[256];       /* transport error when status == 0 ("timed out after 500 ms"), else "" */
	const char *lib_error; /* libcurl's own text for it ("Timeout was reached"), NULL when an answer came */
};

/* curl_global_init, once per process however many threads call it (pthread_once); every libcurl user
 * calls this first. Nothing calls curl_global_cleanup: the process exit does. -1 with "e" set (MLCI_EINFRA)
 * when libcurl could not initialise; "e" may be NULL. */
int http_global_init(struct err *e);

void http_resp_init(struct http_resp *r);
void http_resp_release(struct http_resp *r);

/* Send "q" and fill "r" (initialised by the caller; reusable). Returns 0 when an HTTP answer came (any
 * status), -1 when none did (refused, reset, timeout, bad URL, body too large: r->error says which).
 * Thread-safe: no shared state besides the one global init. */
int http_do(const struct http_req *q, struct http_resp *r);

#endif
