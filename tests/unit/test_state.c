/* test_state.c - unit tests of cd/state.c and cd/approvals.c: the GitOps state repo (write, read, read
 * at a commit, list, history, concurrent writers keep main linear) and approval trailers. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cd/approvals.h"
#include "cd/state.h"
#include "common/fs.h"

static char home[256];

static int setup(void **state)
{
	(void)state;
	snprintf(home, sizeof(home), "%s/mlci-state.XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	return mkdtemp(home) ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	return fs_rm_rf(home, NULL);
}

/* A state with a source commit and a model version (model "m"). */
static struct env_state *st(const char *commit, int version)
{
	struct env_state *o = calloc(1, sizeof(*o));
	env_state_init(o);
	env_state_set(&o->commit, commit);
	env_state_set(&o->model_name, "m");
	o->model_version = version;
	return o;
}

static void st_free(struct env_state *o)
{
	env_state_release(o);
	free(o);
}

static int count_cb(void *payload, const char *commit, long long time, const struct env_state *state)
{
	int *n = payload;
	(void)time;
	assert_int_equal(strlen(commit), 40);
	if (*n == 0) /* newest first */
		assert_int_equal(state->model_version, 2);
	(*n)++;
	return 0;
}

static int count_cb3(void *payload, const char *commit, long long time, const struct env_state *state)
{
	int *n = payload;
	(void)commit;
	(void)time;
	/* newest first: 3, 2, 1 */
	assert_int_equal(state->model_version, 3 - *n);
	(*n)++;
	return 0;
}

static void test_write_read_log(void **state)
{
	struct state_repo s;
	struct err e = ERR_INIT;
	struct strvec envs = STRVEC_INIT, pipes = STRVEC_INIT;
	char c1[41], c2[41], c3[41], c4[41], tip[41], *who = NULL;
	struct env_state *a = st("aaa", 1), *b = st("bbb", 2), *x = st("xxx", 7), *y = st("yyy", 9), got;
	int n = 0;
	(void)state;
	assert_int_equal(state_open(&s, home, NULL, &e), 0);
	assert_int_equal(state_read(&s, "p1", "test", &got, tip, &e), 0);
	assert_null(got.commit);
	env_state_release(&got);
	assert_string_equal(tip, "");
	assert_int_equal(state_write(&s, "p1", "test", a, "alice", "promote 1", c1, &e), 0);
	assert_int_equal(state_write(&s, "p1", "staging", x, "bob", "promote x", c2, &e), 0);
	assert_int_equal(state_write(&s, "p1", "test", b, "alice", "promote 2", c3, &e), 0);
	/* another pipeline's test does not overwrite p1's */
	assert_int_equal(state_write(&s, "p2", "test", y, "carol", "promote y", c4, &e), 0);
	assert_int_equal(state_read(&s, "p1", "test", &got, tip, &e), 1);
	assert_string_equal(tip, c4);
	assert_string_equal(got.commit, "bbb");
	assert_int_equal(got.model_version, 2);
	env_state_release(&got);
	assert_int_equal(state_read(&s, "p2", "test", &got, NULL, &e), 1);
	assert_string_equal(got.commit, "yyy");
	env_state_release(&got);
	/* the state as of an older commit */
	assert_int_equal(state_read_at(&s, c1, "p1", "test", &got, &e), 1);
	assert_string_equal(got.commit, "aaa");
	env_state_release(&got);
	assert_int_equal(state_read_at(&s, c1, "p1", "staging", &got, &e), 0);
	assert_null(got.commit);
	env_state_release(&got);
	/* staging's and p2's writes did not touch p1/test's history: two entries */
	assert_int_equal(state_log(&s, "p1", "test", count_cb, &n, &e), 0);
	assert_int_equal(n, 2);
	assert_int_equal(state_list(&s, &pipes, &envs, &e), 0);
	assert_int_equal(envs.n, 3);
	assert_string_equal(pipes.v[0], "p1");
	assert_string_equal(envs.v[0], "staging");
	assert_string_equal(pipes.v[1], "p1");
	assert_string_equal(envs.v[1], "test");
	assert_string_equal(pipes.v[2], "p2");
	assert_string_equal(envs.v[2], "test");
	/* which pipeline has an environment: one, none, or ambiguous */
	assert_int_equal(state_pipeline_of(&s, "staging", &who, &e), 0);
	assert_string_equal(who, "p1");
	free(who);
	assert_int_equal(state_pipeline_of(&s, "production", &who, &e), 0);
	assert_null(who);
	assert_int_equal(state_pipeline_of(&s, "test", &who, &e), -1);
	assert_int_equal(e.code, MLCI_EUSAGE);
	assert_non_null(strstr(err_msg(&e), "p1, p2"));
	err_release(&e);
	strvec_clear(&envs);
	strvec_clear(&pipes);
	state_close(&s);
	st_free(a);
	st_free(b);
	st_free(x);
	st_free(y);
	err_release(&e);
}

/* Run "cmd" with $H set to the test's home. */
static int sh(const char *cmd)
{
	setenv("H", home, 1);
	return system(cmd);
}

/* A state repo of the previous layout (environments/<env>.json naming its pipeline, made with the
 * git CLI) is read, listed and logged; the next write moves the pair to the new layout. */
static void test_old_layout(void **state)
{
	struct state_repo s;
	struct err e = ERR_INIT;
	struct strvec envs = STRVEC_INIT, pipes = STRVEC_INIT;
	char c[41], cmd[1024];
	struct env_state got, *z = st("zzz", 3);
	int n = 0;
	(void)state;
	assert_int_equal(fs_rm_rf(home, NULL), 0);
	assert_int_equal(sh("set -e; git init -q --bare -b main $H/state.git; w=$H/w; git init -q -b main $w; "
			    "mkdir $w/environments; "
			    "printf '{\"pipeline\":\"old\",\"commit\":\"c1\",\"model\":{\"version\":1}}' "
			    ">$w/environments/test.json; "
			    "git -C $w add -A; git -C $w -c user.name=t -c user.email=t@x commit -q -m one; "
			    "printf '{\"pipeline\":\"old\",\"commit\":\"c2\",\"model\":{\"version\":2}}' "
			    ">$w/environments/test.json; "
			    "git -C $w -c user.name=t -c user.email=t@x commit -qam two; "
			    "git -C $w push -q $H/state.git main"),
			 0);
	assert_int_equal(state_open(&s, home, NULL, &e), 0);
	assert_int_equal(state_read(&s, "old", "test", &got, NULL, &e), 1);
	assert_string_equal(got.commit, "c2");
	env_state_release(&got);
	assert_int_equal(state_read(&s, "other", "test", &got, NULL, &e), 0);
	assert_null(got.commit); /* the old file names pipeline "old" */
	env_state_release(&got);
	assert_int_equal(state_list(&s, &pipes, &envs, &e), 0);
	assert_int_equal(envs.n, 1);
	assert_string_equal(pipes.v[0], "old");
	assert_string_equal(envs.v[0], "test");
	strvec_clear(&envs);
	strvec_clear(&pipes);
	/* a new write moves it: environments/old/test.json, the old file gone, history continuous */
	assert_int_equal(state_write(&s, "old", "test", z, "alice", "promote 3", c, &e), 0);
	assert_int_equal(state_log(&s, "old", "test", count_cb3, &n, &e), 0);
	assert_int_equal(n, 3);
	assert_int_equal(state_list(&s, &pipes, &envs, &e), 0);
	assert_int_equal(envs.n, 1);
	strvec_clear(&envs);
	strvec_clear(&pipes);
	snprintf(cmd, sizeof(cmd),
		 "git -C %s/state.git cat-file -e main:environments/old/test.json && "
		 "! git -C %s/state.git cat-file -e main:environments/test.json 2>/dev/null",
		 home, home);
	assert_int_equal(system(cmd), 0);
	state_close(&s);
	st_free(z);
	err_release(&e);
}

/* Two processes writing 20 states each at once: every write lands, main stays a single line. */
static void test_concurrent_writers(void **state)
{
	char cmd[1200], line[64];
	FILE *p;
	(void)state;
	for (int k = 0; k < 2; k++) {
		pid_t pid = fork();
		assert_true(pid >= 0);
		if (pid == 0) {
			struct state_repo s;
			struct err e = ERR_INIT;
			char c[41];
			if (state_open(&s, home, NULL, &e) < 0)
				_exit(2);
			for (int i = 0; i < 20; i++) {
				struct env_state *o = st(k ? "k1" : "k0", i + 1);
				if (state_write(&s, "p", k ? "env1" : "env0", o, "w", "write", c, &e) < 0) {
					fprintf(stderr, "writer %d: %s\n", k, err_msg(&e));
					_exit(3);
				}
				st_free(o);
			}
			state_close(&s);
			_exit(0);
		}
	}
	for (int k = 0; k < 2; k++) {
		int status;
		assert_true(wait(&status) > 0);
		assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	}
	/* the git CLI is the independent judge: 4 earlier + 40 commits, none with two parents */
	snprintf(cmd, sizeof(cmd),
		 "git -C %s/state.git rev-list --count main && git -C %s/state.git rev-list --merges --count main",
		 home, home);
	p = popen(cmd, "r");
	assert_non_null(p);
	assert_non_null(fgets(line, sizeof(line), p));
	assert_int_equal(atoi(line), 44);
	assert_non_null(fgets(line, sizeof(line), p));
	assert_int_equal(atoi(line), 0);
	pclose(p);
}

/* Two hosts (two homes) sharing one remote state repo (file://), writing 10 states each at once: the
 * rejected pushes are re-applied, every write lands on the remote and its main stays a single line. */
static void test_remote_writers(void **state)
{
	char cmd[1200], line[64];
	FILE *p;
	(void)state;
	assert_int_equal(sh("git init -q --bare -b main $H/remote.git"), 0);
	for (int k = 0; k < 2; k++) {
		pid_t pid = fork();
		assert_true(pid >= 0);
		if (pid == 0) {
			struct state_repo s;
			struct err e = ERR_INIT;
			char c[41], h[300], url[320];
			snprintf(h, sizeof(h), "%s/host%d", home, k);
			snprintf(url, sizeof(url), "file://%s/remote.git", home);
			if (state_open(&s, h, url, &e) < 0 || state_sync(&s, &e) < 0) {
				fprintf(stderr, "host %d: %s\n", k, err_msg(&e));
				_exit(2);
			}
			for (int i = 0; i < 10; i++) {
				struct env_state *o = st(k ? "k1" : "k0", i + 1);
				if (state_write(&s, k ? "p1" : "p0", "test", o, "w", "write", c, &e) < 0) {
					fprintf(stderr, "host %d: %s\n", k, err_msg(&e));
					_exit(3);
				}
				st_free(o);
			}
			state_close(&s);
			_exit(0);
		}
	}
	{
		/* both hosts end before anything is asserted: a failed assertion removes the directories */
		int status[2] = { -1, -1 };
		for (int k = 0; k < 2; k++)
			assert_true(wait(&status[k]) > 0);
		for (int k = 0; k < 2; k++)
			assert_true(WIFEXITED(status[k]) && WEXITSTATUS(status[k]) == 0);
	}
	snprintf(cmd, sizeof(cmd),
		 "git -C %s/remote.git rev-list --count main && git -C %s/remote.git rev-list --merges --count main",
		 home, home);
	p = popen(cmd, "r");
	assert_non_null(p);
	assert_non_null(fgets(line, sizeof(line), p));
	assert_int_equal(atoi(line), 20);
	assert_non_null(fgets(line, sizeof(line), p));
	assert_int_equal(atoi(line), 0);
	pclose(p);
}

static void test_trailers(void **state)
{
	struct strvec a = STRVEC_INIT;
	(void)state;
	approvals_from_trailers("merge dev/x\n\nbody\n\nReviewed-by: Alice <Alice@Example.com>\n"
				"Approved-by: alice <alice@example.com>\nApproved-by: Carol\n"
				"Reviewed-by: Bob Builder <bob@example.com>\nreviewed-by: Dave <dave@example.com>\n"
				"Signed-off-by: Eve <eve@example.com>\n",
				"Bob Builder", "bob@example.com", &a);
	/* alice once (case-insensitive), carol by name, dave; bob is the author; eve only signed off */
	assert_int_equal(a.n, 3);
	assert_true(strvec_contains(&a, "alice@example.com"));
	assert_true(strvec_contains(&a, "carol"));
	assert_true(strvec_contains(&a, "dave@example.com"));
	strvec_clear(&a);
	approvals_from_trailers("self\n\nReviewed-by: Me <me@x>\n", "Me", "me@x", &a);
	assert_int_equal(a.n, 0);
	approvals_from_trailers("no trailers at all", "Me", "me@x", &a);
	assert_int_equal(a.n, 0);
	strvec_clear(&a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_write_read_log), cmocka_unit_test(test_concurrent_writers),
		cmocka_unit_test(test_old_layout),     cmocka_unit_test(test_remote_writers),
		cmocka_unit_test(test_trailers),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
