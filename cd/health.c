/* health.c - the post-deploy health check of an environment: GET a URL until it answers 2xx (common/http.c)
 * or run a local command, within a timeout. A failure is the caller's to roll back; it must not print. */
#include "cd/deploy.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "spec/spec.h"
#include "common/buf.h"
#include "common/clock.h"
#include "common/http.h"
#include "common/banned.h"

#define HEALTH_TIMEOUT_MS 30000
#define HEALTH_PAUSE_MS   250
#define HEALTH_REQUEST_MS 5000

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
	struct http_req q;
	struct http_resp resp;
	int64_t end = clock_mono_ms() + timeout_ms;
	int attempts = 0, ret = -1, rc = 0;

	if (http_global_init(NULL) < 0)
		return err_set(e, MLCI_EINFRA, "health: could not initialise libcurl");
	memset(&q, 0, sizeof(q));
	q.url = url;
	q.timeout_ms = HEALTH_REQUEST_MS; /* connect included */
	q.discard_body = 1;
	q.env_proxy = 1;
	http_resp_init(&resp);
	for (;;) {
		attempts++;
		rc = http_do(&q, &resp);
		if (rc == 0 && resp.status >= 200 && resp.status < 300) {
			ret = 0;
			break;
		}
		if (clock_mono_ms() + HEALTH_PAUSE_MS > end)
			break;
		struct timespec ts = { 0, HEALTH_PAUSE_MS * 1000000L };
		nanosleep(&ts, NULL);
	}
	if (ret < 0) {
		if (rc < 0)
			err_set(e, MLCI_EFAILED, "health check of %s failed: %s: %s (%d attempts in %llds)", env, url,
				resp.lib_error, attempts, (long long)(timeout_ms / 1000));
		else
			err_set(e, MLCI_EFAILED,
				"health check of %s failed: %s answered HTTP %ld (%d attempts in %llds)", env, url,
				resp.status, attempts, (long long)(timeout_ms / 1000));
	}
	http_resp_release(&resp);
	return ret;
}

int deploy_health(const struct deploy_ctx *d, const char *health, struct err *e)
{
	int64_t timeout;
	if (deploy_health_timeout_ms(&timeout, e) < 0)
		return -1;
	if (!strncmp(health, "http://", 7) || !strncmp(health, "https://", 8))
		return health_url(d->env, health, timeout, e);
	/* a command: run like the deploy command; exit 0 is healthy */
	if (deploy_command(d, health, e) < 0) {
		err_prefix(e, "health check of %s", d->env);
		return -1;
	}
	return 0;
}
