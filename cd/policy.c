/* policy.c - where promotion rules come from (policy.yaml or main's mlci.yaml) and the questions asked
 * of them: who may approve, is the environment frozen, does a new candidate supersede. No printing. */
#include "cd/policy.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "spec/freeze.h"
#include "git/workspace.h"
#include "common/alloc.h"
#include "common/buf.h"
#include "common/fs.h"
#include "common/path.h"
#include "common/banned.h"

static int parses; /* policy parses in this process: a debug counter (mlci -v prints it) */

int policy_parse_count(void)
{
	return parses;
}

void policy_release(struct policy *p)
{
	if (p->owned) {
		spec_release(p->owned);
		free(p->owned);
	}
	free(p->source);
	free(p->main_commit);
	memset(p, 0, sizeof(*p));
}

int policy_load_file(struct policy *p, const char *home, struct err *e)
{
	char *path = path_join(home, "policy.yaml");
	struct diags d;
	struct buf text = BUF_INIT;
	int ret = 1;

	memset(p, 0, sizeof(*p));
	if (!fs_is_file(path)) {
		free(path);
		return 0;
	}
	diags_init(&d);
	p->owned = xcalloc(1, sizeof(*p->owned));
	spec_init(p->owned);
	parses++;
	if (buf_read_file(&text, path) < 0) {
		err_errno(e, MLCI_EINFRA, "could not read %s", path);
		ret = -1;
	} else if (spec_parse_policy_buffer(p->owned, text.ptr, text.len, path, &d) < 0) {
		struct buf msg = BUF_INIT;
		for (size_t i = 0; i < d.n; i++) {
			if (i)
				buf_addstr(&msg, "\n");
			diag_format(&d, i, &msg);
		}
		err_set(e, MLCI_EUSAGE, "invalid promotion policy:\n%s", msg.ptr ? msg.ptr : "");
		buf_release(&msg);
		ret = -1;
	}
	buf_release(&text);
	diags_release(&d);
	if (ret < 0) {
		free(path);
		policy_release(p);
		return -1;
	}
	p->spec = p->owned;
	p->source = path;
	return 1;
}

int policy_load_main(struct policy *p, const char *home, const char *repo, int fetch, struct err *e)
{
	struct ws_source src;
	struct ws_commit main_commit;
	struct buf text = BUF_INIT;
	struct diags d;
	int r;

	memset(p, 0, sizeof(*p));
	p->source = xstrdup("mlci.yaml@main");
	if (!repo)
		return 0;
	memset(&src, 0, sizeof(src));
	memset(&main_commit, 0, sizeof(main_commit));
	/* a run has just fetched the repository: its mirror is read as it is */
	r = fetch || !ws_is_url(repo) ? ws_source_open(&src, home, repo, e) : ws_mirror_open(&src, home, repo, e);
	if (r < 0) {
		ws_source_release(&src);
		return err_prefix(e, "promotion policy");
	}
	if (ws_resolve(&src, "main", NULL, &main_commit, e) < 0) {
		ws_source_release(&src);
		err_clear(e);
		return 0; /* no main: no policy */
	}
	diags_init(&d);
	r = ws_read_file(&src, main_commit.id, "mlci.yaml", &text, e);
	if (r == 1) {
		p->owned = xcalloc(1, sizeof(*p->owned));
		spec_init(p->owned);
		parses++;
		if (spec_parse_buffer(p->owned, text.ptr, text.len, "mlci.yaml@main", &d) < 0) {
			spec_release(p->owned);
			free(p->owned);
			p->owned = NULL;
		} else {
			p->spec = p->owned;
			p->main_commit = xstrdup(main_commit.id);
		}
	}
	diags_release(&d);
	buf_release(&text);
	ws_commit_release(&main_commit);
	ws_source_release(&src);
	return r < 0 ? -1 : 0;
}

const struct spec_environment *policy_env(const struct policy *p, const char *name)
{
	for (size_t i = 0; p->spec && i < p->spec->n_environments; i++)
		if (!strcmp(p->spec->environments[i].name, name))
			return &p->spec->environments[i];
	return NULL;
}

static const struct spec_group *find_group(const struct policy *p, const char *name)
{
	for (size_t g = 0; p->spec && g < p->spec->n_groups; g++)
		if (!strcmp(p->spec->groups[g].name, name))
			return &p->spec->groups[g];
	return NULL;
}

static int in_list(const struct policy *p, const struct spec_strlist *l, const char *user)
{
	for (size_t i = 0; i < l->n; i++) {
		const char *a = l->items[i];
		if (a[0] == '@') {
			const struct spec_group *g = find_group(p, a + 1);
			for (size_t k = 0; g && k < g->members.n; k++)
				if (!strcasecmp(g->members.items[k], user))
					return 1;
		} else if (!strcasecmp(a, user)) {
			return 1;
		}
	}
	return 0;
}

int policy_is_approver(const struct policy *p, const struct spec_environment *env, const char *user)
{
	return in_list(p, &env->approvers, user);
}

int policy_is_override_approver(const struct policy *p, const struct spec_environment *env, const char *user)
{
	return in_list(p, &env->override_approvers, user);
}

void policy_describe_approvers(const struct policy *p, const struct spec_environment *env, struct buf *out)
{
	policy_describe_list(p, &env->approvers, out);
}

void policy_describe_list(const struct policy *p, const struct spec_strlist *l, struct buf *out)
{
	for (size_t i = 0; i < l->n; i++) {
		const char *a = l->items[i];
		buf_addf(out, "%s%s", i ? ", " : "", a);
		if (a[0] == '@') {
			const struct spec_group *g = find_group(p, a + 1);
			buf_addstr(out, " (");
			for (size_t k = 0; g && k < g->members.n; k++)
				buf_addf(out, "%s%s", k ? ", " : "", g->members.items[k]);
			buf_addstr(out, g ? ")" : "undefined group)");
		}
	}
}

static int frozen_in(const struct spec_strlist *l, time_t now, time_t *until)
{
	int any = 0;
	for (size_t i = 0; i < l->n; i++) {
		struct freeze_window w;
		const char *why;
		time_t u;
		if (freeze_parse(l->items[i], &w, &why) == 0 && freeze_active(&w, now, &u)) {
			if (!any || u > *until)
				*until = u;
			any = 1;
		}
	}
	return any;
}

int policy_frozen(const struct policy *p, const struct spec_environment *env, time_t now, time_t *until)
{
	time_t u1 = 0, u2 = 0;
	int a = frozen_in(&env->freeze, now, &u1);
	int b = p->spec ? frozen_in(&p->spec->freeze, now, &u2) : 0;
	if (!a && !b)
		return 0;
	*until = a && b ? (u1 > u2 ? u1 : u2) : a ? u1 : u2;
	return 1;
}

int policy_supersede(const struct spec_environment *env)
{
	return env->supersede >= 0 ? env->supersede : 1;
}

time_t policy_now(void)
{
	const char *v = getenv("MLCI_NOW");
	time_t t;
	if (v && *v && freeze_parse_time(v, &t) == 0)
		return t;
	return time(NULL);
}
