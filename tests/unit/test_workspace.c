/* test_workspace.c - unit tests of git/workspace.c against real repositories made with the git CLI:
 * open, resolve (HEAD, branch, tag, sha), check out without touching the source, mirror a file:// URL. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "git/workspace.h"
#include "common/buf.h"
#include "common/fs.h"

static char scratch[256];

static void sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void sh(const char *fmt, ...)
{
	struct buf b = BUF_INIT;
	va_list ap;
	va_start(ap, fmt);
	buf_vaddf(&b, fmt, ap);
	va_end(ap);
	assert_int_equal(system(b.ptr), 0);
	buf_release(&b);
}

static void capture(char *out, size_t n, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void capture(char *out, size_t n, const char *fmt, ...)
{
	struct buf b = BUF_INIT;
	va_list ap;
	FILE *f;
	va_start(ap, fmt);
	buf_vaddf(&b, fmt, ap);
	va_end(ap);
	f = popen(b.ptr, "r");
	assert_non_null(f);
	assert_non_null(fgets(out, (int)n, f));
	out[strcspn(out, "\n")] = '\0';
	pclose(f);
	buf_release(&b);
}

static int setup(void **state)
{
	(void)state;
	snprintf(scratch, sizeof(scratch), "%s/mlci-ws.XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	if (!mkdtemp(scratch))
		return -1;
	sh("cd %s && git init -q -b main repo && cd repo && git config user.name T && git config user.email t@e && "
	   "mkdir -p comp && echo one > comp/f.txt && echo top > top.txt && git add -A && git commit -q -m first && "
	   "git tag v1 && echo two > comp/f.txt && git commit -q -am 'second subject' -m 'body line' && "
	   "git branch dev/x HEAD~1",
	   scratch);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	return fs_rm_rf(scratch, NULL);
}

static void test_is_url(void **state)
{
	(void)state;
	assert_true(ws_is_url("file:///tmp/x"));
	assert_true(ws_is_url("https://example.com/a.git"));
	assert_true(ws_is_url("git@example.com:org/repo.git"));
	assert_false(ws_is_url("/tmp/repo"));
	assert_false(ws_is_url("repo"));
	assert_false(ws_is_url("./dir/with:colon"));
}

static void test_resolve_head_branch_tag_sha(void **state)
{
	struct ws_source src;
	struct ws_commit c;
	struct err e = ERR_INIT;
	char path[512], head[64], first[64];
	(void)state;
	snprintf(path, sizeof(path), "%s/repo", scratch);
	capture(head, sizeof(head), "git -C %s rev-parse HEAD", path);
	capture(first, sizeof(first), "git -C %s rev-parse HEAD~1", path);
	assert_int_equal(ws_source_open(&src, scratch, path, &e), 0);

	assert_int_equal(ws_resolve(&src, NULL, NULL, &c, &e), 0);
	assert_string_equal(c.id, head);
	assert_string_equal(c.branch, "main");
	assert_string_equal(c.subject, "second subject");
	assert_string_equal(c.author_name, "T");
	ws_commit_release(&c);

	assert_int_equal(ws_resolve(&src, "dev/x", NULL, &c, &e), 0);
	assert_string_equal(c.id, first);
	assert_string_equal(c.branch, "dev/x");
	ws_commit_release(&c);

	assert_int_equal(ws_resolve(&src, "v1", NULL, &c, &e), 0);
	assert_string_equal(c.id, first);
	assert_null(c.branch);
	ws_commit_release(&c);

	assert_int_equal(ws_resolve(&src, "v1", "release", &c, &e), 0);
	assert_string_equal(c.branch, "release");
	ws_commit_release(&c);

	first[8] = '\0';
	assert_int_equal(ws_resolve(&src, first, NULL, &c, &e), 0);
	assert_int_equal(strncmp(c.id, first, 8), 0);
	ws_commit_release(&c);

	assert_int_equal(ws_resolve(&src, "nope", NULL, &c, &e), -1);
	assert_int_equal(e.code, MLCI_EUSAGE);
	assert_non_null(strstr(err_msg(&e), "'nope'"));
	ws_commit_release(&c);
	ws_source_release(&src);
	err_release(&e);
}

static void test_checkout_leaves_source_alone(void **state)
{
	struct ws_source src;
	struct ws_commit c;
	struct err e = ERR_INIT;
	struct buf content = BUF_INIT;
	char path[512], dir[512], f[600], status[256] = "";
	FILE *p;
	(void)state;
	snprintf(path, sizeof(path), "%s/repo", scratch);
	snprintf(dir, sizeof(dir), "%s/ws1", scratch);
	assert_int_equal(ws_source_open(&src, scratch, path, &e), 0);
	assert_int_equal(ws_resolve(&src, "v1", NULL, &c, &e), 0);
	assert_int_equal(ws_checkout(&src, c.id, dir, &e), 0);
	snprintf(f, sizeof(f), "%s/comp/f.txt", dir);
	assert_int_equal(buf_read_file(&content, f), 0);
	assert_string_equal(content.ptr, "one\n");
	/* the source work tree, index and HEAD are untouched */
	snprintf(f, sizeof(f), "git -C %s status --porcelain", path);
	p = popen(f, "r");
	assert_non_null(p);
	assert_null(fgets(status, sizeof(status), p));
	pclose(p);
	buf_release(&content);
	ws_commit_release(&c);
	ws_source_release(&src);
	err_release(&e);
}

static void test_tree_id(void **state)
{
	struct ws_source src;
	struct err e = ERR_INIT;
	char path[512], want[64], got[41];
	(void)state;
	snprintf(path, sizeof(path), "%s/repo", scratch);
	capture(want, sizeof(want), "git -C %s rev-parse HEAD:comp", path);
	assert_int_equal(ws_source_open(&src, scratch, path, &e), 0);
	capture(path, sizeof(path), "git -C %s/repo rev-parse HEAD", scratch);
	assert_int_equal(ws_tree_id(&src, path, "comp", got, &e), 0);
	assert_string_equal(got, want);
	assert_int_equal(ws_tree_id(&src, path, "missing", got, &e), -1);
	ws_source_release(&src);
	err_release(&e);
}

static void test_file_url_mirror(void **state)
{
	struct ws_source src;
	struct ws_commit c;
	struct err e = ERR_INIT;
	char url[512], head[64];
	(void)state;
	snprintf(url, sizeof(url), "file://%s/repo", scratch);
	capture(head, sizeof(head), "git -C %s/repo rev-parse HEAD", scratch);
	assert_int_equal(ws_source_open(&src, scratch, url, &e), 0);
	assert_true(src.is_mirror);
	assert_non_null(strstr(src.git_dir, "/repos/repo-"));
	assert_int_equal(ws_resolve(&src, NULL, NULL, &c, &e), 0);
	assert_string_equal(c.id, head);
	assert_string_equal(c.branch, "main");
	ws_commit_release(&c);
	assert_int_equal(ws_resolve(&src, "dev/x", NULL, &c, &e), 0);
	assert_string_equal(c.branch, "dev/x");
	ws_commit_release(&c);
	ws_source_release(&src);

	/* a new commit upstream and a deleted branch show up on the next open (fetch + prune) */
	sh("cd %s/repo && echo three > top.txt && git commit -q -am third && git branch -q -D dev/x", scratch);
	capture(head, sizeof(head), "git -C %s/repo rev-parse HEAD", scratch);
	assert_int_equal(ws_source_open(&src, scratch, url, &e), 0);
	assert_int_equal(ws_resolve(&src, NULL, NULL, &c, &e), 0);
	assert_string_equal(c.id, head);
	ws_commit_release(&c);
	assert_int_equal(ws_resolve(&src, "dev/x", NULL, &c, &e), -1);
	ws_commit_release(&c);
	ws_source_release(&src);
	err_release(&e);
}

static void test_not_a_repo(void **state)
{
	struct ws_source src;
	struct err e = ERR_INIT;
	(void)state;
	assert_int_equal(ws_source_open(&src, scratch, scratch, &e), -1);
	assert_non_null(strstr(err_msg(&e), "not a git repository"));
	ws_source_release(&src);
	err_release(&e);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_is_url),
		cmocka_unit_test(test_resolve_head_branch_tag_sha),
		cmocka_unit_test(test_checkout_leaves_source_alone),
		cmocka_unit_test(test_tree_id),
		cmocka_unit_test(test_file_url_mirror),
		cmocka_unit_test(test_not_a_repo),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
