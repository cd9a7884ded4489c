/* http.c - the one HTTP client with libcurl and its one-time global init (see http.h).
 * Must not print, retry or call curl_global_cleanup: callers decide what a failure means. */
#include "common/http.h"

#include <curl/curl.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "common/banned.h"

#define HTTP_DEFAULT_TIMEOUT_MS 10000

static pthread_once_t global_once = PTHREAD_ONCE_INIT;
static CURLcode global_rc = CURLE_FAILED_INIT;

static void global_init_once(void)
{
	global_rc = curl_global_init(CURL_GLOBAL_DEFAULT);
}

int http_global_init(struct err *e)
{
	pthread_once(&global_once, global_init_once);
	if (global_rc != CURLE_OK) {
		if (e)
			err_set(e, MLCI_EINFRA, "could not initialise libcurl: %s", curl_easy_strerror(global_rc));
		return -1;
	}
	return 0;
}

void http_resp_init(struct http_resp *r)
{
	memset(r, 0, sizeof(*r));
	buf_init(&r->body, HTTP_MAX_BODY);
	buf_init(&r->ctype, 1024);
}

void http_resp_release(struct http_resp *r)
{
	buf_release(&r->body);
	buf_release(&r->ctype);
}

/* What the callbacks see. */
struct xfer {
	struct http_resp *r;
	int discard_body;
};

static size_t on_body(char *ptr, size_t size, size_t n, void *payload)
{
	struct xfer *x = payload;
	if (!x->discard_body && buf_add(&x->r->body, ptr, size * n) < 0)
		return 0; /* too large: curl stops with CURLE_WRITE_ERROR */
	return size * n;
}

static size_t on_header(char *ptr, size_t size, size_t n, void *payload)
{
	struct xfer *x = payload;
	size_t len = size * n;
	if (len > 13 && !strncasecmp(ptr, "content-type:", 13)) {
		const char *v = ptr + 13;
		size_t vl = len - 13;
		while (vl && (*v == ' ' || *v == '\t'))
			v++, vl--;
		while (vl && (v[vl - 1] == '\r' || v[vl - 1] == '\n' || v[vl - 1] == ' '))
			vl--;
		buf_reset(&x->r->ctype);
		buf_add(&x->r->ctype, v, vl);
	}
	return len;
}

/* r->error for a request that got no answer. */
static void describe_failure(CURL *c, const struct http_req *q, CURLcode rc, struct http_resp *r)
{
	int64_t total = q->timeout_ms > 0 ? q->timeout_ms : HTTP_DEFAULT_TIMEOUT_MS;
	curl_off_t connected_us = 0;
	r->lib_error = curl_easy_strerror(rc);
	if (rc == CURLE_WRITE_ERROR) {
		snprintf(r->error, sizeof(r->error), "response body larger than %zu bytes", r->body.max);
	} else if (r->timed_out) {
		curl_easy_getinfo(c, CURLINFO_CONNECT_TIME_T, &connected_us);
		if (q->connect_timeout_ms > 0 && q->connect_timeout_ms < total && connected_us == 0)
			snprintf(r->error, sizeof(r->error), "could not connect within %lld ms",
				 (long long)q->connect_timeout_ms);
		else
			snprintf(r->error, sizeof(r->error), "timed out after %lld ms", (long long)total);
	} else {
		snprintf(r->error, sizeof(r->error), "%s", r->lib_error);
	}
}

int http_do(const struct http_req *q, struct http_resp *r)
{
	struct curl_slist *hl = NULL;
	const char *method = q->method ? q->method : q->body ? "POST" : "GET";
	struct xfer x = { r, q->discard_body };
	CURLcode rc;
	CURL *c;
	curl_off_t t_us = 0;
	int ret = 0;

	buf_reset(&r->body);
	buf_reset(&r->ctype);
	r->status = 0;
	r->timed_out = 0;
	r->error[0] = '\0';
	r->lib_error = NULL;
	r->latency_ms = 0;
	if (http_global_init(NULL) < 0 || !(c = curl_easy_init())) {
		snprintf(r->error, sizeof(r->error), "could not initialise libcurl");
		r->lib_error = r->error;
		return -1;
	}
	for (const char *const *h = q->headers; h && *h; h++)
		hl = curl_slist_append(hl, *h);
	if (q->body)
		hl = curl_slist_append(hl, "Expect:"); /* no 100-continue round trip */
	curl_easy_setopt(c, CURLOPT_URL, q->url);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	if (!q->env_proxy)
		curl_easy_setopt(c, CURLOPT_PROXY, "");
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)(q->timeout_ms > 0 ? q->timeout_ms : HTTP_DEFAULT_TIMEOUT_MS));
	if (q->connect_timeout_ms > 0)
		curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, (long)q->connect_timeout_ms);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &x);
	curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(c, CURLOPT_HEADERDATA, &x);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
	if (!strcmp(method, "HEAD"))
		curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
	else if (strcmp(method, "GET") || q->body)
		curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
	if (q->body) {
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, q->body);
		curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)q->body_len);
	}
	if (hl)
		curl_easy_setopt(c, CURLOPT_HTTPHEADER, hl);
	rc = curl_easy_perform(c);
	curl_easy_getinfo(c, CURLINFO_TOTAL_TIME_T, &t_us);
	r->latency_ms = (double)t_us / 1000.0;
	if (rc == CURLE_OK) {
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r->status);
	} else {
		r->status = 0;
		r->timed_out = rc == CURLE_OPERATION_TIMEDOUT;
		describe_failure(c, q, rc, r);
		ret = -1;
	}
	curl_slist_free_all(hl);
	curl_easy_cleanup(c);
	return ret;
}
