/* opts.c - option parsing and help output driven by each command's cmd_opt table, plus the small
 * printing helpers every command shares (errors, colour, flushing stdout). */
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd/cmd.h"
#include "common/path.h"
#include "common/banned.h"

const char *cmd_col(int on, const char *which)
{
	if (!on)
		return "";
	if (!strcmp(which, "red"))
		return "\033[31m";
	if (!strcmp(which, "green"))
		return "\033[32m";
	if (!strcmp(which, "yellow"))
		return "\033[33m";
	if (!strcmp(which, "dim"))
		return "\033[2m";
	if (!strcmp(which, "bold"))
		return "\033[1m";
	return "\033[0m";
}

void cmd_error(const struct cmd_ctx *ctx, const char *fmt, ...)
{
	va_list ap;
	int c = ctx ? ctx->err_color : 0;
	fflush(stdout);
	fprintf(stderr, "mlci: %serror:%s ", cmd_col(c, "red"), cmd_col(c, "reset"));
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

int cmd_finish(int code)
{
	if (fflush(stdout) != 0 || ferror(stdout)) {
		fprintf(stderr, "mlci: error: could not write to standard output: %s\n", strerror(errno));
		return 3;
	}
	return code;
}

int cmd_parse_int(const struct cmd_ctx *ctx, const char *what, const char *s, int min, int max, int *out)
{
	char *end;
	long v;
	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || end == s || *end || v < min || v > max) {
		cmd_error(ctx, "invalid %s '%s' (expected an integer from %d to %d)", what, s, min, max);
		return 2;
	}
	*out = (int)v;
	return 0;
}

static const struct cmd_opt common_opts[] = {
	{ 'o', "output", "FORMAT", "output format: text (default) or json", NULL, NULL },
	{ 'q', "quiet", NULL, "print only errors and the result", NULL, NULL },
	{ 'v', "verbose", NULL, "more detail (-v streams step output)", NULL, NULL },
	{ 0, "home", "DIR", "mlci's state directory (default $MLCI_HOME, else ./.mlci)", NULL, NULL },
	{ 'h', "help", NULL, "show this help", NULL, NULL },
	{ 0, NULL, NULL, NULL, NULL, NULL },
};

static void print_opts(FILE *f, const struct cmd_opt *o)
{
	for (; o && o->long_name; o++) {
		char left[64];
		if (o->short_name)
			snprintf(left, sizeof(left), "-%c, --%s%s%s", o->short_name, o->long_name,
				 o->arg_name ? " " : "", o->arg_name ? o->arg_name : "");
		else
			snprintf(left, sizeof(left), "    --%s%s%s", o->long_name, o->arg_name ? " " : "",
				 o->arg_name ? o->arg_name : "");
		fprintf(f, "  %-26s %s\n", left, o->help);
	}
}

void cmd_print_help(FILE *f, const struct cmd *c)
{
	fprintf(f, "usage: %s\n\n%s\n", c->usage, c->description);
	if (c->opts && c->opts->long_name) {
		fprintf(f, "\noptions:\n");
		print_opts(f, c->opts);
	}
	fprintf(f, "\ncommon options:\n");
	print_opts(f, common_opts);
}

/* Find option by long name (len-limited) or short letter in the command's table, then the common one. */
static const struct cmd_opt *find_opt(const struct cmd *c, const char *lname, size_t llen, char sname, int *common)
{
	const struct cmd_opt *tables[2] = { c->opts, common_opts };
	for (int t = 0; t < 2; t++)
		for (const struct cmd_opt *o = tables[t]; o && o->long_name; o++)
			if ((lname && strlen(o->long_name) == llen && !strncmp(o->long_name, lname, llen)) ||
			    (!lname && sname && o->short_name == sname)) {
				*common = t == 1;
				return o;
			}
	return NULL;
}

static int apply_common(const struct cmd_opt *o, const char *val, struct cmd_ctx *ctx)
{
	if (!strcmp(o->long_name, "output")) {
		if (!strcmp(val, "json"))
			ctx->json = 1;
		else if (!strcmp(val, "text"))
			ctx->json = 0;
		else {
			cmd_error(ctx, "invalid output format '%s' (expected text or json)", val);
			return 2;
		}
	} else if (!strcmp(o->long_name, "quiet")) {
		ctx->quiet = 1;
	} else if (!strcmp(o->long_name, "verbose")) {
		ctx->verbose++;
	} else if (!strcmp(o->long_name, "home")) {
		/* absolute, like main() makes it: steps run elsewhere and get paths under it */
		static char abs_home[4096];
		char *a = path_absolute(val);
		if (a && (size_t)snprintf(abs_home, sizeof(abs_home), "%s", a) < sizeof(abs_home))
			val = abs_home;
		free(a);
		ctx->home = val;
	}
	return 0;
}

int cmd_parse(const struct cmd *c, int argc, char **argv, struct cmd_ctx *ctx, struct strvec *args)
{
	int only_args = 0;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		const struct cmd_opt *o = NULL;
		const char *val = NULL;
		int common = 0;
		if (only_args || a[0] != '-' || !a[1]) {
			strvec_push(args, a);
			continue;
		}
		if (!strcmp(a, "--")) {
			only_args = 1;
			continue;
		}
		if (a[1] == '-') {
			const char *eq = strchr(a + 2, '=');
			size_t len = eq ? (size_t)(eq - (a + 2)) : strlen(a + 2);
			o = find_opt(c, a + 2, len, 0, &common);
			if (!o) {
				cmd_error(ctx, "unknown option '%.*s' for 'mlci %s' (see 'mlci %s --help')",
					  (int)len + 2, a, c->name, c->name);
				return 2;
			}
			if (eq && !o->arg_name) {
				cmd_error(ctx, "option '--%s' takes no value", o->long_name);
				return 2;
			}
			val = eq ? eq + 1 : NULL;
		} else {
			o = find_opt(c, NULL, 0, a[1], &common);
			if (!o) {
				cmd_error(ctx, "unknown option '-%c' for 'mlci %s' (see 'mlci %s --help')", a[1],
					  c->name, c->name);
				return 2;
			}
			if (a[2]) {
				if (!o->arg_name) {
					cmd_error(ctx, "unknown option '%s' (flags cannot be combined)", a);
					return 2;
				}
				val = a + 2;
			}
		}
		if (o->arg_name && !val) {
			if (i + 1 >= argc) {
				cmd_error(ctx, "option '--%s' needs a value (%s)", o->long_name, o->arg_name);
				return 2;
			}
			val = argv[++i];
		}
		if (common && !strcmp(o->long_name, "help")) {
			cmd_print_help(stdout, c);
			return CMD_HELP_SHOWN;
		}
		if (common) {
			int r = apply_common(o, val, ctx);
			if (r)
				return r;
		} else if (o->arg_name) {
			*o->str = val;
		} else {
			(*o->flag)++;
		}
	}
	if ((int)args->n < c->min_args || (c->max_args >= 0 && (int)args->n > c->max_args)) {
		cmd_error(ctx, "wrong number of arguments for 'mlci %s'", c->name);
		fprintf(stderr, "usage: %s\n", c->usage);
		return 2;
	}
	return 0;
}
