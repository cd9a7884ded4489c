/* contract_run.c - sending a contract case to a running service (checks/contract.h): one HTTP request with
 * the case's method, path, headers and body, then contract_check_response. No answer is a problem of the
 * result, never an error; nothing is printed. */
#include "checks/contract.h"

#include <string.h>

#include "common/http.h"
#include "common/buf.h"
#include "common/banned.h"

void contract_run_case(const char *base_url, const struct contract_case *c, int64_t timeout_ms,
		       struct contract_result *r)
{
	struct http_req q;
	struct http_resp resp;
	struct buf url = BUF_INIT;
	size_t bl = strlen(base_url);
	while (bl && base_url[bl - 1] == '/')
		bl--;
	buf_add(&url, base_url, bl);
	buf_addstr(&url, c->path ? c->path : "/");
	memset(&q, 0, sizeof(q));
	q.method = c->method;
	q.url = url.ptr;
	q.headers = (const char *const *)c->headers.v;
	q.body = c->body;
	q.body_len = c->body_len;
	q.timeout_ms = c->timeout_ms ? c->timeout_ms : timeout_ms;
	http_resp_init(&resp);
	if (http_do(&q, &resp) < 0) {
		r->status = 0;
		r->latency_ms = resp.latency_ms;
		strvec_pushf(&r->problems, "no answer: %s", resp.error);
		r->passed = 0;
	} else {
		contract_check_response(c, resp.status, resp.latency_ms, resp.body.ptr, resp.body.len, r);
	}
	http_resp_release(&resp);
	buf_release(&url);
}
