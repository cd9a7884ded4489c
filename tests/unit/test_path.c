/* test_path.c - unit tests of common/path.c: joining, the lexical repo-relative check, normalising
 * and resolving under a root with real symlinks in a mkdtemp() directory. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/alloc.h"
#include "common/buf.h"
#include "common/error.h"
#include "common/fs.h"
#include "common/path.h"
#include "common/banned.h"

static char *tmpdir; /* scratch; holds "root" (the repository) and "outside" */
static char *root;   /* as given, not resolved */
static char *rroot;  /* realpath of root */
static char *outside;

static void mk(const char *rel)
{
	struct err e = ERR_INIT;
	char *p = path_join(tmpdir, rel);
	if (fs_mkdir_p(p, 0755, &e) < 0)
		fail_msg("%s", err_msg(&e));
	free(p);
	err_release(&e);
}

static void touch(const char *rel)
{
	struct err e = ERR_INIT;
	char *p = path_join(tmpdir, rel);
	if (fs_write_atomic(p, "x", 1, 0644, &e) < 0)
		fail_msg("%s", err_msg(&e));
	free(p);
	err_release(&e);
}

static void link_at(const char *target, const char *rel)
{
	char *p = path_join(tmpdir, rel);
	assert_int_equal(symlink(target, p), 0);
	free(p);
}

static int setup(void **state)
{
	char tmpl[PATH_MAX], real[PATH_MAX];
	const char *t = getenv("TMPDIR");
	(void)state;
	snprintf(tmpl, sizeof(tmpl), "%s/mlci-test-path-XXXXXX", t && *t ? t : "/tmp");
	if (!mkdtemp(tmpl))
		return -1;
	tmpdir = xstrdup(tmpl);
	root = path_join(tmpdir, "root");
	outside = path_join(tmpdir, "outside");
	mk("root/sub/deeper");
	mk("outside");
	touch("root/sub/file");
	touch("outside/secret");
	if (!realpath(root, real))
		return -1;
	rroot = xstrdup(real);
	return 0;
}

static int teardown(void **state)
{
	struct err e = ERR_INIT;
	int r;
	(void)state;
	r = fs_rm_rf(tmpdir, &e);
	err_release(&e);
	free(tmpdir);
	free(root);
	free(rroot);
	free(outside);
	return r;
}

static void check_join(const char *a, const char *b, const char *want)
{
	char *s = path_join(a, b);
	assert_string_equal(s, want);
	free(s);
}

static void test_join(void **state)
{
	(void)state;
	check_join("a", "b", "a/b");
	check_join("a/", "b", "a/b");
	check_join("a//", "/b", "a/b");
	check_join("/", "b", "/b");
	check_join("/x/y", "b/c", "/x/y/b/c");
	check_join("a", "", "a");
	check_join("", "b", "b");
}

static void check_rel(const char *rel, int ok, const char *why_part)
{
	const char *why = NULL;
	int r = path_check_relative(rel, &why);
	if (ok) {
		if (r != 0)
			fail_msg("'%s' refused: %s", rel, why);
		return;
	}
	if (r != -1)
		fail_msg("'%s' accepted", rel);
	assert_non_null(why);
	if (!strstr(why, why_part))
		fail_msg("'%s': reason '%s' lacks '%s'", rel, why, why_part);
}

static void test_check_relative(void **state)
{
	(void)state;
	check_rel("a/b", 1, NULL);
	check_rel("a/./b", 1, NULL);
	check_rel("a/../b", 1, NULL);
	check_rel("./a", 1, NULL);
	check_rel("a/b/", 1, NULL);
	check_rel("..a/b..", 1, NULL); /* dots inside names are names */
	check_rel("a/../../b", 0, "leaves");
	check_rel("..", 0, "leaves");
	check_rel("../x", 0, "leaves");
	check_rel("a/b/../../..", 0, "leaves");
	check_rel("/abs", 0, "absolute");
	check_rel("/", 0, "absolute");
	check_rel("", 0, "empty");
	check_rel(NULL, 0, "empty");
}

static void check_norm(const char *rel, int ok, const char *want)
{
	struct buf b = BUF_INIT;
	buf_addstr(&b, "stale"); /* the output is replaced, not appended to */
	assert_int_equal(path_normalise(rel, &b), ok ? 0 : -1);
	if (ok)
		assert_string_equal(b.ptr, want);
	buf_release(&b);
}

static void test_normalise(void **state)
{
	(void)state;
	check_norm("a/./b//c/../d", 1, "a/b/d");
	check_norm("./a/", 1, "a");
	check_norm("a/..", 1, "");
	check_norm(".", 1, "");
	check_norm("a/b/../../c", 1, "c");
	check_norm("abc/def/..", 1, "abc");
	check_norm("a/../..", 0, NULL);
	check_norm("../a", 0, NULL);
}

static void test_resolve_inside(void **state)
{
	struct buf out = BUF_INIT;
	struct err e = ERR_INIT;
	struct buf want = BUF_INIT;
	(void)state;
	/* an existing file */
	assert_int_equal(path_resolve_under(root, "sub/file", &out, &e), 0);
	buf_addf(&want, "%s/sub/file", rroot);
	assert_string_equal(out.ptr, want.ptr);
	/* a symlink that stays inside resolves to its target */
	link_at("sub", "root/in");
	link_at("../sub/deeper", "root/sub/up");
	assert_int_equal(path_resolve_under(root, "in/file", &out, &e), 0);
	assert_string_equal(out.ptr, want.ptr);
	assert_int_equal(path_resolve_under(root, "sub/up", &out, &e), 0);
	buf_reset(&want);
	buf_addf(&want, "%s/sub/deeper", rroot);
	assert_string_equal(out.ptr, want.ptr);
	/* a non-existent tail is appended unresolved */
	assert_int_equal(path_resolve_under(root, "in/new/deeper/x.csv", &out, &e), 0);
	buf_reset(&want);
	buf_addf(&want, "%s/sub/new/deeper/x.csv", rroot);
	assert_string_equal(out.ptr, want.ptr);
	/* lexical clean-up first */
	assert_int_equal(path_resolve_under(root, "./sub/../sub//file", &out, &e), 0);
	buf_reset(&want);
	buf_addf(&want, "%s/sub/file", rroot);
	assert_string_equal(out.ptr, want.ptr);
	/* the root itself */
	assert_int_equal(path_resolve_under(root, ".", &out, &e), 0);
	assert_string_equal(out.ptr, rroot);
	/* with "/" as the root everything absolute is inside */
	assert_int_equal(path_resolve_under("/", "no-such-dir-mlci/x", &out, &e), 0);
	assert_string_equal(out.ptr, "/no-such-dir-mlci/x");
	buf_release(&out);
	buf_release(&want);
	err_release(&e);
}

static void expect_refused(const char *rel, int code, const char *part)
{
	struct buf out = BUF_INIT;
	struct err e = ERR_INIT;
	if (path_resolve_under(root, rel, &out, &e) == 0)
		fail_msg("'%s' accepted as '%s'", rel, out.ptr);
	assert_int_equal(e.code, code);
	if (!strstr(err_msg(&e), part))
		fail_msg("'%s': message '%s' lacks '%s'", rel, err_msg(&e), part);
	buf_release(&out);
	err_release(&e);
}

static void test_resolve_outside(void **state)
{
	(void)state;
	link_at(outside, "root/out");             /* absolute link out */
	link_at("../../outside", "root/sub/rel"); /* relative link out */
	link_at("/", "root/slash");
	expect_refused("out", MLCI_EUSAGE, "leaves the repository");
	expect_refused("out/secret", MLCI_EUSAGE, "leaves the repository");
	expect_refused("out/not/yet/there", MLCI_EUSAGE, "leaves the repository");
	expect_refused("sub/rel/secret", MLCI_EUSAGE, "leaves the repository");
	expect_refused("slash/etc", MLCI_EUSAGE, "leaves the repository");
	/* lexical escapes never reach the filesystem */
	expect_refused("../outside/secret", MLCI_EUSAGE, "leaves the repository");
	expect_refused("a/../../b", MLCI_EUSAGE, "leaves the repository");
	expect_refused("/etc/passwd", MLCI_EUSAGE, "absolute");
	expect_refused("", MLCI_EUSAGE, "empty");
}

/* A symlink whose target does not exist (yet) must not be a way out: writing through it would
 * create the file outside the repository. */
static void test_resolve_dangling_link(void **state)
{
	struct buf out = BUF_INIT;
	struct err e = ERR_INIT;
	char *target = path_join(outside, "later");
	(void)state;
	link_at(target, "root/dangling");
	expect_refused("dangling", MLCI_EUSAGE, "dangling");
	expect_refused("dangling/x", MLCI_EUSAGE, "dangling");
	/* a dangling link pointing inside is refused too: it cannot be resolved */
	link_at("sub/not-yet", "root/dangling-in");
	expect_refused("dangling-in", MLCI_EUSAGE, "dangling");
	/* an ordinary missing path is still fine */
	assert_int_equal(path_resolve_under(root, "sub/missing", &out, &e), 0);
	free(target);
	buf_release(&out);
	err_release(&e);
}

static void test_resolve_bad_root(void **state)
{
	struct buf out = BUF_INIT;
	struct err e = ERR_INIT;
	char *missing = path_join(tmpdir, "no-root");
	(void)state;
	assert_int_equal(path_resolve_under(missing, "a", &out, &e), -1);
	assert_int_equal(e.code, MLCI_EINFRA);
	assert_non_null(strstr(err_msg(&e), missing));
	free(missing);
	buf_release(&out);
	err_release(&e);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

static void expect_abs(const char *in, const char *want)
{
	char *got = path_absolute(in);
	assert_non_null(got);
	assert_string_equal(got, want);
	free(got);
}

static void test_absolute(void **state)
{
	char cwd[4096], want[4200];
	(void)state;
	expect_abs("/a/b", "/a/b");
	expect_abs("/a/./b//c/", "/a/b/c");
	expect_abs("/a/b/../c", "/a/c");
	expect_abs("/a/../../b", "/b");
	expect_abs("/..", "/");
	expect_abs("/", "/");
	assert_non_null(getcwd(cwd, sizeof(cwd)));
	snprintf(want, sizeof(want), "%s/x", strcmp(cwd, "/") ? cwd : "");
	expect_abs("x", want);
	expect_abs("./y/../x", want);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_join),
		T(test_check_relative),
		T(test_normalise),
		T(test_resolve_inside),
		T(test_resolve_outside),
		T(test_resolve_dangling_link),
		T(test_resolve_bad_root),
		T(test_absolute),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
