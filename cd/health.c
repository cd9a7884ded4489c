/* health.c - the post-deploy health check of an environment: GET a URL until it answers 2xx (libcurl)
 * or run a local command, within a timeout. A failure is the caller's to roll back; it must not print. */
#include "cd/deploy.h"

#include <curl/curl.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "spec/spec.h"
#include "common/buf.h"
#include "common/clock.h"
#include "common/banned.h"

#define HEALTH_TIMEOUT_MS 30000
#define HEALTH_PAUSE_MS   250
#define HEALTH_REQUEST_S  5L

static size_t discard(char *ptr, size_t size, size_t nmemb, void *userdata)
{
	(void)ptr;
	(void)userdata;
	return size * nmemb;
}

int deploy_health_timeout_ms(int64_t *out, struct err *e)
{
	const char *t = getenv("MLCI_DEPLOY_HEALTH_TIMEOUT");
	*out = HEALTH_TIMEOUT_MS;
	if (t && *t && (spec_parse_duration(t, out) < 0 || *out <= 0))
		return err_set(e, MLCI_EUSAGE, "MLCI_DEPLOY_HEALTH_TIMEOUT: invalid duration '%s'", t);
	return 0;
}

static int health_url(const char *env, const char *url, int64_t timeout_ms, struct err *e)
{
	CURL *c;
	int64_t end = clock_mono_ms() + timeout_ms;
	int attempts = 0, ret = -1;
	long status = 0;
	CURLcode rc = CURLE_OK;

	curl_global_init(CURL_GLOBAL_DEFAULT);
	c = curl_easy_init();
	if (!c) {
		curl_global_cleanup();
		return err_set(e, MLCI_EINFRA, "health: could not initialise libcurl");
	}
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_HTTPGET, 1L);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, HEALTH_REQUEST_S);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, HEALTH_REQUEST_S);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, discard);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https"); /* TLS verified: libcurl's default */
	for (;;) {
		attempts++;
		status = 0;
		rc = curl_easy_perform(c);
		if (rc == CURLE_OK)
			curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
		if (rc == CURLE_OK && status >= 200 && status < 300) {
			ret = 0;
			break;
		}
		if (clock_mono_ms() + HEALTH_PAUSE_MS > end)
			break;
		struct timespec ts = { 0, HEALTH_PAUSE_MS * 1000000L };
		nanosleep(&ts, NULL);
	}
	if (ret < 0) {
		if (rc != CURLE_OK)
			err_set(e, MLCI_EFAILED, "health check of %s failed: %s: %s (%d attempts in %llds)", env, url,
				curl_easy_strerror(rc), attempts, (long long)(timeout_ms / 1000));
		else
			err_set(e, MLCI_EFAILED,
				"health check of %s failed: %s answered HTTP %ld (%d attempts in %llds)", env, url,
				status, attempts, (long long)(timeout_ms / 1000));
	}
	curl_easy_cleanup(c);
	curl_global_cleanup();
	return ret;
}

int deploy_health(const struct run *r, const char *env, const char *health, const cJSON *state, struct err *e)
{
	int64_t timeout;
	if (deploy_health_timeout_ms(&timeout, e) < 0)
		return -1;
	if (!strncmp(health, "http://", 7) || !strncmp(health, "https://", 8))
		return health_url(env, health, timeout, e);
	/* a command: run like the deploy command; exit 0 is healthy */
	if (deploy_command(r, env, health, state, e) < 0) {
		err_prefix(e, "health check of %s", env);
		return -1;
	}
	return 0;
}
