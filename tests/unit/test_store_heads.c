/* test_store_heads.c - unit tests of registry/store_heads.c (branch_heads rows, the run of a head,
 * cancelling a deleted branch's pending promotions) and common/knownhosts.c, on real files in mkdtemp(). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/alloc.h"
#include "common/buf.h"
#include "common/error.h"
#include "common/fs.h"
#include "common/knownhosts.h"
#include "registry/store.h"
#include "registry/store_heads.h"
#include "registry/store_promotions.h"
#include "common/banned.h"

static char *home;

static int setup(void **state)
{
	char tmpl[PATH_MAX];
	const char *t = getenv("TMPDIR");
	(void)state;
	snprintf(tmpl, sizeof(tmpl), "%s/mlci-test-heads-XXXXXX", t && *t ? t : "/tmp");
	if (!mkdtemp(tmpl))
		return -1;
	home = xstrdup(tmpl);
	return 0;
}

static int teardown(void **state)
{
	struct err e = ERR_INIT;
	int r;
	(void)state;
	r = fs_rm_rf(home, &e);
	err_release(&e);
	free(home);
	return r;
}

static void add_run(struct store *st, const char *id, const char *repo, const char *commit, const char *branch,
		    int64_t started)
{
	struct store_run r;
	struct err e = ERR_INIT;
	memset(&r, 0, sizeof(r));
	r.id = id;
	r.pipeline = "p";
	r.repo = repo;
	r.commit_id = commit;
	r.branch = branch;
	r.trigger = "manual";
	r.status = "running";
	r.started_ms = started;
	if (store_run_begin(st, &r, &e) < 0 || store_run_finish(st, id, "passed", started + 1, NULL, &e) < 0)
		fail_msg("run: %s", err_msg(&e));
	err_release(&e);
}

struct seen {
	struct buf b;
};

static int collect(void *payload, const struct store_head *h)
{
	struct seen *s = payload;
	buf_addf(&s->b, "%s %s %s %s;", h->branch, h->commit_id, h->run ? h->run : "-", h->status);
	return 0;
}

static void heads_are(struct store *st, const char *repo, const char *want)
{
	struct seen s;
	struct err e = ERR_INIT;
	buf_init(&s.b, 0);
	assert_int_equal(store_heads_each(st, repo, collect, &s, &e), 0);
	assert_string_equal(s.b.ptr, want);
	buf_release(&s.b);
	err_release(&e);
}

static void test_heads_put_finish_each(void **state)
{
	struct store st;
	struct err e = ERR_INIT;
	char run[64];
	(void)state;
	assert_int_equal(store_open(&st, home, &e), 0);
	assert_int_equal(store_head_put(&st, "u", "dev/x", "c1", NULL, "running", &e), 0);
	assert_int_equal(store_head_put(&st, "u", "main", "m1", NULL, "running", &e), 0);
	assert_int_equal(store_head_put(&st, "other", "main", "o1", NULL, "done", &e), 0);
	heads_are(&st, "u", "dev/x c1 - running;main m1 - running;");

	/* the run of a head is found by mirror, commit, branch and start time */
	add_run(&st, "r-old", "/m.git", "c1", "dev/x", 1000);
	add_run(&st, "r-new", "/m.git", "c1", "dev/x", 5000);
	add_run(&st, "r-other", "/m.git", "c1", "dev/y", 6000);
	assert_int_equal(store_head_find_run(&st, "/m.git", "c1", "dev/x", 4000, run, sizeof(run), &e), 1);
	assert_string_equal(run, "r-new");
	assert_int_equal(store_head_find_run(&st, "/m.git", "c1", "dev/x", 7000, run, sizeof(run), &e), 0);
	assert_int_equal(store_head_find_run(&st, "/elsewhere.git", "c1", "dev/x", 0, run, sizeof(run), &e), 0);

	/* finish only touches the row while it is still at that commit */
	assert_int_equal(store_head_finish(&st, "u", "dev/x", "c1", "r-new", "done", &e), 0);
	assert_int_equal(store_head_put(&st, "u", "main", "m2", NULL, "running", &e), 0);
	assert_int_equal(store_head_finish(&st, "u", "main", "m1", "r-old", "done", &e), 0);
	heads_are(&st, "u", "dev/x c1 r-new done;main m2 - running;");
	/* a NULL run keeps the recorded one */
	assert_int_equal(store_head_finish(&st, "u", "dev/x", "c1", NULL, "seen", &e), 0);
	heads_are(&st, "u", "dev/x c1 r-new seen;main m2 - running;");
	store_close(&st);
	err_release(&e);
}

static int count_status(void *payload, const struct store_promotion *p)
{
	struct buf *b = payload;
	buf_addf(b, "%s:%s;", p->branch, p->status);
	return 0;
}

static void test_cancel_branch(void **state)
{
	struct store st;
	struct err e = ERR_INIT;
	struct store_promotion p;
	struct buf b = BUF_INIT;
	int n = -1;
	(void)state;
	assert_int_equal(store_open(&st, home, &e), 0);
	add_run(&st, "r1", "/m.git", "c1", "release/1", 1000);
	add_run(&st, "r2", "/m.git", "c2", "release/2", 2000);
	add_run(&st, "r3", "/n.git", "c3", "release/1", 3000);
	memset(&p, 0, sizeof(p));
	p.pipeline = "p";
	p.status = "pending";
	p.environment = "staging";
	p.run = "r1", p.commit_id = "c1", p.branch = "release/1";
	assert_int_equal(store_promotion_add(&st, &p, NULL, &e), 0);
	p.pipeline = "q"; /* other pipelines' candidates are not superseded */
	p.run = "r3", p.commit_id = "c3", p.branch = "release/1";
	assert_int_equal(store_promotion_add(&st, &p, NULL, &e), 0);
	p.pipeline = "r";
	p.run = "r2", p.commit_id = "c2", p.branch = "release/2";
	assert_int_equal(store_promotion_add(&st, &p, NULL, &e), 0);

	/* only the deleted branch's pending candidates from that mirror */
	assert_int_equal(store_promotions_cancel_branch(&st, "/m.git", "release/1", &n, &e), 0);
	assert_int_equal(n, 1);
	assert_int_equal(store_promotions_each(&st, NULL, NULL, count_status, &b, &e), 0);
	assert_string_equal(b.ptr, "release/2:pending;release/1:pending;release/1:cancelled;");
	buf_release(&b);
	store_close(&st);
	err_release(&e);
}

static void test_knownhosts(void **state)
{
	struct err e = ERR_INIT;
	struct buf kh = BUF_INIT, path = BUF_INIT;
	/* an ed25519 public key blob (ssh wire format) and its base64 */
	static const char b64[] = "AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl";
	static const unsigned char blob[] = { 0,    0,    0,    11,   's',  's',  'h',  '-',  'e',  'd',  '2',
					      '5',  '5',  '1',  '9',  0,    0,    0,    32,   0xe3, 0x2a, 0xaa,
					      0x79, 0x15, 0xce, 0xb9, 0xb4, 0x49, 0xd1, 0xba, 0x50, 0xea, 0x2a,
					      0x28, 0xbb, 0x1a, 0x6e, 0x01, 0xf9, 0x0b, 0xda, 0x24, 0x5a, 0x2d,
					      0x1d, 0x87, 0x69, 0x7d, 0x18, 0xa2, 0x65 };
	unsigned char other[sizeof(blob)];
	(void)state;
	buf_addf(&path, "%s/known_hosts", home);
	buf_addf(&kh, "[127.0.0.1]:2222 ssh-ed25519 %s\nexample.org ssh-ed25519 %s\n", b64, b64);
	assert_int_equal(fs_write_atomic(path.ptr, kh.ptr, kh.len, 0644, &e), 0);

	assert_int_equal(kh_check(path.ptr, "127.0.0.1", 2222, (const char *)blob, sizeof(blob), KH_KEY_ED25519, &e),
			 0);
	assert_int_equal(kh_check(path.ptr, "example.org", 22, (const char *)blob, sizeof(blob), KH_KEY_ED25519, &e),
			 0);
	/* same host, other port: unknown */
	assert_int_equal(kh_check(path.ptr, "127.0.0.1", 2223, (const char *)blob, sizeof(blob), KH_KEY_ED25519, &e),
			 -1);
	assert_non_null(strstr(err_msg(&e), "host unknown"));
	err_release(&e);
	/* a different key: refused as a mismatch */
	memcpy(other, blob, sizeof(blob));
	other[sizeof(other) - 1] ^= 1;
	assert_int_equal(kh_check(path.ptr, "example.org", 22, (const char *)other, sizeof(other), KH_KEY_ED25519, &e),
			 -1);
	assert_non_null(strstr(err_msg(&e), "does NOT match"));
	err_release(&e);
	/* a missing file refuses too */
	assert_int_equal(kh_check("/nonexistent/known_hosts", "example.org", 22, (const char *)blob, sizeof(blob),
				  KH_KEY_ED25519, &e),
			 -1);
	assert_int_equal(e.code, MLCI_EFAILED);
	err_release(&e);
	buf_release(&kh);
	buf_release(&path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_heads_put_finish_each, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cancel_branch, setup, teardown),
		cmocka_unit_test_setup_teardown(test_knownhosts, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
