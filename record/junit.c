/* junit.c - JUnit XML report of a run: testsuite = the run, testcase = "component.phase" step or a check,
 * <failure> for failed, <skipped> for skipped/cancelled/cached. It must not print or decide anything. */
#include "record/junit.h"

#include <string.h>

#include "common/buf.h"
#include "common/fs.h"
#include "common/banned.h"

/* XML text/attribute escaping; control characters other than tab/newline are dropped (not valid XML 1.0). */
static void esc(struct buf *b, const char *s)
{
	for (; s && *s; s++) {
		unsigned char c = (unsigned char)*s;
		switch (c) {
		case '&':
			buf_addstr(b, "&amp;");
			break;
		case '<':
			buf_addstr(b, "&lt;");
			break;
		case '>':
			buf_addstr(b, "&gt;");
			break;
		case '"':
			buf_addstr(b, "&quot;");
			break;
		case '\'':
			buf_addstr(b, "&apos;");
			break;
		default:
			if (c >= 0x20 || c == '\t' || c == '\n')
				buf_addch(b, (char)c);
		}
	}
}

int junit_write(const struct run_record *r, const char *path, struct err *e)
{
	struct buf x = BUF_INIT;
	size_t failures = 0, skipped = 0;
	int ret;

	for (size_t i = 0; i < r->n_steps; i++) {
		enum step_status st = r->steps[i].status;
		failures += st == STEP_FAILED;
		skipped += st == STEP_SKIPPED || st == STEP_CANCELLED || st == STEP_CACHED || st == STEP_PENDING;
	}
	for (size_t i = 0; i < r->checks.n; i++) {
		failures += r->checks.items[i].status == VERDICT_FAIL;
		skipped += r->checks.items[i].status == VERDICT_SKIPPED;
	}
	buf_addstr(&x, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites>\n  <testsuite name=\"");
	esc(&x, r->pipeline ? r->pipeline : "mlci");
	buf_addf(&x, "\" tests=\"%zu\" failures=\"%zu\" errors=\"%d\" skipped=\"%zu\" time=\"%.3f\" id=\"",
		 r->n_steps + r->checks.n, failures, r->status == RUN_ERROR ? 1 : 0, skipped,
		 (double)(r->finished_at_ms > r->started_at_ms ? r->finished_at_ms - r->started_at_ms : 0) / 1000.0);
	esc(&x, r->id);
	buf_addstr(&x, "\">\n    <properties>\n      <property name=\"commit\" value=\"");
	esc(&x, r->commit);
	buf_addstr(&x, "\"/>\n      <property name=\"branch\" value=\"");
	esc(&x, r->branch ? r->branch : "");
	buf_addstr(&x, "\"/>\n    </properties>\n");
	for (size_t i = 0; i < r->n_steps; i++) {
		const struct run_record_step *s = &r->steps[i];
		buf_addstr(&x, "    <testcase classname=\"");
		esc(&x, s->component);
		buf_addstr(&x, "\" name=\"");
		esc(&x, step_phase_name(s->phase));
		buf_addf(&x, "\" time=\"%.3f\"", (double)s->duration_ms / 1000.0);
		switch (s->status) {
		case STEP_FAILED:
			buf_addstr(&x, ">\n      <failure message=\"");
			esc(&x, s->reason ? s->reason : "failed");
			buf_addstr(&x, "\"/>\n    </testcase>\n");
			break;
		case STEP_SKIPPED:
		case STEP_CANCELLED:
		case STEP_CACHED:
		case STEP_PENDING:
			buf_addstr(&x, ">\n      <skipped message=\"");
			if (s->status == STEP_CACHED) {
				buf_addstr(&x, "cached from run ");
				esc(&x, s->cached_from);
			} else {
				esc(&x, s->reason ? s->reason : step_status_name(s->status));
			}
			buf_addstr(&x, "\"/>\n    </testcase>\n");
			break;
		default:
			buf_addstr(&x, "/>\n");
		}
	}
	/* checks: classname "checks", name = the check; warn passes with its summary in <system-out> */
	for (size_t i = 0; i < r->checks.n; i++) {
		const struct verdict *v = &r->checks.items[i];
		buf_addstr(&x, "    <testcase classname=\"checks\" name=\"");
		esc(&x, v->name);
		buf_addf(&x, "\" time=\"%.3f\">\n", (double)v->duration_ms / 1000.0);
		switch (v->status) {
		case VERDICT_FAIL:
			buf_addstr(&x, "      <failure message=\"");
			esc(&x, v->summary);
			buf_addstr(&x, "\"/>\n");
			break;
		case VERDICT_SKIPPED:
			buf_addstr(&x, "      <skipped message=\"");
			esc(&x, v->summary);
			buf_addstr(&x, "\"/>\n");
			break;
		case VERDICT_WARN:
			buf_addstr(&x, "      <system-out>warn: ");
			esc(&x, v->summary);
			buf_addstr(&x, "</system-out>\n");
			break;
		default:
			buf_addstr(&x, "      <system-out>");
			esc(&x, v->summary);
			buf_addstr(&x, "</system-out>\n");
		}
		buf_addstr(&x, "    </testcase>\n");
	}
	buf_addstr(&x, "  </testsuite>\n</testsuites>\n");
	ret = fs_write_atomic(path, x.ptr, x.len, 0644, e);
	buf_release(&x);
	return ret;
}
