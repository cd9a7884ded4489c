/* test_template.c - unit tests of git/template.c: the embedded templates are complete, init writes
 * them and commits on main with libgit2, refuses non-empty directories and unknown templates. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "spec/spec.h"
#include "git/template.h"
#include "common/buf.h"
#include "common/fs.h"

static char scratch[256];

static int setup(void **state)
{
	(void)state;
	snprintf(scratch, sizeof(scratch), "%s/mlci-tpl.XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	return mkdtemp(scratch) ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	return fs_rm_rf(scratch, NULL);
}

static void test_default_template_is_embedded(void **state)
{
	struct strvec names = STRVEC_INIT;
	int have_spec = 0, have_data = 0, have_deploy_exec = 0;
	(void)state;
	template_names(&names);
	assert_true(strvec_contains(&names, "default"));
	strvec_clear(&names);
	for (const struct template_file *f = template_files; f->path; f++) {
		if (!strcmp(f->path, "default/mlci.yaml"))
			have_spec = 1;
		if (!strcmp(f->path, "default/data/breast_cancer.csv"))
			have_data = f->len > 100000;
		if (!strcmp(f->path, "default/scripts/deploy.sh"))
			have_deploy_exec = f->mode == 0755;
		assert_null(strstr(f->path, "__pycache__"));
	}
	assert_true(have_spec);
	assert_true(have_data);
	assert_true(have_deploy_exec);
}

static void test_template_spec_is_valid(void **state)
{
	struct spec s;
	struct diags d;
	(void)state;
	for (const struct template_file *f = template_files; f->path; f++) {
		const char *slash = strchr(f->path, '/');
		if (!slash || strcmp(slash, "/mlci.yaml"))
			continue;
		spec_init(&s);
		diags_init(&d);
		int r = spec_parse_buffer(&s, (const char *)f->data, f->len, f->path, &d);
		if (r) {
			struct buf b = BUF_INIT;
			for (size_t i = 0; i < d.n; i++) {
				diag_format(&d, i, &b);
				buf_addch(&b, '\n');
			}
			fail_msg("%s", b.ptr);
		}
		assert_int_equal(d.n, 0);
		spec_release(&s);
		diags_release(&d);
	}
}

static void test_init_writes_and_commits(void **state)
{
	struct err e = ERR_INIT;
	char dir[400], commit[41], cmd[1400], line[128] = "";
	struct stat st;
	FILE *p;
	(void)state;
	snprintf(dir, sizeof(dir), "%s/pipe", scratch);
	assert_int_equal(template_init("default", dir, commit, &e), 0);
	assert_int_equal(strlen(commit), 40);
	snprintf(cmd, sizeof(cmd), "%s/mlci.yaml", dir);
	assert_true(fs_is_file(cmd));
	snprintf(cmd, sizeof(cmd), "%s/scripts/deploy.sh", dir);
	assert_int_equal(stat(cmd, &st), 0);
	assert_true(st.st_mode & S_IXUSR);
	/* the git CLI sees one commit on main with a clean tree */
	snprintf(cmd, sizeof(cmd),
		 "git -C %s rev-parse HEAD && git -C %s symbolic-ref --short HEAD && "
		 "git -C %s status --porcelain | wc -l",
		 dir, dir, dir);
	p = popen(cmd, "r");
	assert_non_null(p);
	assert_non_null(fgets(line, sizeof(line), p));
	assert_int_equal(strncmp(line, commit, 40), 0);
	assert_non_null(fgets(line, sizeof(line), p));
	assert_string_equal(line, "main\n");
	assert_non_null(fgets(line, sizeof(line), p));
	assert_string_equal(line, "0\n");
	pclose(p);
	err_release(&e);
}

static void test_init_refuses_nonempty_and_unknown(void **state)
{
	struct err e = ERR_INIT;
	char dir[400], commit[41], f[500];
	(void)state;
	snprintf(dir, sizeof(dir), "%s/full", scratch);
	snprintf(f, sizeof(f), "%s/keep.txt", dir);
	assert_int_equal(fs_mkdir_p(dir, 0755, &e), 0);
	assert_int_equal(fs_write_atomic(f, "x", 1, 0644, &e), 0);
	assert_int_equal(template_init("default", dir, commit, &e), -1);
	assert_int_equal(e.code, MLCI_EUSAGE);
	assert_non_null(strstr(err_msg(&e), "is not empty"));
	snprintf(dir, sizeof(dir), "%s/other", scratch);
	assert_int_equal(template_init("nope", dir, commit, &e), -1);
	assert_non_null(strstr(err_msg(&e), "unknown template 'nope' (available: default"));
	assert_false(fs_exists(dir));
	err_release(&e);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_default_template_is_embedded),
		cmocka_unit_test(test_template_spec_is_valid),
		cmocka_unit_test(test_init_writes_and_commits),
		cmocka_unit_test(test_init_refuses_nonempty_and_unknown),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
