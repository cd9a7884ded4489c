/* session.c - opens the store, the policy and the state repo of a command once each, on first use
 * (cd/session.h). It must not decide promotions or print (a lenient read of an unreachable remote
 * logs a warning). */
#include "cd/session.h"

#include <stdlib.h>
#include <string.h>

#include "common/alloc.h"
#include "common/log.h"
#include "common/banned.h"

void cd_session_init(struct cd_session *s, const char *home, struct store *store, const char *repo)
{
	memset(s, 0, sizeof(*s));
	s->home = xstrdup(home);
	s->repo = repo ? xstrdup(repo) : NULL;
	s->store = store;
}

void cd_session_release(struct cd_session *s)
{
	if (s->sr_open)
		state_close(&s->sr);
	policy_release(&s->file);
	policy_release(&s->main);
	if (s->own_store && s->store) {
		store_close(s->store);
		free(s->store);
	}
	free(s->home);
	free(s->repo);
	memset(s, 0, sizeof(*s));
}

void cd_session_set_repo(struct cd_session *s, const char *repo, int fetch_repo)
{
	if (!s->repo || strcmp(s->repo, repo ? repo : "")) {
		free(s->repo);
		s->repo = repo ? xstrdup(repo) : NULL;
		if (s->main_loaded)
			policy_release(&s->main);
		s->main_loaded = 0;
	}
	s->fetch_repo = fetch_repo;
}

int cd_session_store(struct cd_session *s, struct store **out, struct err *e)
{
	if (!s->store) {
		struct store *st = xcalloc(1, sizeof(*st));
		if (store_open(st, s->home, e) < 0) {
			free(st);
			return -1;
		}
		s->store = st;
		s->own_store = 1;
	}
	*out = s->store;
	return 0;
}

static int load_file(struct cd_session *s, struct err *e)
{
	if (s->file_loaded)
		return 0;
	if (policy_load_file(&s->file, s->home, e) < 0)
		return -1;
	s->file_loaded = 1;
	return 0;
}

int cd_session_policy(struct cd_session *s, const struct policy **out, struct err *e)
{
	if (load_file(s, e) < 0)
		return -1;
	if (s->file.spec) {
		*out = &s->file;
		return 0;
	}
	if (!s->main_loaded) {
		if (policy_load_main(&s->main, s->home, s->repo, s->fetch_repo, e) < 0)
			return -1;
		s->main_loaded = 1;
	}
	*out = &s->main;
	return 0;
}

int cd_session_state_url(struct cd_session *s, const char **url_out, struct err *e)
{
	const char *env = getenv("MLCI_STATE_URL");
	*url_out = NULL;
	if (env && *env) {
		*url_out = env;
		return 0;
	}
	if (load_file(s, e) < 0)
		return -1;
	if (s->file.spec && s->file.spec->state_url)
		*url_out = s->file.spec->state_url;
	return 0;
}

int cd_session_has_state(struct cd_session *s, struct err *e)
{
	const char *url;
	if (s->sr_open)
		return 1;
	if (cd_session_state_url(s, &url, e) < 0)
		return -1;
	return state_exists(s->home, url);
}

int cd_session_state(struct cd_session *s, int lenient, struct state_repo **out, struct err *e)
{
	const char *url;
	if (!s->sr_open) {
		if (cd_session_state_url(s, &url, e) < 0)
			return -1;
		if (state_open(&s->sr, s->home, url, e) < 0) {
			state_close(&s->sr);
			return -1;
		}
		s->sr_open = 1;
		if (state_sync(&s->sr, e) < 0) {
			s->sr_open = -1; /* kept open: a later lenient read may still use the last copy */
			if (!lenient)
				return -1;
			log_warn("%s (showing the last fetched state)", err_msg(e));
			err_clear(e);
		}
	} else if (s->sr_open < 0 && !lenient) {
		/* an earlier lenient read could not fetch: a write must, so try once more */
		if (state_sync(&s->sr, e) < 0)
			return -1;
		s->sr_open = 1;
	}
	*out = &s->sr;
	return 0;
}
