/* http.c - one HTTP request with libcurl for the service checks (see http.h).
 * Must not print or retry: callers decide what a failure means. */
#include "checks/http.h"

#include <curl/curl.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "common/banned.h"

void check_http_resp_init(struct check_http_resp *r)
{
	memset(r, 0, sizeof(*r));
	buf_init(&r->body, CHECK_HTTP_MAX_BODY);
	buf_init(&r->ctype, 1024);
}

void check_http_resp_release(struct check_http_resp *r)
{
	buf_release(&r->body);
	buf_release(&r->ctype);
}

static size_t on_body(char *ptr, size_t size, size_t n, void *payload)
{
	struct check_http_resp *r = payload;
	if (buf_add(&r->body, ptr, size * n) < 0)
		return 0; /* too large: curl stops with CURLE_WRITE_ERROR */
	return size * n;
}

static size_t on_header(char *ptr, size_t size, size_t n, void *payload)
{
	struct check_http_resp *r = payload;
	size_t len = size * n;
	if (len > 13 && !strncasecmp(ptr, "content-type:", 13)) {
		const char *v = ptr + 13;
		size_t vl = len - 13;
		while (vl && (*v == ' ' || *v == '\t'))
			v++, vl--;
		while (vl && (v[vl - 1] == '\r' || v[vl - 1] == '\n' || v[vl - 1] == ' '))
			vl--;
		buf_reset(&r->ctype);
		buf_add(&r->ctype, v, vl);
	}
	return len;
}

int check_http_do(const struct check_http_req *q, struct check_http_resp *r)
{
	struct curl_slist *hl = NULL;
	const char *method = q->method ? q->method : q->body ? "POST" : "GET";
	CURLcode rc;
	CURL *c;
	curl_off_t t_us = 0;
	int ret = 0;

	buf_reset(&r->body);
	buf_reset(&r->ctype);
	r->status = 0;
	r->timed_out = 0;
	r->error[0] = '\0';
	r->latency_ms = 0;
	curl_global_init(CURL_GLOBAL_DEFAULT);
	c = curl_easy_init();
	if (!c) {
		snprintf(r->error, sizeof(r->error), "could not initialise libcurl");
		return -1;
	}
	for (const char *const *h = q->headers; h && *h; h++)
		hl = curl_slist_append(hl, *h);
	if (q->body)
		hl = curl_slist_append(hl, "Expect:"); /* no 100-continue round trip */
	curl_easy_setopt(c, CURLOPT_URL, q->url);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_PROXY, "");
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)(q->timeout_ms > 0 ? q->timeout_ms : 10000));
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, r);
	curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(c, CURLOPT_HEADERDATA, r);
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
		if (rc == CURLE_WRITE_ERROR)
			snprintf(r->error, sizeof(r->error), "response body larger than %zu bytes",
				 CHECK_HTTP_MAX_BODY);
		else if (r->timed_out)
			snprintf(r->error, sizeof(r->error), "timed out after %lld ms",
				 (long long)(q->timeout_ms > 0 ? q->timeout_ms : 10000));
		else
			snprintf(r->error, sizeof(r->error), "%s", curl_easy_strerror(rc));
		ret = -1;
	}
	curl_slist_free_all(hl);
	curl_easy_cleanup(c);
	return ret;
}
