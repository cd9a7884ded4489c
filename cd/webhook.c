/* webhook.c - the `webhook` deploy hook: HTTP POST of the state JSON with libcurl, signed with
 * HMAC-SHA256 (OpenSSL) when a secret is configured, retried with backoff. It must not print. */
#include "cd/deploy.h"

#include <cjson/cJSON.h>
#include <curl/curl.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/buf.h"
#include "common/banned.h"

#define WEBHOOK_ATTEMPTS  3
#define WEBHOOK_TIMEOUT_S 30L

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

static size_t discard(char *ptr, size_t size, size_t nmemb, void *userdata)
{
	(void)ptr;
	(void)userdata;
	return size * nmemb;
}

int deploy_webhook(const struct deploy_ctx *d, const char *url, struct err *e)
{
	const char *env = d->env;
	char *body = cJSON_PrintUnformatted(d->json);
	const char *secret = getenv("MLCI_DEPLOY_WEBHOOK_SECRET");
	struct buf sig = BUF_INIT, envh = BUF_INIT;
	struct curl_slist *headers = NULL;
	CURL *c = NULL;
	int ret = -1;

	if (!body)
		return err_set(e, MLCI_EINFRA, "webhook: could not serialise the state of '%s'", env);
	curl_global_init(CURL_GLOBAL_DEFAULT);
	c = curl_easy_init();
	if (!c) {
		err_set(e, MLCI_EINFRA, "webhook: could not initialise libcurl");
		goto done;
	}
	headers = curl_slist_append(headers, "Content-Type: application/json");
	headers = curl_slist_append(headers, "X-Mlci-Event: promote");
	buf_addf(&envh, "X-Mlci-Environment: %s", env);
	headers = curl_slist_append(headers, envh.ptr);
	if (secret && *secret) {
		sign(secret, body, strlen(body), &sig);
		headers = curl_slist_append(headers, sig.ptr);
	}
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
	curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)strlen(body));
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, WEBHOOK_TIMEOUT_S);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, 10L);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, discard);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https"); /* TLS is verified: libcurl's default */
	for (int attempt = 1; attempt <= WEBHOOK_ATTEMPTS; attempt++) {
		long status = 0;
		CURLcode rc = curl_easy_perform(c);
		if (rc == CURLE_OK)
			curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
		if (rc == CURLE_OK && status >= 200 && status < 300) {
			ret = 0;
			break;
		}
		if (rc != CURLE_OK)
			err_set(e, MLCI_EFAILED, "webhook %s: %s (attempt %d of %d)", url, curl_easy_strerror(rc),
				attempt, WEBHOOK_ATTEMPTS);
		else
			err_set(e, MLCI_EFAILED, "webhook %s answered HTTP %ld (attempt %d of %d)", url, status,
				attempt, WEBHOOK_ATTEMPTS);
		/* a 4xx is the receiver refusing this state: retrying will not change its mind */
		if (rc == CURLE_OK && status >= 400 && status < 500)
			break;
		if (attempt < WEBHOOK_ATTEMPTS) {
			struct timespec ts = { attempt, 0 }; /* backoff 1 s, then 2 s */
			nanosleep(&ts, NULL);
		}
	}
done:
	curl_slist_free_all(headers);
	curl_easy_cleanup(c);
	curl_global_cleanup();
	buf_release(&sig);
	buf_release(&envh);
	free(body);
	return ret;
}
