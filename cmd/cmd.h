/* cmd.h - what every subcommand shares: the global context, the command table entry, option parsing.
 * Only cmd/ prints to stdout or decides exit codes; business logic lives in ci/ cd/ checks/ registry/. */
#ifndef MLCI_CMD_H
#define MLCI_CMD_H

#include <stdio.h>

#include "common/strvec.h"

struct cmd_ctx {
	const char *home; /* --home, else $MLCI_HOME, else ./.mlci */
	int json;         /* -o json */
	int quiet;        /* -q */
	int verbose;      /* -v (repeatable) */
	int color;        /* stdout is a TTY and NO_COLOR is unset */
	int err_color;    /* the same for stderr */
};

/* One option of a command; the same table drives parsing and --help. */
struct cmd_opt {
	char short_name; /* 0 = none */
	const char *long_name;
	const char *arg_name; /* NULL = a flag */
	const char *help;
	const char **str; /* where a string value goes (arg_name != NULL) */
	int *flag;        /* incremented for a flag (arg_name == NULL) */
};

struct cmd {
	const char *name;
	int (*fn)(int argc, char **argv, struct cmd_ctx *ctx);
	const char *summary;        /* one line for `mlci --help` */
	const char *usage;          /* "mlci run [options]" */
	const char *description;    /* paragraph for `mlci help CMD` */
	const struct cmd_opt *opts; /* terminated by a zeroed entry; may be NULL */
	int min_args, max_args;     /* positional arguments; max -1 = unbounded */
};

/* The table, alphabetical, terminated by a NULL name (cmd/commands.c). */
extern const struct cmd cmd_table[];
const struct cmd *cmd_find(const char *name);

/* Parse argv of command "c" (argv[0] is the command name). Common options (-o, -q, -v, --home) are
 * accepted anywhere. Positional arguments go to "args". Returns 0, CMD_HELP_SHOWN when --help was
 * printed, or 2 after printing a usage error to stderr. */
#define CMD_HELP_SHOWN (-100)
int cmd_parse(const struct cmd *c, int argc, char **argv, struct cmd_ctx *ctx, struct strvec *args);
void cmd_print_help(FILE *f, const struct cmd *c);
/* "mlci: error: ..." on stderr (red on a TTY). */
void cmd_error(const struct cmd_ctx *ctx, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Flush stdout and report a write error (full disk, closed pipe) as exit code 3. */
int cmd_finish(int code);
/* Parse a positive integer option value, printing a usage error naming "what". Returns 0 or 2. */
int cmd_parse_int(const struct cmd_ctx *ctx, const char *what, const char *s, int min, int max, int *out);

/* Colour helpers: return the escape sequence when "on", else "". */
const char *cmd_col(int on, const char *which);

int cmd_help(int argc, char **argv, struct cmd_ctx *ctx);
int cmd_init(int argc, char **argv, struct cmd_ctx *ctx);
int cmd_run(int argc, char **argv, struct cmd_ctx *ctx);
int cmd_validate(int argc, char **argv, struct cmd_ctx *ctx);
int cmd_version(int argc, char **argv, struct cmd_ctx *ctx);

#endif
