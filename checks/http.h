/* http.h - one HTTP request with libcurl for the service checks (protocol, contract, parity, readiness):
 * method, URL, headers, body, timeout in; status, bounded body and latency out. No printing, no retries. */
#ifndef MLCI_CHECK_HTTP_H
#define MLCI_CHECK_HTTP_H

#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"

/* Largest response body kept; a longer one is an error ("response body larger than ..."). */
#define CHECK_HTTP_MAX_BODY ((size_t)64 << 20)

struct check_http_req {
	const char *method;         /* NULL: GET, or POST when "body" is set */
	const char *url;            /* required */
	const char *const *headers; /* "Name: value", NULL-terminated; may be NULL */
	const char *body;           /* NULL = none */
	size_t body_len;
	int64_t timeout_ms; /* whole request, connect included; 0 = 10 s */
};

struct check_http_resp {
	long status;       /* HTTP status; 0 when no answer came */
	struct buf body;   /* response body (bounded by CHECK_HTTP_MAX_BODY); owned */
	struct buf ctype;  /* Content-Type header value, "" when absent; owned */
	double latency_ms; /* from the start of the request to the last byte */
	int timed_out;     /* no complete answer within the timeout */
	char error[256];   /* transport error text when status == 0, else "" */
};

void check_http_resp_init(struct check_http_resp *r);
void check_http_resp_release(struct check_http_resp *r);

/* Send "q" and fill "r" (initialised by the caller). Returns 0 when an HTTP answer came (any status),
 * -1 when none did (refused, reset, timeout, bad URL: r->error says which). Thread-compatible: no
 * shared state besides curl_global_init. */
int check_http_do(const struct check_http_req *q, struct check_http_resp *r);

#endif
