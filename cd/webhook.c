/* webhook.c - the `webhook` deploy hook: HTTP POST of the state JSON (common/http.c), signed with
 * HMAC-SHA256 (OpenSSL) when a secret is configured, retried with backoff. It must not print. */
#include "cd/deploy.h"

#include <cjson/cJSON.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/buf.h"
#include "common/http.h"
#include "common/banned.h"

#define WEBHOOK_ATTEMPTS           3
#define WEBHOOK_TIMEOUT_MS         30000
#define WEBHOOK_CONNECT_TIMEOUT_MS 10000

/* "sha256=<hex>" of HMAC-SHA256(secret, body), the GitHub webhook convention. */
static void sign(const char *secret, const char *body, size_t len, struct buf *out)
{
	unsigned char mac[EVP_MAX_MD_SIZE];
	unsigned int n = 0;
	HMAC(EVP_sha256(), secret, (int)strlen(secret), (const unsigned char *)body, len, mac, &n);
	buf_addstr(out, "X-Mlci-Signature-256: sha256=");
	for (unsigned int i = 0; i < n; i++)
		buf_addf(out, "%02x", mac[i]);
}

int deploy_webhook(const struct deploy_ctx *d, const char *url, struct err *e)
{
	const char *env = d->env;
	char *body = cJSON_PrintUnformatted(d->json);
	const char *secret = getenv("MLCI_DEPLOY_WEBHOOK_SECRET");
	struct buf sig = BUF_INIT, envh = BUF_INIT;
	const char *headers[5];
	size_t nh = 0;
	struct http_req q;
	struct http_resp resp;
	int ret = -1;

	if (!body)
		return err_set(e, MLCI_EINFRA, "webhook: could not serialise the state of '%s'", env);
	if (http_global_init(NULL) < 0) {
		free(body);
		return err_set(e, MLCI_EINFRA, "webhook: could not initialise libcurl");
	}
	headers[nh++] = "Content-Type: application/json";
	headers[nh++] = "X-Mlci-Event: promote";
	buf_addf(&envh, "X-Mlci-Environment: %s", env);
	headers[nh++] = envh.ptr;
	if (secret && *secret) {
		sign(secret, body, strlen(body), &sig);
		headers[nh++] = sig.ptr;
	}
	headers[nh] = NULL;
	memset(&q, 0, sizeof(q));
	q.method = "POST";
	q.url = url;
	q.headers = headers;
	q.body = body;
	q.body_len = strlen(body);
	q.timeout_ms = WEBHOOK_TIMEOUT_MS;
	q.connect_timeout_ms = WEBHOOK_CONNECT_TIMEOUT_MS;
	q.discard_body = 1;
	q.env_proxy = 1; /* a receiver elsewhere may be behind the site's proxy */
	http_resp_init(&resp);
	for (int attempt = 1; attempt <= WEBHOOK_ATTEMPTS; attempt++) {
		int rc = http_do(&q, &resp);
		if (rc == 0 && resp.status >= 200 && resp.status < 300) {
			ret = 0;
			break;
		}
		if (rc < 0)
			err_set(e, MLCI_EFAILED, "webhook %s: %s (attempt %d of %d)", url, resp.lib_error, attempt,
				WEBHOOK_ATTEMPTS);
		else
			err_set(e, MLCI_EFAILED, "webhook %s answered HTTP %ld (attempt %d of %d)", url, resp.status,
				attempt, WEBHOOK_ATTEMPTS);
		/* a 4xx is the receiver refusing this state: retrying will not change its mind */
		if (rc == 0 && resp.status >= 400 && resp.status < 500)
			break;
		if (attempt < WEBHOOK_ATTEMPTS) {
			struct timespec ts = { attempt, 0 }; /* backoff 1 s, then 2 s */
			nanosleep(&ts, NULL);
		}
	}
	http_resp_release(&resp);
	buf_release(&sig);
	buf_release(&envh);
	free(body);
	return ret;
}
