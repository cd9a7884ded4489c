/* cmd.h - what every subcommand shares: the global context, the command table entry, option parsing.
 * Only cmd/ prints to stdout or decides exit codes; business logic lives in ci/ cd/ checks/ registry/. */
#ifndef MLCI_CMD_H
#define MLCI_CMD_H

#include <stdio.h>

#include "common/strvec.h"

struct cmd;
struct store;

struct cmd_ctx {
	const char *home; /* --home, else $MLCI_HOME, else ./.mlci */
	int json;         /* -o json */
	int quiet;        /* -q */
	int verbose;      /* -v (repeatable) */
	int color;        /* stdout is a TTY and NO_COLOR is unset */
	int err_color;    /* the same for stderr */
	/* set by cmd_run_command for the command it runs */
	const struct cmd *cmd; /* its table entry (usage, name) */
	struct store *store;   /* CMD_NEEDS_STORE: the open store of home; NULL when its database does not exist yet */
	int argc;              /* its arguments as given, argv[0] its name: only for what an option table */
	char **argv;           /* cannot say (load's repeatable --header) */
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

/* What cmd_run_command does for a command before calling it, git-style (git.c: RUN_SETUP, ...). */
enum {
	CMD_NEEDS_STORE =
		1 << 0,    /* open the store of ctx->home as ctx->store (NULL: no database yet), close it after */
	CMD_JSON = 1 << 1, /* prints JSON for -o json; a command without it refuses -o json (exit 2) */
};

/* A command gets its positional arguments (options are parsed into its cmd_opt table already) and the
 * context its flags asked for; it returns the exit code. */
struct cmd {
	const char *name;
	int (*fn)(struct strvec *args, struct cmd_ctx *ctx);
	unsigned flags;             /* CMD_* */
	const char *summary;        /* one line for `mlci --help` */
	const char *usage;          /* "mlci run [options]" */
	const char *description;    /* paragraph for `mlci help CMD` */
	const struct cmd_opt *opts; /* terminated by a zeroed entry; may be NULL */
	int min_args, max_args;     /* positional arguments; max -1 = unbounded */
};

/* The table, alphabetical, terminated by a NULL name (cmd/commands.c). */
extern const struct cmd cmd_table[];
const struct cmd *cmd_find(const char *name);

/* Run command "c" with argv (argv[0] is its name), git's run_builtin(): parse its options (cmd_parse),
 * print its help for --help, refuse -o json without CMD_JSON, do the setup its flags ask for, call it
 * with the positional arguments, release the setup, then flush stdout (cmd_finish). Returns the exit
 * code (cmd/dispatch.c). */
int cmd_run_command(const struct cmd *c, int argc, char **argv, struct cmd_ctx *ctx);
/* Parse argv of command "c" (argv[0] is the command name). Common options (-o, -q, -v, --home) are
 * accepted anywhere. Positional arguments go to "args". Returns 0, CMD_HELP_SHOWN when --help was
 * printed, or 2 after printing a usage error to stderr. */
#define CMD_HELP_SHOWN (-100)
int cmd_parse(const struct cmd *c, int argc, char **argv, struct cmd_ctx *ctx, struct strvec *args);
void cmd_print_help(FILE *f, const struct cmd *c);
/* `mlci --help`: the global usage and one line per command of the table (cmd/help.c). */
void cmd_print_usage(FILE *f);
/* "mlci: error: ..." on stderr (red on a TTY). */
void cmd_error(const struct cmd_ctx *ctx, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Flush stdout and report a write error (full disk, closed pipe) as exit code 3. */
int cmd_finish(int code);
/* Parse a positive integer option value, printing a usage error naming "what". Returns 0 or 2. */
int cmd_parse_int(const struct cmd_ctx *ctx, const char *what, const char *s, int min, int max, int *out);

/* Colour helpers: return the escape sequence when "on", else "". */
const char *cmd_col(int on, const char *which);

/* Aligned text tables and formatting shared by the query commands (cmd/table.c). A table collects
 * cells row by row (ncols per row), each with an optional colour, and prints them padded under a header. */
struct cJSON;
struct err;
struct cmd_tab {
	size_t ncols;
	unsigned right;        /* bit i set: column i is right-aligned */
	struct strvec cells;   /* header first, then the rows, row-major */
	struct strvec colours; /* colour name per cell, "" = none */
};
void cmd_tab_init(struct cmd_tab *t, unsigned right, size_t ncols, ...); /* ncols header strings follow */
void cmd_tab_add(struct cmd_tab *t, const char *colour, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
void cmd_tab_print(const struct cmd_tab *t, const struct cmd_ctx *ctx, const char *indent);
void cmd_tab_release(struct cmd_tab *t);
/* Print "j" as indented JSON with a newline. */
void cmd_print_json(const struct cJSON *j);
/* Format a duration member (milliseconds) as "1.23s" / "2m03s", "-" when null; a time member (ms
 * since the epoch) as UTC "2026-11-25 17:42:03"; a byte count as "12.3 KiB". */
void cmd_fmt_duration(char *out, size_t n, const struct cJSON *o, const char *key);
void cmd_fmt_time(char *out, size_t n, const struct cJSON *o, const char *key);
void cmd_fmt_size(char *out, size_t n, const struct cJSON *o, const char *key);
/* A JSON value as short text: strings bare, numbers %g, null "-", anything else compact JSON. */
void cmd_fmt_value(char *out, size_t n, const struct cJSON *v);
/* Colour name for a run or step status ("passed" green, "failed" red, ...). */
const char *cmd_status_colour(const char *status);
/* Print "e" through cmd_error and return its exit code (3 when unset). */
int cmd_fail(const struct cmd_ctx *ctx, struct err *e);

/* Promotion commands (cmd/promote.c): who runs mlci ($MLCI_ACTOR, a test/CI hook trusted only because
 * the CLI runs as that user, else the OS account), a model version argument, and an outcome printed
 * as text or JSON; returns the exit code (pending -> "pending_code"). */
#include <stdint.h>
struct promote_outcome;
const char *cmd_actor(void);
int cmd_parse_version(const struct cmd_ctx *ctx, const char *s, int64_t *out);
int cmd_print_outcome(const struct cmd_ctx *ctx, const char *what, const struct promote_outcome *o, int pending_code);

int cmd_approve(struct strvec *args, struct cmd_ctx *ctx);
int cmd_check(struct strvec *args, struct cmd_ctx *ctx);
int cmd_data(struct strvec *args, struct cmd_ctx *ctx);
int cmd_diff(struct strvec *args, struct cmd_ctx *ctx);
int cmd_help(struct strvec *args, struct cmd_ctx *ctx);
int cmd_history(struct strvec *args, struct cmd_ctx *ctx);
int cmd_init(struct strvec *args, struct cmd_ctx *ctx);
int cmd_lineage(struct strvec *args, struct cmd_ctx *ctx);
int cmd_load(struct strvec *args, struct cmd_ctx *ctx);
int cmd_logs(struct strvec *args, struct cmd_ctx *ctx);
int cmd_promote(struct strvec *args, struct cmd_ctx *ctx);
int cmd_registry(struct strvec *args, struct cmd_ctx *ctx);
int cmd_reject(struct strvec *args, struct cmd_ctx *ctx);
int cmd_run(struct strvec *args, struct cmd_ctx *ctx);
int cmd_rollback(struct strvec *args, struct cmd_ctx *ctx);
int cmd_runs(struct strvec *args, struct cmd_ctx *ctx);
int cmd_schema(struct strvec *args, struct cmd_ctx *ctx);
int cmd_show(struct strvec *args, struct cmd_ctx *ctx);
int cmd_status(struct strvec *args, struct cmd_ctx *ctx);
int cmd_unpin(struct strvec *args, struct cmd_ctx *ctx);
int cmd_validate(struct strvec *args, struct cmd_ctx *ctx);
int cmd_version(struct strvec *args, struct cmd_ctx *ctx);
int cmd_watch(struct strvec *args, struct cmd_ctx *ctx);

#endif
