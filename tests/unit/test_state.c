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

static cJSON *st(const char *commit, int version)
{
	cJSON *o = cJSON_CreateObject(), *m = cJSON_AddObjectToObject(o, "model");
	cJSON_AddStringToObject(o, "commit", commit);
	cJSON_AddNumberToObject(m, "version", version);
	return o;
}

static int count_cb(void *payload, const char *commit, long long time, const cJSON *state)
{
	int *n = payload;
	(void)time;
	assert_int_equal(strlen(commit), 40);
	if (*n == 0) /* newest first */
		assert_int_equal(cJSON_GetObjectItem(cJSON_GetObjectItem(state, "model"), "version")->valueint, 2);
	(*n)++;
	return 0;
}

static void test_write_read_log(void **state)
{
	struct state_repo s;
	struct err e = ERR_INIT;
	struct strvec envs = STRVEC_INIT;
	char c1[41], c2[41], c3[41], tip[41];
	cJSON *a = st("aaa", 1), *b = st("bbb", 2), *x = st("xxx", 7), *got = NULL;
	int n = 0;
	(void)state;
	assert_int_equal(state_open(&s, home, &e), 0);
	assert_int_equal(state_read(&s, "test", &got, tip, &e), 0);
	assert_null(got);
	assert_string_equal(tip, "");
	assert_int_equal(state_write(&s, "test", a, "alice", "promote 1", c1, &e), 0);
	assert_int_equal(state_write(&s, "staging", x, "bob", "promote x", c2, &e), 0);
	assert_int_equal(state_write(&s, "test", b, "alice", "promote 2", c3, &e), 0);
	assert_int_equal(state_read(&s, "test", &got, tip, &e), 0);
	assert_string_equal(tip, c3);
	assert_string_equal(cJSON_GetObjectItem(got, "commit")->valuestring, "bbb");
	cJSON_Delete(got);
	/* the state as of an older commit */
	assert_int_equal(state_read_at(&s, c1, "test", &got, &e), 0);
	assert_string_equal(cJSON_GetObjectItem(got, "commit")->valuestring, "aaa");
	cJSON_Delete(got);
	assert_int_equal(state_read_at(&s, c1, "staging", &got, &e), 0);
	assert_null(got);
	/* staging's write did not touch test's history: two entries for test */
	assert_int_equal(state_log(&s, "test", count_cb, &n, &e), 0);
	assert_int_equal(n, 2);
	assert_int_equal(state_list(&s, &envs, &e), 0);
	assert_int_equal(envs.n, 2);
	assert_true(strvec_contains(&envs, "test") && strvec_contains(&envs, "staging"));
	strvec_clear(&envs);
	state_close(&s);
	cJSON_Delete(a);
	cJSON_Delete(b);
	cJSON_Delete(x);
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
			if (state_open(&s, home, &e) < 0)
				_exit(2);
			for (int i = 0; i < 20; i++) {
				cJSON *o = st(k ? "k1" : "k0", i + 1);
				if (state_write(&s, k ? "env1" : "env0", o, "w", "write", c, &e) < 0) {
					fprintf(stderr, "writer %d: %s\n", k, err_msg(&e));
					_exit(3);
				}
				cJSON_Delete(o);
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
	/* the git CLI is the independent judge: 3 earlier + 40 commits, none with two parents */
	snprintf(cmd, sizeof(cmd), "git -C %s/state.git rev-list --count main && git -C %s/state.git rev-list --merges --count main",
		 home, home);
	p = popen(cmd, "r");
	assert_non_null(p);
	assert_non_null(fgets(line, sizeof(line), p));
	assert_int_equal(atoi(line), 43);
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
		cmocka_unit_test(test_write_read_log),
		cmocka_unit_test(test_concurrent_writers),
		cmocka_unit_test(test_trailers),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
