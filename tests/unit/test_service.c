/* test_service.c - unit tests of the service lifecycle in checks/service.c: a free port, MLCI_PORT and
 * readiness against a real HTTP server, early exit with the log tail, a never-ready service whose whole
 * process group (TERM ignored) is killed by service_stop, and a bounded wait. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "checks/service.h"
#include "common/alloc.h"
#include "common/buf.h"
#include "common/path.h"
#include "tests/unit/testutil.h"
#include "common/banned.h"

static char *scratch;
static char path_env[4096];

static int setup(void **state)
{
	const char *p = getenv("PATH");
	(void)state;
	scratch = test_scratch_dir("service");
	snprintf(path_env, sizeof(path_env), "PATH=%s", p && *p ? p : "/usr/bin:/bin");
	return scratch ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	return test_scratch_remove(scratch);
}

/* 1 while "pid" exists and is not a zombie. */
static int pid_alive(pid_t pid)
{
	char p[64], st = 0;
	FILE *f;
	if (kill(pid, 0) < 0 && errno == ESRCH)
		return 0;
	snprintf(p, sizeof(p), "/proc/%d/stat", (int)pid);
	f = fopen(p, "r");
	if (!f)
		return 0;
	if (fscanf(f, "%*d (%*[^)]) %c", &st) != 1)
		st = 0;
	fclose(f);
	return st != 'Z' && st != 0;
}

/* How many live (non-zombie) processes are in process group "pgid" (a zombie orphan waits for init). */
static int group_alive(pid_t pgid)
{
	DIR *d = opendir("/proc");
	struct dirent *de;
	int n = 0;
	if (!d)
		return 0;
	while ((de = readdir(d)) != NULL) {
		char p[300], st = 0;
		int pgrp = 0;
		FILE *f;
		if (de->d_name[0] < '0' || de->d_name[0] > '9')
			continue;
		snprintf(p, sizeof(p), "/proc/%s/stat", de->d_name);
		f = fopen(p, "r");
		if (!f)
			continue;
		if (fscanf(f, "%*d (%*[^)]) %c %*d %d", &st, &pgrp) == 2 && pgrp == (int)pgid && st != 'Z')
			n++;
		fclose(f);
	}
	closedir(d);
	return n;
}

static int start(struct service *s, const char *cmd, const char *log)
{
	const char *env[] = { path_env, "FOO=bar", NULL };
	struct service_start_opts o;
	struct err e = ERR_INIT;
	int r;
	memset(&o, 0, sizeof(o));
	o.cmd = cmd;
	o.cwd = scratch;
	o.env = env;
	o.log_path = log;
	r = service_start(s, &o, &e);
	if (r < 0)
		fail_msg("%s", err_msg(&e));
	err_release(&e);
	return r;
}

static void test_free_port(void **state)
{
	struct err e = ERR_INIT;
	int a = service_free_port(&e), b = service_free_port(&e);
	(void)state;
	assert_true(a > 0 && a < 65536);
	assert_true(b > 0 && b < 65536);
	err_release(&e);
}

static void test_ready_http_server(void **state)
{
	struct service s;
	struct buf why = BUF_INIT, tail = BUF_INIT;
	char *log = path_join(scratch, "http.log");
	char url[80];
	int code;
	(void)state;
	start(&s, "echo \"port=$MLCI_PORT foo=$FOO\"; exec python3 -m http.server \"$MLCI_PORT\" --bind 127.0.0.1",
	      log);
	snprintf(url, sizeof(url), "http://127.0.0.1:%d", s.port);
	assert_string_equal(s.base_url, url);
	if (service_wait_ready(&s, "/", 20000, &why) != 0)
		fail_msg("not ready: %s", why.ptr);
	assert_true(service_running(&s));
	code = service_stop(&s, 0);
	assert_true(code == 0 || code == 128 + SIGTERM);
	assert_int_equal(service_stop(&s, 0), -1); /* twice is fine */
	service_log_tail(log, 20, &tail);
	snprintf(url, sizeof(url), "port=%d foo=bar", s.port);
	assert_non_null(strstr(tail.ptr, url));
	buf_release(&why);
	buf_release(&tail);
	free(log);
}

static void test_exit_early_with_log_tail(void **state)
{
	struct service s;
	struct buf why = BUF_INIT, tail = BUF_INIT;
	char *log = path_join(scratch, "early.log");
	time_t t0 = time(NULL);
	(void)state;
	start(&s, "i=0; while [ $i -lt 30 ]; do echo line $i; i=$((i+1)); done; echo gone >&2; exit 3", log);
	assert_int_equal(service_wait_ready(&s, "/ready", 30000, &why), 1);
	assert_true(time(NULL) - t0 < 5); /* noticed at once, not at the timeout */
	assert_non_null(strstr(why.ptr, "the service exited with status 3"));
	assert_non_null(strstr(why.ptr, "before GET /ready answered 2xx"));
	assert_false(service_running(&s));
	assert_int_equal(service_stop(&s, 0), 3);
	service_log_tail(log, 3, &tail);
	assert_string_equal(tail.ptr, "line 28\nline 29\ngone");
	buf_release(&why);
	buf_release(&tail);
	free(log);
}

static void test_never_ready_group_killed(void **state)
{
	struct service s;
	struct buf why = BUF_INIT, pidtxt = BUF_INIT;
	char *log = path_join(scratch, "never.log"), *pidfile = path_join(scratch, "bg.pid");
	struct timespec t0, t1;
	pid_t bg, leader;
	int code;
	double ms;
	(void)state;
	/* nothing listens on MLCI_PORT; both the leader and a background child ignore SIGTERM */
	start(&s, "trap '' TERM; sleep 300 & echo $! >bg.pid; exec sleep 301", log);
	leader = s.proc.pid;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	assert_int_equal(service_wait_ready(&s, "/health", 400, &why), 1);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	ms = (double)(t1.tv_sec - t0.tv_sec) * 1000.0 + (double)(t1.tv_nsec - t0.tv_nsec) / 1e6;
	assert_true(ms >= 390 && ms < 2000);
	assert_non_null(strstr(why.ptr, "not ready after 0.4 s: GET /health: "));
	assert_true(service_running(&s));
	assert_int_equal(buf_read_file(&pidtxt, pidfile), 0);
	bg = (pid_t)atoi(pidtxt.ptr);
	assert_true(bg > 0 && pid_alive(bg));
	assert_int_equal(group_alive(leader), 2); /* sleep 301 (the leader) and sleep 300 */
	clock_gettime(CLOCK_MONOTONIC, &t0);
	code = service_stop(&s, 300);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	ms = (double)(t1.tv_sec - t0.tv_sec) * 1000.0 + (double)(t1.tv_nsec - t0.tv_nsec) / 1e6;
	assert_int_equal(code, 128 + SIGKILL); /* TERM was ignored: killed after the grace period */
	assert_true(ms >= 290 && ms < 3000);
	assert_false(pid_alive(leader));
	for (int i = 0; i < 200 && pid_alive(bg); i++)
		usleep(10000); /* the orphan is reaped by init */
	assert_false(pid_alive(bg));
	assert_int_equal(group_alive(leader), 0); /* nothing of the group is left */
	buf_release(&why);
	buf_release(&pidtxt);
	free(log);
	free(pidfile);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_free_port),
		cmocka_unit_test(test_ready_http_server),
		cmocka_unit_test(test_exit_early_with_log_tail),
		cmocka_unit_test(test_never_ready_group_killed),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
