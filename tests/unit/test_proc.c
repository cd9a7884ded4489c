/* test_proc.c - unit tests of common/proc.c: exit codes, logs, streaming, masking, the declared
 * environment, cwd, timeouts and process-group clean-up. Must not leave processes or files behind. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/alloc.h"
#include "common/buf.h"
#include "common/clock.h"
#include "common/fs.h"
#include "common/path.h"
#include "common/proc.h"
#include "common/banned.h"

/* Upper bound for every readiness loop: far above what any step here needs. */
#define LIMIT_MS 15000

static char *tmpdir;
/* Every proc a test uses lives here, so teardown can kill and reap it even after a failed assert. */
static struct proc procs[3];

static int setup(void **state)
{
	char tmpl[PATH_MAX];
	const char *t = getenv("TMPDIR");
	(void)state;
	snprintf(tmpl, sizeof(tmpl), "%s/mlci-test-proc-XXXXXX", t && *t ? t : "/tmp");
	if (!mkdtemp(tmpl))
		return -1;
	tmpdir = xstrdup(tmpl);
	memset(procs, 0, sizeof(procs));
	return 0;
}

static int teardown(void **state)
{
	struct err e = ERR_INIT;
	int r;
	(void)state;
	for (size_t i = 0; i < sizeof(procs) / sizeof(procs[0]); i++)
		proc_release(&procs[i]);
	/* killed background jobs re-parented to us (we are a subreaper) */
	while (waitpid(-1, NULL, WNOHANG) > 0)
		;
	r = fs_rm_rf(tmpdir, &e);
	err_release(&e);
	free(tmpdir);
	tmpdir = NULL;
	return r;
}

static char *tpath(const char *name)
{
	return path_join(tmpdir, name);
}

static char *slurp(const char *path)
{
	struct buf b = BUF_INIT;
	if (buf_read_file(&b, path) < 0)
		fail_msg("could not read '%s': %s", path, strerror(errno));
	return buf_detach(&b, NULL);
}

static void opts_init(struct proc_opts *o, const char *cmd, const char *log)
{
	memset(o, 0, sizeof(*o));
	o->cmd = cmd;
	o->log_path = log;
	o->stream_fd = -1;
}

/* Run to completion in procs[0], like proc_run but bounded by LIMIT_MS: a step that is not
 * stopped when it should be fails the test instead of hanging it (teardown then kills it). */
static struct proc *run(const struct proc_opts *o)
{
	struct err e = ERR_INIT;
	struct proc *one[1] = { &procs[0] };
	int64_t limit = clock_mono_ms() + LIMIT_MS;
	if (proc_start(&procs[0], o, &e) != 0)
		fail_msg("proc_start: %s", err_msg(&e));
	err_release(&e);
	while (proc_wait_any(one, 1, 100) != 0)
		if (clock_mono_ms() > limit)
			fail_msg("'%s' still running after %d ms", o->cmd, LIMIT_MS);
	assert_int_equal(procs[0].state, PROC_DONE);
	return &procs[0];
}

static struct proc *run_simple(const char *cmd)
{
	struct proc_opts o;
	opts_init(&o, cmd, NULL);
	return run(&o);
}

/* Pump "p" until "path" exists (the step signals readiness by creating it). */
static int wait_for_file(struct proc *p, const char *path)
{
	int64_t limit = clock_mono_ms() + LIMIT_MS;
	struct proc *one[1] = { p };
	while (!fs_exists(path)) {
		if (clock_mono_ms() > limit || p->state != PROC_RUNNING)
			return 0;
		proc_wait_any(one, 1, 20);
	}
	return 1;
}

static pid_t read_pid(const char *path)
{
	char *s = slurp(path);
	long v = strtol(s, NULL, 10);
	free(s);
	assert_true(v > 1);
	return (pid_t)v;
}

/* Wait (bounded) until "pid" no longer exists. The test process is a child subreaper, so an
 * orphaned grandchild is re-parented to us and reaped here; its status is returned (-1 when
 * someone else reaped it). Fails the test when the process is still alive after LIMIT_MS. */
static int assert_gone(pid_t pid)
{
	int64_t limit = clock_mono_ms() + LIMIT_MS;
	int status = -1;
	for (;;) {
		pid_t r = waitpid(pid, &status, WNOHANG);
		if (r == pid)
			break;
		if (r < 0 && errno == ECHILD && kill(pid, 0) < 0 && errno == ESRCH) {
			status = -1;
			break;
		}
		if (clock_mono_ms() > limit)
			fail_msg("process %ld is still alive", (long)pid);
		poll(NULL, 0, 10);
	}
	assert_int_equal(kill(pid, 0), -1);
	assert_int_equal(errno, ESRCH);
	return status;
}

/* ---------------------------------------------------------------- exit codes */

static void test_exit_zero(void **state)
{
	struct proc *p = run_simple("true");
	(void)state;
	assert_int_equal(p->exit_code, 0);
	assert_int_equal(p->term_signal, 0);
	assert_int_equal(p->timed_out, 0);
	assert_true(p->duration_ms >= 0);
	assert_int_equal(p->out_fd, -1);
}

static void test_exit_three(void **state)
{
	struct proc *p = run_simple("exit 3");
	(void)state;
	assert_int_equal(p->exit_code, 3);
	assert_int_equal(p->term_signal, 0);
}

static void test_proc_run(void **state)
{
	struct proc_opts o;
	struct err e = ERR_INIT;
	(void)state;
	opts_init(&o, "exit 5", NULL);
	assert_int_equal(proc_run(&procs[0], &o, &e), 0);
	assert_int_equal(procs[0].state, PROC_DONE);
	assert_int_equal(procs[0].exit_code, 5);
	proc_release(&procs[0]);
	/* no command: cannot start */
	opts_init(&o, NULL, NULL);
	assert_int_equal(proc_run(&procs[0], &o, &e), -1);
	assert_int_equal(e.code, MLCI_EINFRA);
	assert_int_equal(procs[0].state, PROC_IDLE);
	err_release(&e);
}

static void test_missing_command(void **state)
{
	struct proc_opts o;
	char *log = tpath("log");
	char *out;
	struct proc *p;
	(void)state;
	opts_init(&o, "mlci_no_such_command_xyz", log);
	p = run(&o);
	assert_int_equal(p->exit_code, 127);
	out = slurp(log);
	assert_non_null(strstr(out, "mlci_no_such_command_xyz"));
	assert_non_null(strstr(out, "not found"));
	free(out);
	free(log);
}

static void test_killed_by_signal(void **state)
{
	struct proc *p = run_simple("kill -9 $$");
	(void)state;
	assert_int_equal(p->exit_code, 128 + SIGKILL);
	assert_int_equal(p->term_signal, SIGKILL);
	assert_int_equal(p->timed_out, 0);
}

/* ---------------------------------------------------------------- output */

static void test_log_stdout_and_stderr(void **state)
{
	struct proc_opts o;
	char *log = tpath("step.log");
	char *out;
	(void)state;
	opts_init(&o, "echo out; echo err >&2; printf 'no newline'", log);
	run(&o);
	out = slurp(log);
	assert_string_equal(out, "out\nerr\nno newline");
	free(out);
	/* appended, not truncated: a log holds every phase of a step */
	run(&o);
	out = slurp(log);
	assert_string_equal(out, "out\nerr\nno newlineout\nerr\nno newline");
	free(out);
	free(log);
}

static void test_stream_with_prefix(void **state)
{
	struct proc_opts o;
	char *log = tpath("log");
	struct buf got = BUF_INIT;
	char *out;
	int fds[2];
	(void)state;
	assert_int_equal(pipe2(fds, O_CLOEXEC), 0);
	opts_init(&o, "echo one; echo two >&2; printf three", log);
	o.stream_fd = fds[1];
	o.stream_prefix = "job | ";
	run(&o);
	close(fds[1]);
	assert_int_equal(buf_read_fd(&got, fds[0]), 0);
	close(fds[0]);
	assert_string_equal(got.ptr, "job | one\njob | two\njob | three\n");
	out = slurp(log);
	assert_string_equal(out, "one\ntwo\nthree");
	free(out);
	free(log);
	buf_release(&got);
}

static void test_capture_bounded(void **state)
{
	struct proc_opts o;
	struct buf cap;
	struct proc *p;
	(void)state;
	buf_init(&cap, 5);
	opts_init(&o, "echo hello world; echo more", NULL);
	o.capture = &cap;
	p = run(&o);
	assert_int_equal(p->exit_code, 0);
	assert_string_equal(cap.ptr, "hello");
	buf_release(&cap);

	buf_init(&cap, 0);
	o.capture = &cap;
	run(&o);
	assert_string_equal(cap.ptr, "hello world\nmore\n");
	buf_release(&cap);
}

static void test_mask_secrets(void **state)
{
	static const char *const mask[] = { "secret", "line1\nline2", NULL };
	struct proc_opts o;
	char *log = tpath("log");
	struct buf cap = BUF_INIT, got = BUF_INIT;
	char *out;
	int fds[2];
	(void)state;
	assert_int_equal(pipe2(fds, O_CLOEXEC), 0);
	/* "sec" and "ret" reach the parent in two writes, usually in two reads */
	opts_init(&o,
		  "printf 'a sec'; sleep 0.1; printf 'ret b\\n'; echo secret; echo 'x line1 y line2'; "
		  "printf 'end secret'",
		  log);
	o.mask = mask;
	o.capture = &cap;
	o.stream_fd = fds[1];
	o.stream_prefix = "> ";
	run(&o);
	close(fds[1]);
	assert_int_equal(buf_read_fd(&got, fds[0]), 0);
	close(fds[0]);
	out = slurp(log);
	assert_string_equal(out, "a *** b\n***\nx *** y ***\nend ***");
	assert_string_equal(got.ptr, "> a *** b\n> ***\n> x *** y ***\n> end ***\n");
	/* the capture is the raw output */
	assert_non_null(strstr(cap.ptr, "a secret b\n"));
	free(out);
	free(log);
	buf_release(&cap);
	buf_release(&got);
}

/* A line far longer than the runner's line buffer is written out in pieces; no piece boundary
 * may let part of a secret through. */
static void test_mask_long_line(void **state)
{
	static const char *const mask[] = { "secret", NULL };
	struct proc_opts o;
	char *log = tpath("log");
	struct buf want = BUF_INIT;
	char *out;
	(void)state;
	opts_init(&o, "yes secretX | head -n 30000 | tr -d '\\n'", log);
	o.mask = mask;
	run(&o);
	for (int i = 0; i < 30000; i++)
		buf_addstr(&want, "***X");
	out = slurp(log);
	assert_null(strstr(out, "sec"));
	assert_null(strstr(out, "ret"));
	assert_int_equal(strlen(out), want.len);
	assert_string_equal(out, want.ptr);
	free(out);
	free(log);
	buf_release(&want);
}

/* ---------------------------------------------------------------- environment, cwd, fds */

static void test_env_exact(void **state)
{
	static char *const env[] = { "FOO=bar", "MLCI_SPACE=a b", NULL };
	struct proc_opts o;
	char *log = tpath("log");
	char *out, *line, *next;
	int foo = 0, space = 0;
	(void)state;
	setenv("MLCI_TEST_MUST_NOT_LEAK", "1", 1);
	opts_init(&o, "env", log);
	o.env = env;
	assert_int_equal(run(&o)->exit_code, 0);
	unsetenv("MLCI_TEST_MUST_NOT_LEAK");
	out = slurp(log);
	for (line = out; *line; line = next) {
		next = strchr(line, '\n');
		assert_non_null(next);
		*next++ = '\0';
		if (!strcmp(line, "FOO=bar"))
			foo++;
		else if (!strcmp(line, "MLCI_SPACE=a b"))
			space++;
		else if (strncmp(line, "PWD=", 4)) /* the shell adds PWD, nothing else may appear */
			fail_msg("unexpected variable in the step's environment: '%s'", line);
	}
	assert_int_equal(foo, 1);
	assert_int_equal(space, 1);
	free(out);
	free(log);
}

static void test_env_null_is_empty(void **state)
{
	struct proc_opts o;
	char *log = tpath("log");
	char *out, *line, *next;
	(void)state;
	setenv("MLCI_TEST_MUST_NOT_LEAK", "1", 1);
	opts_init(&o, "env", log);
	assert_int_equal(run(&o)->exit_code, 0);
	unsetenv("MLCI_TEST_MUST_NOT_LEAK");
	out = slurp(log);
	for (line = out; *line; line = next) {
		next = strchr(line, '\n');
		assert_non_null(next);
		*next++ = '\0';
		if (strncmp(line, "PWD=", 4))
			fail_msg("unexpected variable in an empty environment: '%s'", line);
	}
	free(out);
	free(log);
}

static void test_cwd(void **state)
{
	struct proc_opts o;
	struct err e = ERR_INIT;
	char *log = tpath("log");
	char *sub = tpath("sub dir");
	char real[PATH_MAX];
	char *out;
	struct buf want = BUF_INIT;
	(void)state;
	assert_int_equal(fs_mkdir_p(sub, 0755, &e), 0);
	assert_non_null(realpath(sub, real));
	opts_init(&o, "pwd -P", log);
	o.cwd = sub;
	assert_int_equal(run(&o)->exit_code, 0);
	buf_addf(&want, "%s\n", real);
	out = slurp(log);
	assert_string_equal(out, want.ptr);
	free(out);
	free(log);
	free(sub);
	buf_release(&want);
	err_release(&e);
}

static void test_missing_cwd(void **state)
{
	struct proc_opts o;
	char *log = tpath("log");
	char *missing = tpath("no/such/dir");
	struct buf want = BUF_INIT;
	struct proc *p;
	char *out;
	(void)state;
	opts_init(&o, "echo must not run", log);
	o.cwd = missing;
	p = run(&o);
	assert_int_not_equal(p->exit_code, 0);
	out = slurp(log);
	buf_addf(&want, "could not change directory to '%s': No such file or directory\n", missing);
	assert_non_null(strstr(out, want.ptr));
	assert_null(strstr(out, "must not run"));
	free(out);
	free(log);
	free(missing);
	buf_release(&want);
}

/* The step gets /dev/null as stdin (not ours) and no descriptor of ours, even one opened without
 * O_CLOEXEC. */
static void test_fds_and_stdin(void **state)
{
	struct proc_opts o;
	char *log = tpath("log");
	char *leak = tpath("leak");
	struct buf cmd = BUF_INIT;
	char *out;
	int fd, saved0, in[2];
	(void)state;
	fd = open(leak, O_WRONLY | O_CREAT, 0644); /* deliberately not O_CLOEXEC */
	assert_true(fd > 2);
	/* our stdin has data waiting: the step must not see it */
	assert_int_equal(pipe(in), 0);
	assert_int_equal(write(in[1], "from-parent\n", 12), 12);
	close(in[1]);
	saved0 = dup(0);
	assert_true(saved0 >= 0);
	assert_int_equal(dup2(in[0], 0), 0);
	close(in[0]);
	buf_addf(&cmd,
		 "readlink /proc/$$/fd/0; if [ -e /proc/$$/fd/%d ]; then echo leaked; else echo closed; fi; "
		 "cat; echo eof",
		 fd);
	opts_init(&o, cmd.ptr, log);
	run(&o);
	dup2(saved0, 0);
	close(saved0);
	close(fd);
	assert_int_equal(procs[0].exit_code, 0);
	out = slurp(log);
	assert_string_equal(out, "/dev/null\nclosed\neof\n");
	free(out);
	free(log);
	free(leak);
	buf_release(&cmd);
}

/* Ignored and blocked signals of mlci (SIGPIPE ignored, say) must reach neither the shell nor
 * the commands it starts. */
static void test_signals_reset(void **state)
{
	struct proc_opts o;
	char *log = tpath("log");
	struct sigaction ign, old_pipe;
	sigset_t block, old_mask;
	char *out, *at;
	int blk = 0, sigign = 0;
	(void)state;
	memset(&ign, 0, sizeof(ign));
	ign.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &ign, &old_pipe);
	sigemptyset(&block);
	sigaddset(&block, SIGUSR2);
	sigprocmask(SIG_BLOCK, &block, &old_mask);
	/* the shell's trap runs only if SIGUSR2 is not blocked in it; then a command's own status
	 * (/proc/$$ is no use: dash blocks signals for a moment around fork and wait) */
	opts_init(&o, "trap 'echo trapped' USR2; kill -USR2 $$; echo after; grep -E '^Sig(Blk|Ign):' /proc/self/status",
		  log);
	run(&o);
	sigaction(SIGPIPE, &old_pipe, NULL);
	sigprocmask(SIG_SETMASK, &old_mask, NULL);
	out = slurp(log);
	if (strncmp(out, "trapped\nafter\n", 14))
		fail_msg("the shell did not get SIGUSR2 at once: %s", out);
	for (at = out; (at = strstr(at, "Sig")); at += 7) {
		unsigned long long v = strtoull(at + 7, NULL, 16);
		if (!strncmp(at, "SigBlk:", 7)) {
			blk++;
			if (v)
				fail_msg("blocked signals reach the step: %s", out);
		} else if (!strncmp(at, "SigIgn:", 7)) {
			sigign++;
			if (v & (1ull << (SIGPIPE - 1)))
				fail_msg("an ignored SIGPIPE reaches the step: %s", out);
		}
	}
	assert_int_equal(blk, 1);
	assert_int_equal(sigign, 1);
	free(out);
	free(log);
}

/* ---------------------------------------------------------------- timeouts and process groups */

static void test_timeout_kills_group(void **state)
{
	struct proc_opts o;
	char *log = tpath("log");
	char *pidfile = tpath("pid");
	struct buf cmd = BUF_INIT;
	struct proc *p;
	pid_t gpid;
	int status;
	(void)state;
	buf_addf(&cmd, "sleep 300 & echo $! > '%s.tmp' && mv '%s.tmp' '%s'; wait", pidfile, pidfile, pidfile);
	opts_init(&o, cmd.ptr, log);
	o.timeout_ms = 1000;
	p = run(&o);
	assert_int_equal(p->timed_out, 1);
	assert_int_equal(p->term_signal, SIGTERM);
	assert_int_equal(p->exit_code, 128 + SIGTERM);
	assert_true(p->duration_ms >= 1000);
	assert_true(p->duration_ms < LIMIT_MS);
	assert_true(fs_exists(pidfile)); /* else the shell was too slow to start: raise timeout_ms */
	gpid = read_pid(pidfile);
	status = assert_gone(gpid);
	if (status != -1)
		assert_true(WIFSIGNALED(status));
	free(log);
	free(pidfile);
	buf_release(&cmd);
}

/* A step that ignores SIGTERM is killed with SIGKILL after the grace period. */
static void test_timeout_escalates_to_sigkill(void **state)
{
	struct proc_opts o;
	char *ready = tpath("ready");
	struct buf cmd = BUF_INIT;
	struct proc *p;
	(void)state;
	buf_addf(&cmd, "trap '' TERM; : > '%s'; sleep 300", ready);
	opts_init(&o, cmd.ptr, NULL);
	o.timeout_ms = 1000;
	p = run(&o);
	assert_true(fs_exists(ready)); /* the trap was in place before the deadline */
	assert_int_equal(p->timed_out, 1);
	assert_int_equal(p->term_signal, SIGKILL);
	assert_int_equal(p->exit_code, 128 + SIGKILL);
	assert_true(p->duration_ms >= 1000 + 2000);
	assert_true(p->duration_ms < LIMIT_MS);
	free(ready);
	buf_release(&cmd);
}

static void test_background_grandchild_killed(void **state)
{
	struct proc_opts o;
	char *log = tpath("log");
	char *pidfile = tpath("pid");
	struct buf cmd = BUF_INIT;
	struct proc *p;
	pid_t gpid;
	int status;
	char *out;
	(void)state;
	/* the background sleep keeps the output pipe open after the shell exits */
	buf_addf(&cmd, "sleep 300 & echo $! > '%s'; echo bye; exit 0", pidfile);
	opts_init(&o, cmd.ptr, log);
	p = run(&o);
	assert_int_equal(p->exit_code, 0);
	assert_int_equal(p->timed_out, 0);
	assert_true(p->duration_ms < LIMIT_MS);
	gpid = read_pid(pidfile);
	status = assert_gone(gpid);
	if (status != -1) {
		assert_true(WIFSIGNALED(status));
		assert_int_equal(WTERMSIG(status), SIGKILL);
	}
	out = slurp(log);
	assert_string_equal(out, "bye\n");
	free(out);
	free(log);
	free(pidfile);
	buf_release(&cmd);
}

/* A process that left the group (setsid) and keeps the pipe open cannot be killed with it; the
 * runner stops reading after a bounded drain instead of waiting for it. */
static void test_escaped_process_does_not_hang(void **state)
{
	struct proc_opts o;
	char *log = tpath("log");
	char *pidfile = tpath("pid");
	struct buf cmd = BUF_INIT;
	struct proc *p;
	pid_t escaped;
	int status;
	(void)state;
	if (access("/usr/bin/setsid", X_OK) < 0 && access("/bin/setsid", X_OK) < 0)
		skip();
	buf_addf(&cmd,
		 "setsid sh -c 'echo $$ > \"$1.tmp\" && mv \"$1.tmp\" \"$1\"; exec sleep 300' sh '%s' & "
		 "while [ ! -e '%s' ]; do sleep 0.01; done; echo done",
		 pidfile, pidfile);
	opts_init(&o, cmd.ptr, log);
	p = run(&o);
	assert_int_equal(p->exit_code, 0);
	assert_true(clock_mono_ms() - p->started_ms < LIMIT_MS);
	escaped = read_pid(pidfile);
	/* it is still alive (not in the group), so the drain limit is what ended the wait */
	assert_int_equal(kill(escaped, 0), 0);
	assert_int_equal(kill(escaped, SIGKILL), 0);
	status = assert_gone(escaped);
	if (status != -1)
		assert_int_equal(WTERMSIG(status), SIGKILL);
	{
		char *out = slurp(log);
		assert_string_equal(out, "done\n");
		free(out);
	}
	free(log);
	free(pidfile);
	buf_release(&cmd);
}

static void test_parallel(void **state)
{
	struct proc_opts o[2];
	struct proc *ps[2] = { &procs[0], &procs[1] };
	struct err e = ERR_INIT;
	char *log[2] = { tpath("a.log"), tpath("b.log") };
	char *rdy[2] = { tpath("a.ready"), tpath("b.ready") };
	struct buf cmd[2] = { BUF_INIT, BUF_INIT };
	int done[2] = { 0, 0 };
	int64_t limit = clock_mono_ms() + LIMIT_MS;
	(void)state;
	/* each step finishes only once the other one has started: they must run at the same time */
	for (int i = 0; i < 2; i++) {
		buf_addf(&cmd[i], ": > '%s'; while [ ! -e '%s' ]; do sleep 0.01; done; echo %s; echo %s-err >&2",
			 rdy[i], rdy[1 - i], i ? "B" : "A", i ? "B" : "A");
		opts_init(&o[i], cmd[i].ptr, log[i]);
		o[i].timeout_ms = LIMIT_MS;
		assert_int_equal(proc_start(ps[i], &o[i], &e), 0);
	}
	while (!done[0] || !done[1]) {
		int idx = proc_wait_any(ps, 2, -1);
		assert_true(clock_mono_ms() < limit);
		/* with wait_ms = -1 it returns only when one is done (or on a signal) */
		assert_int_not_equal(idx, -1);
		if (idx == -2)
			continue;
		assert_in_range(idx, 0, 1);
		assert_int_equal(done[idx], 0); /* each reported exactly once */
		done[idx] = 1;
		assert_int_equal(ps[idx]->state, PROC_DONE);
	}
	/* nothing running: returns at once */
	assert_int_equal(proc_wait_any(ps, 2, -1), -1);
	for (int i = 0; i < 2; i++) {
		char *out = slurp(log[i]);
		assert_int_equal(ps[i]->exit_code, 0);
		assert_int_equal(ps[i]->timed_out, 0);
		assert_string_equal(out, i ? "B\nB-err\n" : "A\nA-err\n");
		free(out);
		free(log[i]);
		free(rdy[i]);
		buf_release(&cmd[i]);
	}
	err_release(&e);
}

static void test_wait_ms_bounds(void **state)
{
	struct proc_opts o;
	struct proc *one[1] = { &procs[0] };
	struct err e = ERR_INIT;
	int64_t t0;
	(void)state;
	opts_init(&o, "sleep 300", NULL);
	assert_int_equal(proc_start(&procs[0], &o, &e), 0);
	t0 = clock_mono_ms();
	assert_int_equal(proc_wait_any(one, 1, 0), -1);
	assert_true(clock_mono_ms() - t0 < 1000);
	t0 = clock_mono_ms();
	assert_int_equal(proc_wait_any(one, 1, 150), -1);
	assert_true(clock_mono_ms() - t0 >= 150);
	assert_int_equal(procs[0].state, PROC_RUNNING);
	/* NULL entries and entries that are not running are skipped */
	{
		struct proc idle;
		struct proc *mixed[3] = { NULL, &idle, &procs[0] };
		memset(&idle, 0, sizeof(idle));
		assert_int_equal(proc_wait_any(mixed, 3, 0), -1);
	}
	proc_signal(&procs[0], SIGKILL);
	while (proc_wait_any(one, 1, -1) != 0)
		;
	assert_int_equal(procs[0].term_signal, SIGKILL);
	assert_int_equal(procs[0].timed_out, 0);
	err_release(&e);
}

static void test_release_kills_running(void **state)
{
	struct proc_opts o;
	char *pidfile = tpath("pid");
	struct buf cmd = BUF_INIT;
	struct err e = ERR_INIT;
	pid_t shell, gpid;
	(void)state;
	buf_addf(&cmd, "sleep 300 & echo $! > '%s.tmp' && mv '%s.tmp' '%s'; wait", pidfile, pidfile, pidfile);
	opts_init(&o, cmd.ptr, NULL);
	assert_int_equal(proc_start(&procs[0], &o, &e), 0);
	assert_true(wait_for_file(&procs[0], pidfile));
	shell = procs[0].pid;
	gpid = read_pid(pidfile);
	proc_release(&procs[0]);
	assert_int_equal(procs[0].out_fd, -1);
	assert_int_equal(procs[0].log_fd, -1);
	assert_int_equal(procs[0].term_signal, SIGKILL);
	/* the shell was reaped by proc_release itself */
	assert_int_equal(kill(shell, 0), -1);
	assert_int_equal(errno, ESRCH);
	assert_gone(gpid);
	/* releasing twice is harmless */
	proc_release(&procs[0]);
	free(pidfile);
	buf_release(&cmd);
	err_release(&e);
}

static volatile sig_atomic_t got_usr1;

static void on_usr1(int sig)
{
	(void)sig;
	got_usr1 = 1;
}

/* A signal for mlci (Ctrl-C, say) makes proc_wait_any return -2 instead of waiting on. */
static void test_eintr(void **state)
{
	struct proc_opts o;
	struct proc *one[1] = { &procs[0] };
	struct err e = ERR_INIT;
	struct sigaction sa, old;
	int r;
	(void)state;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_usr1;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGUSR1, &sa, &old);
	got_usr1 = 0;
	/* The signal is sent only once most of 1 MB has gone through the pipe (64 KiB at most
	 * fits in it), i.e. once we are reading inside proc_wait_any: no race with the call. */
	opts_init(&o, "head -c 1000000 /dev/zero; kill -USR1 $PPID; exec sleep 300", NULL);
	o.timeout_ms = LIMIT_MS;
	assert_int_equal(proc_start(&procs[0], &o, &e), 0);
	r = proc_wait_any(one, 1, -1);
	sigaction(SIGUSR1, &old, NULL);
	assert_int_equal(r, -2);
	assert_int_equal(got_usr1, 1);
	assert_int_equal(procs[0].state, PROC_RUNNING);
	assert_int_equal(procs[0].timed_out, 0);
	proc_release(&procs[0]);
	err_release(&e);
}

static int count_fds(void)
{
	int n = 0;
	for (int fd = 0; fd < 1024; fd++)
		if (fcntl(fd, F_GETFD) >= 0)
			n++;
	return n;
}

static void test_no_fd_leak(void **state)
{
	struct proc_opts o;
	char *log = tpath("log");
	char *badlog = tpath("no/such/dir/log");
	struct err e = ERR_INIT;
	int before = count_fds();
	(void)state;
	for (int i = 0; i < 5; i++) {
		opts_init(&o, "echo hi; sleep 300 &", log);
		run(&o);
		proc_release(&procs[0]);
	}
	opts_init(&o, "sleep 300", log);
	assert_int_equal(proc_start(&procs[0], &o, &e), 0);
	proc_release(&procs[0]);
	/* a log that cannot be opened fails the start cleanly */
	opts_init(&o, "true", badlog);
	assert_int_equal(proc_start(&procs[0], &o, &e), -1);
	assert_int_equal(e.code, MLCI_EINFRA);
	assert_non_null(strstr(err_msg(&e), badlog));
	assert_int_equal(procs[0].state, PROC_IDLE);
	proc_release(&procs[0]);
	assert_int_equal(count_fds(), before);
	free(log);
	free(badlog);
	err_release(&e);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_exit_zero),
		T(test_exit_three),
		T(test_proc_run),
		T(test_missing_command),
		T(test_killed_by_signal),
		T(test_log_stdout_and_stderr),
		T(test_stream_with_prefix),
		T(test_capture_bounded),
		T(test_mask_secrets),
		T(test_mask_long_line),
		T(test_env_exact),
		T(test_env_null_is_empty),
		T(test_cwd),
		T(test_missing_cwd),
		T(test_fds_and_stdin),
		T(test_signals_reset),
		T(test_timeout_kills_group),
		T(test_timeout_escalates_to_sigkill),
		T(test_background_grandchild_killed),
		T(test_escaped_process_does_not_hang),
		T(test_parallel),
		T(test_wait_ms_bounds),
		T(test_release_kills_running),
		T(test_eintr),
		T(test_no_fd_leak),
	};
	/* orphaned grandchildren come to us, so the tests can see how they died and reap them */
	prctl(PR_SET_CHILD_SUBREAPER, 1);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
