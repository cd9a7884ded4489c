/* load.h - the HTTP load generator behind `mlci load` and the service check's load test: keep-alive
 * HTTP/1.1 (or https) connections opened by libcurl, open loop at a constant rate (coordinated omission
 * corrected) or closed loop at max speed. */
#ifndef MLCI_LOAD_H
#define MLCI_LOAD_H

#include <stddef.h>
#include <stdint.h>

#include "checks/histogram.h"
#include "common/buf.h"
#include "common/error.h"

struct spec_check_service;

/* Safety net: a run never sends more than this many requests in total, whatever the rate and duration. */
#define CHECK_LOAD_MAX_REQUESTS    100000000ULL
#define CHECK_LOAD_MAX_CONNECTIONS 10000
#define CHECK_LOAD_MAX_THREADS     64

/* Why a request failed. Numbers are stable (they index check_load_result.errors). */
enum check_load_error {
	CHECK_LOAD_ERR_CONNECT = 0, /* could not connect (refused, unresolvable, TLS handshake or verification) */
	CHECK_LOAD_ERR_TIMEOUT = 1, /* no complete answer within the request timeout */
	CHECK_LOAD_ERR_4XX = 2,     /* answered 4xx */
	CHECK_LOAD_ERR_5XX = 3,     /* answered 5xx */
	CHECK_LOAD_ERR_CLOSED = 4,  /* the server closed the connection before a complete answer */
	CHECK_LOAD_ERR_OTHER = 5,   /* anything else: an answer that is not HTTP/1.x, another libcurl error */
	CHECK_LOAD_NERR = 6,
};
/* "connect", "timeout", "4xx", "5xx", "closed", "other". */
const char *check_load_error_name(int kind);

/* Snapshot passed to the progress callback about once a second (from the calling thread). */
struct check_load_progress {
	double elapsed_s;
	uint64_t requests; /* completed so far, errors included */
	uint64_t errors;
};

struct check_load_opts {
	const char *url;
	const char *method; /* NULL: GET, or POST when a body is given */
	const char *body;   /* NULL: none */
	size_t body_len;
	const char *const *headers; /* "Name: value" strings, NULL-terminated; may be NULL */
	double rate;                /* requests/s over all connections (open loop); 0 = closed loop (max) */
	int64_t duration_ms;        /* no request is started after this */
	int connections;            /* concurrent connections, spread over the threads */
	int threads;                /* each with its own event loop; 0 = 1 */
	int64_t timeout_ms;         /* per request (connect included); 0 = 10 s */
	const char *ca_file;        /* https: PEM file of CAs to trust; NULL = the system's (always verified) */
	uint64_t max_requests;      /* 0 = CHECK_LOAD_MAX_REQUESTS */
	void (*progress)(const struct check_load_progress *p, void *payload);
	void *payload;
};

struct check_load_result {
	uint64_t requests;                   /* completed (answered or failed), errors included */
	uint64_t ok;                         /* answered with a status below 400 */
	uint64_t errors[CHECK_LOAD_NERR];    /* by enum check_load_error */
	uint64_t unsent;                     /* open loop: scheduled before the end but never sent (backlog) */
	uint64_t bytes_sent, bytes_received; /* headers and bodies */
	double duration_s;                   /* from the start to the last answer */
	double target_qps;                   /* the rate asked for; 0 in a closed loop */
	double qps;                          /* requests / duration_s */
	int capped;                          /* stopped by max_requests */
	struct check_hist latency;           /* ns, requests that got a complete answer (any status) */
};

/* Run the load test described by "o" and fill "r" (which the caller releases with
 * check_load_result_release, also after an error). Latency of request i of an open loop is measured
 * from its intended send time t0 + i/rate, so time spent waiting for a busy connection counts (as in
 * wrk2). In-flight requests are awaited after the duration (bounded by the request timeout), so every
 * request sent is counted. Prints nothing. Returns 0, or -1 with "e" set (bad options: MLCI_EUSAGE;
 * libcurl or thread failures: MLCI_EINFRA). Failed requests are results, not errors. */
int check_load_run(const struct check_load_opts *o, struct check_load_result *r, struct err *e);
void check_load_result_release(struct check_load_result *r);

double check_load_error_rate(const struct check_load_result *r);
uint64_t check_load_errors(const struct check_load_result *r);

/* Pass/fail limits, as in mlci.yaml checks.service.load. */
struct check_load_thresholds {
	double p99_ms;         /* 0 = not given */
	double min_qps;        /* 0 = not given */
	double max_error_rate; /* < 0 = not given */
};
void check_load_thresholds_from_spec(const struct spec_check_service *s, struct check_load_thresholds *t);
/* Compare "r" with "t": 0 when every given limit holds, 1 when one fails. "msg" receives one line per
 * given limit ("p99 12.3 ms <= 50 ms" or "p99 80.1 ms > 50 ms"), joined by "; ". */
int check_load_evaluate(const struct check_load_result *r, const struct check_load_thresholds *t, struct buf *msg);

#endif
