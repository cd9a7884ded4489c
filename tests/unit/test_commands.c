/* test_commands.c - unit tests of the command table (cmd/commands.c) and cmd_run_command: every entry
 * is complete and documented (help, man page, README), setup flags work. Runs no pipeline, no network. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <ctype.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd/cmd.h"
#include "common/buf.h"
#include "common/error.h"
#include "common/path.h"
#include "registry/store.h"
#include "testutil.h"

#ifndef MLCI_SRCDIR
#define MLCI_SRCDIR "." /* the Makefile passes the source tree: docs/mlci.1 and README.md are read from it */
#endif

static char *scratch;

static int setup(void **state)
{
	(void)state;
	scratch = test_scratch_dir("commands");
	return scratch ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	return test_scratch_remove(scratch);
}

/* What one command printed and returned. */
struct result {
	int code;
	struct buf out, err;
};

static void result_release(struct result *r)
{
	buf_release(&r->out);
	buf_release(&r->err);
}

/* Run "mlci ARGV..." (argv[0] the command's name) through cmd_run_command with stdout and stderr in
 * files, the way main() calls it: home "home", no colour. No assertion runs while they are redirected. */
static void run_cmd(struct result *r, const char *home, int argc, const char **argv)
{
	const struct cmd *c = cmd_find(argv[0]);
	char *out = path_join(scratch, "stdout"), *err = path_join(scratch, "stderr");
	char *av[16];
	struct cmd_ctx ctx;
	int saved_out, saved_err, fo, fe;

	assert_non_null(c);
	assert_true(argc < 16);
	for (int i = 0; i < argc; i++)
		av[i] = (char *)argv[i];
	av[argc] = NULL;
	memset(&ctx, 0, sizeof(ctx));
	ctx.home = home;
	fo = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	fe = open(err, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	assert_true(fo >= 0 && fe >= 0);
	fflush(stdout);
	fflush(stderr);
	saved_out = dup(1);
	saved_err = dup(2);
	dup2(fo, 1);
	dup2(fe, 2);
	r->code = cmd_run_command(c, argc, av, &ctx);
	fflush(stdout);
	fflush(stderr);
	dup2(saved_out, 1);
	dup2(saved_err, 2);
	close(saved_out);
	close(saved_err);
	close(fo);
	close(fe);
	buf_init(&r->out, 0);
	buf_init(&r->err, 0);
	assert_int_equal(buf_read_file(&r->out, out), 0);
	assert_int_equal(buf_read_file(&r->err, err), 0);
	free(out);
	free(err);
}

/* cmd_print_help of "c", or the global usage for NULL, as a malloc'd string. */
static char *help_text(const struct cmd *c)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	assert_non_null(f);
	if (c)
		cmd_print_help(f, c);
	else
		cmd_print_usage(f);
	assert_int_equal(fclose(f), 0);
	return text;
}

static void test_table_is_alphabetical_and_found(void **state)
{
	size_t n = 0;
	(void)state;
	for (const struct cmd *c = cmd_table; c->name; c++, n++) {
		if (c != cmd_table && strcmp(c[-1].name, c->name) >= 0)
			fail_msg("the table is not alphabetical: '%s' before '%s'", c[-1].name, c->name);
		assert_ptr_equal(cmd_find(c->name), c);
	}
	assert_true(n >= 20);
	assert_null(cmd_find("frobnicate"));
	assert_null(cmd_find(""));
}

/* One option of command "c": named, explained, and either a flag or a value with somewhere to go. */
static void check_opt(const struct cmd *c, const struct cmd_opt *o)
{
	static const char *const common_long[] = { "output", "quiet", "verbose", "home", "help" };
	if (!o->long_name[0] || strspn(o->long_name, "abcdefghijklmnopqrstuvwxyz0123456789-") != strlen(o->long_name))
		fail_msg("%s: option '--%s' is not [a-z0-9-]+", c->name, o->long_name);
	if (!o->help || !o->help[0])
		fail_msg("%s: option '--%s' has no help", c->name, o->long_name);
	if (o->arg_name ? !o->str || o->flag || !o->arg_name[0] : !o->flag || o->str)
		fail_msg("%s: option '--%s' must be a flag (int *) or take a value (const char **)", c->name,
			 o->long_name);
	for (size_t i = 0; i < sizeof(common_long) / sizeof(common_long[0]); i++)
		if (!strcmp(o->long_name, common_long[i]))
			fail_msg("%s: option '--%s' hides the common option", c->name, o->long_name);
	if (o->short_name && strchr("oqvh", o->short_name))
		fail_msg("%s: option '-%c' hides a common option", c->name, o->short_name);
	for (const struct cmd_opt *p = c->opts; p != o; p++)
		if (!strcmp(p->long_name, o->long_name) || (o->short_name && p->short_name == o->short_name))
			fail_msg("%s: option '--%s' is defined twice", c->name, o->long_name);
}

static void test_every_entry_is_complete(void **state)
{
	(void)state;
	for (const struct cmd *c = cmd_table; c->name; c++) {
		size_t len = strlen(c->name);
		if (!len || len > 10 || strspn(c->name, "abcdefghijklmnopqrstuvwxyz-") != len)
			fail_msg("command name '%s' is not [a-z-]{1,10} (mlci --help aligns 10 columns)", c->name);
		if (!c->fn)
			fail_msg("%s: no function", c->name);
		if (c->flags & ~(unsigned)(CMD_NEEDS_STORE | CMD_JSON))
			fail_msg("%s: unknown flags %#x", c->name, c->flags);
		if (!c->summary || !c->summary[0] || strchr(c->summary, '\n') ||
		    c->summary[strlen(c->summary) - 1] == '.')
			fail_msg("%s: the summary must be one line without a final period", c->name);
		if (!c->usage || strncmp(c->usage, "mlci ", 5) || strncmp(c->usage + 5, c->name, len) ||
		    (c->usage[5 + len] && c->usage[5 + len] != ' '))
			fail_msg("%s: the usage must start with 'mlci %s'", c->name, c->name);
		if (!c->description || !c->description[0] || c->description[strlen(c->description) - 1] == '\n')
			fail_msg("%s: the description must be text without a final newline", c->name);
		if (c->min_args < 0 || (c->max_args != -1 && c->max_args < c->min_args) || c->max_args < -1)
			fail_msg("%s: min_args %d, max_args %d", c->name, c->min_args, c->max_args);
		for (const struct cmd_opt *o = c->opts; o && o->long_name; o++)
			check_opt(c, o);
	}
}

static void test_help_of_every_command(void **state)
{
	(void)state;
	for (const struct cmd *c = cmd_table; c->name; c++) {
		char *want = help_text(c);
		struct buf head = BUF_INIT;
		struct result r;
		const char *help_argv[] = { "help", c->name };
		const char *opt_argv[] = { c->name, "--help" };

		buf_addf(&head, "usage: %s\n\n%s\n", c->usage, c->description);
		if (strncmp(want, head.ptr, head.len))
			fail_msg("%s: help does not start with its usage and description", c->name);
		if (!strstr(want, "\ncommon options:\n  -o, --output FORMAT"))
			fail_msg("%s: help lacks the common options", c->name);
		for (const struct cmd_opt *o = c->opts; o && o->long_name; o++) {
			buf_reset(&head);
			buf_addf(&head, "--%s%s%s ", o->long_name, o->arg_name ? " " : "",
				 o->arg_name ? o->arg_name : "");
			if (!strstr(want, "\noptions:\n") || !strstr(want, head.ptr))
				fail_msg("%s: help lacks option '%s'", c->name, head.ptr);
		}
		buf_release(&head);

		run_cmd(&r, scratch, 2, opt_argv); /* mlci CMD --help: before any setup */
		if (r.code || strcmp(r.out.ptr, want) || r.err.len)
			fail_msg("mlci %s --help: exit %d, stderr '%s'", c->name, r.code, r.err.ptr);
		result_release(&r);
		run_cmd(&r, scratch, 2, help_argv); /* mlci help CMD */
		if (r.code || strcmp(r.out.ptr, want) || r.err.len)
			fail_msg("mlci help %s: exit %d, stderr '%s'", c->name, r.code, r.err.ptr);
		result_release(&r);
		free(want);
	}
}

static void test_help_without_and_with_unknown_command(void **state)
{
	const char *bare[] = { "help" }, *unknown[] = { "help", "frobnicate" };
	char *usage = help_text(NULL);
	struct result r;
	(void)state;
	run_cmd(&r, scratch, 1, bare);
	assert_int_equal(r.code, 0);
	assert_string_equal(r.out.ptr, usage);
	for (const struct cmd *c = cmd_table; c->name; c++) {
		char line[256];
		snprintf(line, sizeof(line), "\n  %-10s %s\n", c->name, c->summary);
		if (!strstr(usage, line))
			fail_msg("mlci --help does not list %s", c->name);
	}
	result_release(&r);
	run_cmd(&r, scratch, 2, unknown);
	assert_int_equal(r.code, 2);
	assert_string_equal(r.out.ptr, "");
	assert_string_equal(r.err.ptr, "mlci: error: unknown command 'frobnicate' (see 'mlci --help')\n");
	result_release(&r);
	free(usage);
}

/* -o json on a command without CMD_JSON is a usage error, never text where JSON was asked for. */
static void test_json_needs_the_flag(void **state)
{
	const char *version[] = { "version", "-o", "json" };
	struct result r;
	int refused = 0;
	(void)state;
	for (const struct cmd *c = cmd_table; c->name; c++) {
		const char *argv[] = { c->name, "-o", "json" };
		char want[128];
		if (c->flags & CMD_JSON)
			continue;
		run_cmd(&r, scratch, 3, argv);
		snprintf(want, sizeof(want), "mlci: error: 'mlci %s' has no JSON output (-o json)\n", c->name);
		assert_int_equal(r.code, 2);
		assert_string_equal(r.out.ptr, "");
		assert_string_equal(r.err.ptr, want);
		result_release(&r);
		refused++;
	}
	assert_true(refused >= 1); /* help */
	run_cmd(&r, scratch, 3, version);
	assert_int_equal(r.code, 0);
	assert_true(r.out.ptr[0] == '{' && strstr(r.out.ptr, "\"mlci\":"));
	result_release(&r);
}

/* CMD_NEEDS_STORE: no database yet is an empty list or an unknown name (each command's words); a
 * database is opened and closed around the command; one that cannot be opened is exit 3. */
static void test_store_setup(void **state)
{
	const char *runs[] = { "runs", "-o", "json" }, *list[] = { "registry", "list", "-o", "json" };
	const char *show[] = { "show", "r1" }, *lineage[] = { "lineage", "m@1" };
	char *home = path_join(scratch, "home"), *db = path_join(home, "mlci.db");
	struct store st;
	struct err e = ERR_INIT;
	struct result r;
	char want[512];
	FILE *f;
	(void)state;

	run_cmd(&r, home, 3, runs);
	assert_int_equal(r.code, 0);
	assert_string_equal(r.out.ptr, "[]\n");
	assert_false(fs_exists(home)); /* a query creates nothing */
	result_release(&r);
	run_cmd(&r, home, 4, list);
	assert_int_equal(r.code, 0);
	assert_string_equal(r.out.ptr, "[]\n");
	result_release(&r);
	run_cmd(&r, home, 2, show);
	assert_int_equal(r.code, 2);
	snprintf(want, sizeof(want), "mlci: error: unknown run 'r1' (no runs recorded in %s yet)\n", home);
	assert_string_equal(r.err.ptr, want);
	result_release(&r);
	run_cmd(&r, home, 2, lineage);
	assert_int_equal(r.code, 2);
	snprintf(want, sizeof(want), "mlci: error: unknown model or artifact 'm@1' (nothing recorded in %s yet)\n",
		 home);
	assert_string_equal(r.err.ptr, want);
	result_release(&r);

	assert_int_equal(store_open(&st, home, &e), 0);
	store_close(&st);
	run_cmd(&r, home, 3, runs);
	assert_int_equal(r.code, 0);
	assert_string_equal(r.out.ptr, "[]\n");
	result_release(&r);
	run_cmd(&r, home, 2, show);
	assert_int_equal(r.code, 2);
	assert_non_null(strstr(r.err.ptr, "unknown run 'r1'"));
	assert_null(strstr(r.err.ptr, "yet"));
	result_release(&r);

	assert_int_equal(fs_rm_rf(home, &e), 0);
	assert_int_equal(fs_mkdir_p(home, 0755, &e), 0);
	f = fopen(db, "w");
	assert_non_null(f);
	fputs("not a database, but long enough for SQLite to read its header and say so...........", f);
	assert_int_equal(fclose(f), 0);
	run_cmd(&r, home, 3, runs);
	assert_int_equal(r.code, 3);
	assert_string_equal(r.out.ptr, "");
	assert_non_null(strstr(r.err.ptr, "mlci: error: could not open the store"));
	result_release(&r);
	err_release(&e);
	free(db);
	free(home);
}

/* Lines of "text" starting with "prefix" followed by a command name: each name must be in the table,
 * and the name ends at one of "ends". Returns how many such lines name "want" (NULL: any). */
static int doc_sections(const char *file, const char *text, const char *prefix, const char *ends, const char *want)
{
	size_t plen = strlen(prefix);
	int n = 0;
	for (const char *l = text; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL) {
		char name[32];
		size_t len;
		if (strncmp(l, prefix, plen))
			continue;
		len = strspn(l + plen, "abcdefghijklmnopqrstuvwxyz-");
		if (!len || len >= sizeof(name) || !strchr(ends, l[plen + len]))
			fail_msg("%s: a section '%.*s' does not name a command", file, (int)(plen + len + 8), l);
		memcpy(name, l + plen, len);
		name[len] = '\0';
		if (!cmd_find(name))
			fail_msg("%s documents 'mlci %s', which is not in the command table", file, name);
		n += !want || !strcmp(name, want);
	}
	return n;
}

/* Every command has a section in the man page (.SS "mlci CMD ...") and in the README (### `mlci CMD ...`),
 * and every such section is about a command of the table. */
static void test_every_command_is_documented(void **state)
{
	struct buf man = BUF_INIT, readme = BUF_INIT;
	(void)state;
	if (buf_read_file(&man, MLCI_SRCDIR "/docs/mlci.1") < 0 || buf_read_file(&readme, MLCI_SRCDIR "/README.md") < 0)
		fail_msg("could not read docs/mlci.1 and README.md under %s", MLCI_SRCDIR);
	for (const struct cmd *c = cmd_table; c->name; c++) {
		if (!doc_sections("docs/mlci.1", man.ptr, ".SS \"mlci ", " \"\n", c->name))
			fail_msg("docs/mlci.1 has no section .SS \"mlci %s ...\"", c->name);
		if (!doc_sections("README.md", readme.ptr, "### `mlci ", " `", c->name))
			fail_msg("README.md has no section ### `mlci %s ...`", c->name);
	}
	buf_release(&man);
	buf_release(&readme);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table_is_alphabetical_and_found),
		cmocka_unit_test(test_every_entry_is_complete),
		cmocka_unit_test(test_help_of_every_command),
		cmocka_unit_test(test_help_without_and_with_unknown_command),
		cmocka_unit_test(test_json_needs_the_flag),
		cmocka_unit_test(test_store_setup),
		cmocka_unit_test(test_every_command_is_documented),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
