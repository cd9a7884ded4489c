/* test_store_gates.c - unit tests of registry/store_gates.c: approvals bound to a digest and counted
 * once per approver, pins set/read/removed, environment locks (held by a live process, taken over
 * from a dead one of this host, released by their owner only). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/strvec.h"
#include "registry/store.h"
#include "registry/store_gates.h"
#include "registry/store_review.h"
#include "testutil.h"

struct fx {
	char *home;
	struct store st;
};

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	struct err e = ERR_INIT;
	f->home = test_scratch_dir("store-gates");
	if (!f->home || store_open(&f->st, f->home, &e) < 0)
		return -1;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	store_close(&f->st);
	test_scratch_remove(f->home);
	free(f);
	return 0;
}

static void test_approvals(void **state)
{
	struct fx *f = *state;
	struct err e = ERR_INIT;
	struct strvec v = STRVEC_INIT;
	assert_int_equal(store_approval_add(&f->st, "p", "production", "m", 2, "sha-a", "alice", NULL, &e), 1);
	assert_int_equal(store_approval_add(&f->st, "p", "production", "m", 2, "sha-a", "alice", NULL, &e),
			 0); /* once */
	assert_int_equal(store_approval_add(&f->st, "p", "production", "m", 2, "sha-a", "bob", NULL, &e), 1);
	assert_int_equal(store_approval_add(&f->st, "p", "production", "m", 2, "sha-b", "carol", NULL, &e), 1);
	assert_int_equal(store_approvals_list(&f->st, "p", "production", "m", 2, "sha-a", &v, &e), 0);
	assert_int_equal(v.n, 2);
	assert_string_equal(v.v[0], "alice");
	assert_string_equal(v.v[1], "bob");
	strvec_clear(&v);
	/* another digest: the approvals of the old candidate do not count */
	assert_int_equal(store_approvals_list(&f->st, "p", "production", "m", 2, "sha-b", &v, &e), 0);
	assert_int_equal(v.n, 1);
	assert_string_equal(v.v[0], "carol");
	strvec_clear(&v);
	assert_int_equal(store_approvals_list(&f->st, "p", "staging", "m", 2, "sha-a", &v, &e), 0);
	assert_int_equal(v.n, 0);
	strvec_clear(&v);
}

static void test_pins(void **state)
{
	struct fx *f = *state;
	struct err e = ERR_INIT;
	struct store_pin p, got;
	int removed = -1;
	memset(&p, 0, sizeof(p));
	snprintf(p.pipeline, sizeof(p.pipeline), "p");
	snprintf(p.environment, sizeof(p.environment), "test");
	snprintf(p.actor, sizeof(p.actor), "bob");
	p.model = "m";
	p.version = 3;
	p.reason = "bad";
	assert_int_equal(store_pin_get(&f->st, "p", "test", &got, &e), 0);
	assert_int_equal(store_pin_set(&f->st, &p, &e), 0);
	assert_int_equal(store_pin_get(&f->st, "p", "test", &got, &e), 1);
	assert_string_equal(got.actor, "bob");
	assert_string_equal(got.model, "m");
	assert_int_equal(got.version, 3);
	assert_string_equal(got.reason, "bad");
	store_pin_release(&got);
	assert_int_equal(store_pin_get(&f->st, NULL, "test", &got, &e), 1); /* any pipeline */
	store_pin_release(&got);
	assert_int_equal(store_pin_get(&f->st, "q", "test", &got, &e), 0);
	assert_int_equal(store_pin_remove(&f->st, "p", "test", &removed, &e), 0);
	assert_int_equal(removed, 1);
	assert_int_equal(store_pin_get(&f->st, "p", "test", &got, &e), 0);
	assert_int_equal(store_pin_remove(&f->st, "p", "test", &removed, &e), 0);
	assert_int_equal(removed, 0);
}

/* Write a lock row as if "pid" of this host held it. */
static void put_lock(struct store *st, const char *env, long long pid)
{
	char host[256], sql[600];
	gethostname(host, sizeof(host));
	host[sizeof(host) - 1] = '\0';
	snprintf(sql, sizeof(sql),
		 "INSERT OR REPLACE INTO env_locks(pipeline, environment, holder, host, pid, acquired_ms) "
		 "VALUES ('p', '%s', 'alice', '%s', %lld, 1)",
		 env, host, pid);
	assert_int_equal(sqlite3_exec(store_db(st), sql, NULL, NULL, NULL), SQLITE_OK);
}

static void test_locks(void **state)
{
	struct fx *f = *state;
	struct err e = ERR_INIT;
	struct strvec holder = STRVEC_INIT;
	pid_t dead;
	/* free: taken, then not taken again while we (alive) hold it */
	assert_int_equal(store_env_lock_try(&f->st, "p", "production", "bob", &holder, &e), 1);
	assert_int_equal(store_env_lock_try(&f->st, "p", "production", "carol", &holder, &e), 0);
	assert_int_equal(holder.n, 1);
	assert_non_null(strstr(holder.v[0], "bob (pid "));
	strvec_clear(&holder);
	assert_int_equal(store_env_lock_release(&f->st, "p", "production", &e), 0);
	assert_int_equal(store_env_lock_try(&f->st, "p", "production", "carol", &holder, &e), 1);
	assert_int_equal(store_env_lock_release(&f->st, "p", "production", &e), 0);
	/* held by a live process that is not us (pid 1): not taken, and we cannot release it */
	put_lock(&f->st, "staging", 1);
	assert_int_equal(store_env_lock_try(&f->st, "p", "staging", "bob", &holder, &e), 0);
	assert_non_null(strstr(holder.v[0], "alice (pid 1 on host "));
	strvec_clear(&holder);
	assert_int_equal(store_env_lock_release(&f->st, "p", "staging", &e), 0);
	assert_int_equal(store_env_lock_try(&f->st, "p", "staging", "bob", &holder, &e), 0);
	strvec_clear(&holder);
	/* held by a dead process of this host: taken over */
	dead = fork();
	assert_true(dead >= 0);
	if (dead == 0)
		_exit(0);
	waitpid(dead, NULL, 0);
	put_lock(&f->st, "test", (long long)dead);
	assert_int_equal(store_env_lock_try(&f->st, "p", "test", "bob", &holder, &e), 1);
	assert_int_equal(holder.n, 0);
	assert_int_equal(store_env_lock_release(&f->st, "p", "test", &e), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_approvals, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pins, setup, teardown),
		cmocka_unit_test_setup_teardown(test_locks, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
