/* status.c - environments' current state and history from the state repo, pending promotions from the
 * store, as JSON. It must not create a state repo or a store just to report that there is none. */
#include "cd/status.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cd/state.h"
#include "common/fs.h"
#include "common/log.h"
#include "common/path.h"
#include "registry/store.h"
#include "registry/store_gates.h"
#include "registry/store_promotions.h"
#include "common/banned.h"

/* the array rows go to, and the pipeline they must be of (NULL = any) */
struct rows {
	cJSON *arr;
	const char *pipeline;
};

static int add_pending(void *payload, const struct store_promotion *p)
{
	struct rows *rows = payload;
	cJSON *arr = rows->arr, *o;
	if (rows->pipeline && strcmp(rows->pipeline, p->pipeline))
		return 0;
	o = cJSON_CreateObject();
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
	struct rows *rows = payload;
	cJSON *arr = rows->arr, *o;
	if (rows->pipeline && strcmp(rows->pipeline, p->pipeline))
		return 0;
	o = cJSON_CreateObject();
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

/* Open the state repo and bring it up to date; an unreachable remote leaves the last fetched copy. */
static int open_synced(struct state_repo *sr, const char *home, struct err *e)
{
	if (state_open(sr, home, e) < 0)
		return -1;
	if (state_sync(sr, e) < 0) {
		log_warn("%s (showing the last fetched state)", err_msg(e));
		err_release(e);
	}
	return 0;
}

int status_collect(const char *home, const char *pipeline, long long at, cJSON **out, struct err *e)
{
	cJSON *o = cJSON_CreateObject();
	cJSON *envs = cJSON_AddArrayToObject(o, "environments");
	cJSON *pending = cJSON_AddArrayToObject(o, "pending");
	cJSON *pins = cJSON_AddArrayToObject(o, "pins");
	char *db = path_join(home, "mlci.db");
	int ret = -1;

	if (state_exists(home)) {
		struct state_repo sr;
		struct strvec names = STRVEC_INIT, pipes = STRVEC_INIT;
		char tip[41];
		if (open_synced(&sr, home, e) < 0 || state_list(&sr, &pipes, &names, e) < 0) {
			state_close(&sr);
			goto done;
		}
		if (at > 0)
			cJSON_AddNumberToObject(o, "at", (double)at);
		for (size_t i = 0; i < names.n; i++) {
			cJSON *st = NULL, *item;
			if (pipeline && strcmp(pipeline, pipes.v[i]))
				continue;
			if (at > 0) {
				struct at_find f;
				memset(&f, 0, sizeof(f));
				f.at = at;
				if (state_log(&sr, pipes.v[i], names.v[i], find_at, &f, e) < 0) {
					strvec_clear(&names);
					strvec_clear(&pipes);
					state_close(&sr);
					goto done;
				}
				if (!f.found)
					continue;
				item = cJSON_CreateObject();
				cJSON_AddStringToObject(item, "pipeline", pipes.v[i]);
				cJSON_AddStringToObject(item, "environment", names.v[i]);
				cJSON_AddItemToObject(item, "state", f.state ? f.state : cJSON_CreateNull());
				cJSON_AddStringToObject(item, "state_commit", f.commit);
				cJSON_AddItemToArray(envs, item);
				continue;
			}
			if (state_read(&sr, pipes.v[i], names.v[i], &st, tip, e) < 0) {
				strvec_clear(&names);
				strvec_clear(&pipes);
				state_close(&sr);
				goto done;
			}
			item = cJSON_CreateObject();
			cJSON_AddStringToObject(item, "pipeline", pipes.v[i]);
			cJSON_AddStringToObject(item, "environment", names.v[i]);
			cJSON_AddItemToObject(item, "state", st ? st : cJSON_CreateNull());
			cJSON_AddStringToObject(item, "state_commit", tip);
			cJSON_AddItemToArray(envs, item);
		}
		strvec_clear(&names);
		strvec_clear(&pipes);
		state_close(&sr);
	}
	if (fs_is_file(db)) {
		struct store st;
		struct rows pr = { pending, pipeline }, pn = { pins, pipeline };
		if (store_open(&st, home, e) < 0)
			goto done;
		if (store_promotions_each(&st, NULL, "pending", add_pending, &pr, e) < 0 ||
		    store_pins_each(&st, add_pin, &pn, e) < 0) {
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

int status_history(const char *home, const char *pipeline, const char *env, cJSON **out, struct err *e)
{
	cJSON *arr = cJSON_CreateArray();
	int ret = 0;
	if (state_exists(home)) {
		struct state_repo sr;
		char *found = NULL;
		ret = open_synced(&sr, home, e);
		if (!ret && !pipeline && (ret = state_pipeline_of(&sr, env, &found, e)) == 0)
			pipeline = found;
		if (!ret && pipeline)
			ret = state_log(&sr, pipeline, env, add_entry, arr, e);
		free(found);
		state_close(&sr);
	}
	if (ret < 0) {
		cJSON_Delete(arr);
		return -1;
	}
	*out = arr;
	return 0;
}
