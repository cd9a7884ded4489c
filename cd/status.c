/* status.c - environments' current state and history from the state repo, pending promotions from the
 * store, as JSON. It must not create a state repo or a store just to report that there is none. */
#include "cd/status.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cd/state.h"
#include "common/fs.h"
#include "common/path.h"
#include "registry/store.h"
#include "registry/store_gates.h"
#include "registry/store_promotions.h"
#include "common/banned.h"

static int add_pending(void *payload, const struct store_promotion *p)
{
	cJSON *arr = payload, *o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "environment", p->environment);
	cJSON_AddStringToObject(o, "pipeline", p->pipeline);
	if (p->model) {
		cJSON_AddStringToObject(o, "model", p->model);
		cJSON_AddNumberToObject(o, "version", (double)p->version);
	}
	cJSON_AddStringToObject(o, "run", p->run);
	cJSON_AddStringToObject(o, "commit", p->commit_id);
	if (p->branch)
		cJSON_AddStringToObject(o, "branch", p->branch);
	if (p->waiting_for)
		cJSON_AddStringToObject(o, "waiting_for", p->waiting_for);
	cJSON_AddNumberToObject(o, "since_ms", (double)p->created_ms);
	cJSON_AddItemToArray(arr, o);
	return 0;
}

static int add_pin(void *payload, const struct store_pin *p)
{
	cJSON *arr = payload, *o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "environment", p->environment);
	cJSON_AddStringToObject(o, "pipeline", p->pipeline);
	if (p->model) {
		cJSON_AddStringToObject(o, "model", p->model);
		cJSON_AddNumberToObject(o, "version", (double)p->version);
	}
	cJSON_AddStringToObject(o, "by", p->actor);
	if (p->reason)
		cJSON_AddStringToObject(o, "reason", p->reason);
	if (p->state_commit[0])
		cJSON_AddStringToObject(o, "state_commit", p->state_commit);
	cJSON_AddNumberToObject(o, "since_ms", (double)p->time_ms);
	cJSON_AddItemToArray(arr, o);
	return 0;
}

struct at_find {
	long long at;
	char commit[41];
	cJSON *state;
	int found;
};

/* state_log goes newest first: the first commit not after "at" is the state then. */
static int find_at(void *payload, const char *commit, long long time, const cJSON *state)
{
	struct at_find *f = payload;
	if (time > f->at)
		return 0;
	f->found = 1;
	snprintf(f->commit, sizeof(f->commit), "%s", commit);
	f->state = state ? cJSON_Duplicate(state, 1) : NULL;
	return 1;
}

int status_collect(const char *home, long long at, cJSON **out, struct err *e)
{
	cJSON *o = cJSON_CreateObject();
	cJSON *envs = cJSON_AddArrayToObject(o, "environments");
	cJSON *pending = cJSON_AddArrayToObject(o, "pending");
	cJSON *pins = cJSON_AddArrayToObject(o, "pins");
	char *state_path = path_join(home, "state.git"), *db = path_join(home, "mlci.db");
	int ret = -1;

	if (fs_is_dir(state_path)) {
		struct state_repo sr;
		struct strvec names = STRVEC_INIT;
		char tip[41];
		if (state_open(&sr, home, e) < 0)
			goto done;
		if (state_list(&sr, &names, e) < 0) {
			state_close(&sr);
			goto done;
		}
		if (at > 0)
			cJSON_AddNumberToObject(o, "at", (double)at);
		for (size_t i = 0; i < names.n; i++) {
			cJSON *st = NULL, *item;
			if (at > 0) {
				struct at_find f;
				memset(&f, 0, sizeof(f));
				f.at = at;
				if (state_log(&sr, names.v[i], find_at, &f, e) < 0) {
					strvec_clear(&names);
					state_close(&sr);
					goto done;
				}
				if (!f.found)
					continue;
				item = cJSON_CreateObject();
				cJSON_AddStringToObject(item, "environment", names.v[i]);
				cJSON_AddItemToObject(item, "state", f.state ? f.state : cJSON_CreateNull());
				cJSON_AddStringToObject(item, "state_commit", f.commit);
				cJSON_AddItemToArray(envs, item);
				continue;
			}
			if (state_read(&sr, names.v[i], &st, tip, e) < 0) {
				strvec_clear(&names);
				state_close(&sr);
				goto done;
			}
			item = cJSON_CreateObject();
			cJSON_AddStringToObject(item, "environment", names.v[i]);
			cJSON_AddItemToObject(item, "state", st ? st : cJSON_CreateNull());
			cJSON_AddStringToObject(item, "state_commit", tip);
			cJSON_AddItemToArray(envs, item);
		}
		strvec_clear(&names);
		state_close(&sr);
	}
	if (fs_is_file(db)) {
		struct store st;
		if (store_open(&st, home, e) < 0)
			goto done;
		if (store_promotions_each(&st, NULL, "pending", add_pending, pending, e) < 0 ||
		    store_pins_each(&st, add_pin, pins, e) < 0) {
			store_close(&st);
			goto done;
		}
		store_close(&st);
	}
	*out = o;
	o = NULL;
	ret = 0;
done:
	cJSON_Delete(o);
	free(state_path);
	free(db);
	return ret;
}

static int add_entry(void *payload, const char *commit, long long time, const cJSON *state)
{
	cJSON *arr = payload, *o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "state_commit", commit);
	cJSON_AddNumberToObject(o, "time", (double)time);
	cJSON_AddItemToObject(o, "state", state ? cJSON_Duplicate(state, 1) : cJSON_CreateNull());
	cJSON_AddItemToArray(arr, o);
	return 0;
}

int status_history(const char *home, const char *env, cJSON **out, struct err *e)
{
	cJSON *arr = cJSON_CreateArray();
	char *state_path = path_join(home, "state.git");
	int ret = 0;
	if (fs_is_dir(state_path)) {
		struct state_repo sr;
		ret = state_open(&sr, home, e);
		if (!ret)
			ret = state_log(&sr, env, add_entry, arr, e);
		state_close(&sr);
	}
	free(state_path);
	if (ret < 0) {
		cJSON_Delete(arr);
		return -1;
	}
	*out = arr;
	return 0;
}
