/* log.c - leveled logging to stderr ("mlci: warning: ...").
 * Must never write to stdout, which belongs to command output (tables, JSON). */
#include "common/log.h"

#include <stdarg.h>
#include <stdio.h>

#include "common/banned.h"

static enum log_level current = LOG_NORMAL;

void log_set_level(enum log_level level)
{
	current = level;
}

enum log_level log_get_level(void)
{
	return current;
}

__attribute__((format(printf, 3, 0))) static void emit(enum log_level level, const char *prefix, const char *fmt,
						       va_list ap)
{
	if (level > current)
		return;
	fputs("mlci: ", stderr);
	if (prefix)
		fputs(prefix, stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
}

#define LOG_FN(name, level, prefix)                                                                                    \
	void name(const char *fmt, ...)                                                                                \
	{                                                                                                              \
		va_list ap;                                                                                            \
		va_start(ap, fmt);                                                                                     \
		emit(level, prefix, fmt, ap);                                                                          \
		va_end(ap);                                                                                            \
	}

/* warnings are shown unless -q */
LOG_FN(log_warn, LOG_NORMAL, "warning: ")
LOG_FN(log_info, LOG_NORMAL, NULL)
LOG_FN(log_verbose, LOG_VERBOSE, NULL)
LOG_FN(log_debug, LOG_DEBUG, "debug: ")
