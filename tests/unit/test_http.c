/* test_http.c - unit tests of common/http.c against a real HTTP server (Python http.server on 127.0.0.1,
 * started here): methods, headers, bodies, Content-Type, statuses, HEAD, timeouts, refused connections,
 * the body bound, discarded bodies, the proxy switch, reuse of a response and the one global init. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "common/buf.h"
#include "common/clock.h"
#include "common/http.h"
#include "common/path.h"
#include "common/proc.h"
#include "tests/unit/testutil.h"
#include "common/banned.h"

extern char **environ;

/* /hello: JSON; /echo: "METHOD x-test=V expect=V len=N:BODY"; /status/N; /slow/MS; /big/N bytes. */
static const char server_py[] =
	"import http.server, os, sys, time\n"
	"class H(http.server.BaseHTTPRequestHandler):\n"
	"    def answer(self, code, body, ctype='text/plain'):\n"
	"        self.send_response(code)\n"
	"        self.send_header('Content-Type', ctype)\n"
	"        self.send_header('Content-Length', str(len(body)))\n"
	"        self.end_headers()\n"
	"        if self.command != 'HEAD':\n"
	"            self.wfile.write(body)\n"
	"    def handle_any(self):\n"
	"        p = self.path\n"
	"        n = int(self.headers.get('Content-Length') or 0)\n"
	"        data = self.rfile.read(n) if n else b''\n"
	"        if p == '/hello':\n"
	"            self.answer(200, b'{\"ok\":true}', 'application/json; charset=utf-8')\n"
	"        elif p == '/echo':\n"
	"            head = '%s x-test=%s expect=%s len=%d:' % (self.command, self.headers.get('X-Test', ''),\n"
	"                                                      self.headers.get('Expect', ''), n)\n"
	"            self.answer(200, head.encode() + data)\n"
	"        elif p.startswith('/status/'):\n"
	"            self.answer(int(p[8:]), b'status ' + p[8:].encode())\n"
	"        elif p.startswith('/slow/'):\n"
	"            time.sleep(int(p[6:]) / 1000.0)\n"
	"            self.answer(200, b'late')\n"
	"        elif p.startswith('/big/'):\n"
	"            self.answer(200, b'x' * int(p[5:]))\n"
	"        else:\n"
	"            self.answer(404, b'no such path')\n"
	"    do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = handle_any\n"
	"    def log_message(self, *args):\n"
	"        pass\n"
	"s = http.server.ThreadingHTTPServer(('127.0.0.1', 0), H)\n"
	"s.daemon_threads = True\n"
	"with open(sys.argv[1] + '.tmp', 'w') as f:\n"
	"    f.write(str(s.server_address[1]))\n"
	"os.rename(sys.argv[1] + '.tmp', sys.argv[1])\n"
	"s.serve_forever()\n";

static char *scratch;
static struct proc server;
static int port;

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
	nanosleep(&ts, NULL);
}

static int setup(void **state)
{
	struct proc_opts o;
	struct err e = ERR_INIT;
	struct buf cmd = BUF_INIT, text = BUF_INIT;
	char *script, *portfile, *log;
	int64_t end;
	FILE *f;
	(void)state;
	if (!(scratch = test_scratch_dir("http")))
		return -1;
	script = path_join(scratch, "server.py");
	portfile = path_join(scratch, "port");
	log = path_join(scratch, "server.log");
	f = fopen(script, "w");
	if (!f || fputs(server_py, f) < 0 || fclose(f) != 0)
		return -1;
	buf_addstr(&cmd, "exec python3 ");
	buf_add_shquote(&cmd, script);
	buf_addch(&cmd, ' ');
	buf_add_shquote(&cmd, portfile);
	memset(&o, 0, sizeof(o));
	o.cmd = cmd.ptr;
	o.env = environ;
	o.log_path = log;
	o.stream_fd = -1;
	if (proc_start(&server, &o, &e) < 0) {
		fprintf(stderr, "could not start the server: %s\n", err_msg(&e));
		return -1;
	}
	for (end = clock_mono_ms() + 20000; !port && clock_mono_ms() < end; sleep_ms(20)) {
		buf_reset(&text);
		if (buf_read_file(&text, portfile) == 0)
			port = atoi(text.ptr);
	}
	buf_release(&cmd);
	buf_release(&text);
	err_release(&e);
	free(script);
	free(portfile);
	free(log);
	return port > 0 ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	proc_release(&server); /* kills the server's process group */
	return test_scratch_remove(scratch);
}

static const char *url(const char *path)
{
	static char u[128];
	snprintf(u, sizeof(u), "http://127.0.0.1:%d%s", port, path);
	return u;
}

/* A port with no listener: bound a moment ago, never listened on. */
static int dead_port(int *fd)
{
	struct sockaddr_in a;
	socklen_t alen = sizeof(a);
	*fd = socket(AF_INET, SOCK_STREAM, 0);
	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(*fd, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(getsockname(*fd, (struct sockaddr *)&a, &alen), 0);
	return ntohs(a.sin_port);
}

static void test_get_json(void **state)
{
	struct http_req q;
	struct http_resp r;
	(void)state;
	memset(&q, 0, sizeof(q));
	q.url = url("/hello");
	http_resp_init(&r);
	assert_int_equal(http_do(&q, &r), 0);
	assert_int_equal(r.status, 200);
	assert_string_equal(r.body.ptr, "{\"ok\":true}");
	assert_int_equal(r.body.len, 11);
	assert_string_equal(r.ctype.ptr, "application/json; charset=utf-8");
	assert_true(r.latency_ms > 0);
	assert_int_equal(r.timed_out, 0);
	assert_string_equal(r.error, "");
	assert_null(r.lib_error);
	http_resp_release(&r);
}

static void test_methods_headers_body(void **state)
{
	static const char *const hs[] = { "X-Test: seven", NULL };
	struct http_req q;
	struct http_resp r;
	(void)state;
	memset(&q, 0, sizeof(q));
	q.url = url("/echo");
	q.headers = hs;
	q.body = "a=1\0tail"; /* body_len counts, not strlen: the NUL and what follows are sent */
	q.body_len = 8;
	http_resp_init(&r);
	assert_int_equal(http_do(&q, &r), 0); /* a body and no method: POST */
	assert_int_equal(r.status, 200);
	assert_int_equal(r.body.len, strlen("POST x-test=seven expect= len=8:") + 8);
	assert_memory_equal(r.body.ptr, "POST x-test=seven expect= len=8:a=1\0tail", r.body.len);
	assert_string_equal(r.ctype.ptr, "text/plain");

	q.method = "PUT";
	assert_int_equal(http_do(&q, &r), 0);
	assert_memory_equal(r.body.ptr, "PUT x-test=seven", 16);

	q.method = "DELETE";
	q.body = NULL;
	q.body_len = 0;
	q.headers = NULL;
	assert_int_equal(http_do(&q, &r), 0);
	assert_string_equal(r.body.ptr, "DELETE x-test= expect= len=0:");

	q.method = NULL; /* no body, no method: GET */
	assert_int_equal(http_do(&q, &r), 0);
	assert_string_equal(r.body.ptr, "GET x-test= expect= len=0:");
	http_resp_release(&r);
}

/* A large body goes out at once, without "Expect: 100-continue" and its round trip. */
static void test_large_body_no_expect(void **state)
{
	size_t n = 2u << 20;
	char *big = malloc(n);
	struct http_req q;
	struct http_resp r;
	(void)state;
	assert_non_null(big);
	memset(big, 'b', n);
	memset(&q, 0, sizeof(q));
	q.url = url("/echo");
	q.body = big;
	q.body_len = n;
	http_resp_init(&r);
	assert_int_equal(http_do(&q, &r), 0);
	assert_int_equal(r.status, 200);
	assert_non_null(strstr(r.body.ptr, "POST x-test= expect= len=2097152:bbb"));
	assert_int_equal(r.body.len, strlen("POST x-test= expect= len=2097152:") + n);
	http_resp_release(&r);
	free(big);
}

static void test_status_and_head(void **state)
{
	struct http_req q;
	struct http_resp r;
	(void)state;
	memset(&q, 0, sizeof(q));
	q.url = url("/status/503");
	http_resp_init(&r);
	assert_int_equal(http_do(&q, &r), 0); /* any answer is 0: the status is the caller's to judge */
	assert_int_equal(r.status, 503);
	assert_string_equal(r.body.ptr, "status 503");
	q.url = url("/status/404");
	assert_int_equal(http_do(&q, &r), 0);
	assert_int_equal(r.status, 404);

	q.url = url("/hello");
	q.method = "HEAD";
	assert_int_equal(http_do(&q, &r), 0);
	assert_int_equal(r.status, 200);
	assert_int_equal(r.body.len, 0);
	assert_string_equal(r.ctype.ptr, "application/json; charset=utf-8");
	http_resp_release(&r);
}

static void test_timeout(void **state)
{
	struct http_req q;
	struct http_resp r;
	int64_t t0;
	(void)state;
	memset(&q, 0, sizeof(q));
	q.url = url("/slow/3000");
	q.timeout_ms = 300;
	http_resp_init(&r);
	t0 = clock_mono_ms();
	assert_int_equal(http_do(&q, &r), -1);
	assert_true(clock_mono_ms() - t0 < 2500);
	assert_int_equal(r.status, 0);
	assert_int_equal(r.timed_out, 1);
	assert_string_equal(r.error, "timed out after 300 ms");
	assert_non_null(r.lib_error);
	assert_string_not_equal(r.lib_error, r.error);
	assert_true(r.latency_ms >= 250);

	/* the same response, reused: the error of the last request is gone */
	q.url = url("/slow/50");
	q.timeout_ms = 5000;
	assert_int_equal(http_do(&q, &r), 0);
	assert_int_equal(r.status, 200);
	assert_int_equal(r.timed_out, 0);
	assert_string_equal(r.error, "");
	assert_null(r.lib_error);
	assert_string_equal(r.body.ptr, "late");
	assert_true(r.latency_ms >= 50);
	http_resp_release(&r);
}

static void test_refused(void **state)
{
	struct http_req q;
	struct http_resp r;
	char u[64];
	int fd, p = dead_port(&fd);
	(void)state;
	snprintf(u, sizeof(u), "http://127.0.0.1:%d/", p);
	memset(&q, 0, sizeof(q));
	q.url = u;
	q.connect_timeout_ms = 2000;
	http_resp_init(&r);
	assert_int_equal(http_do(&q, &r), -1);
	assert_int_equal(r.status, 0);
	assert_int_equal(r.timed_out, 0);
	assert_non_null(r.lib_error);
	assert_string_equal(r.error, r.lib_error); /* not a timeout: libcurl's words */
	q.url = "ftp://127.0.0.1/";                /* http and https only */
	assert_int_equal(http_do(&q, &r), -1);
	assert_int_equal(r.status, 0);
	http_resp_release(&r);
	close(fd);
}

static void test_body_bound_and_discard(void **state)
{
	struct http_req q;
	struct http_resp r;
	(void)state;
	memset(&q, 0, sizeof(q));
	q.url = url("/big/5000");
	http_resp_init(&r);
	assert_int_equal(r.body.max, HTTP_MAX_BODY);
	assert_int_equal(http_do(&q, &r), 0);
	assert_int_equal(r.body.len, 5000);

	r.body.max = 1000;
	assert_int_equal(http_do(&q, &r), -1);
	assert_int_equal(r.status, 0);
	assert_string_equal(r.error, "response body larger than 1000 bytes");

	q.discard_body = 1; /* read to the end, keep nothing: no bound applies */
	assert_int_equal(http_do(&q, &r), 0);
	assert_int_equal(r.status, 200);
	assert_int_equal(r.body.len, 0);
	http_resp_release(&r);
}

/* env_proxy 0 connects directly whatever $http_proxy says; env_proxy 1 goes through it. */
static void test_proxy_switch(void **state)
{
	const char *names[] = { "http_proxy", "no_proxy", "NO_PROXY", "all_proxy", "ALL_PROXY" };
	char *saved[5], proxy[64];
	struct http_req q;
	struct http_resp r;
	int fd, p = dead_port(&fd);
	(void)state;
	for (int i = 0; i < 5; i++) {
		const char *v = getenv(names[i]);
		saved[i] = v ? strdup(v) : NULL;
		unsetenv(names[i]);
	}
	snprintf(proxy, sizeof(proxy), "http://127.0.0.1:%d", p);
	setenv("http_proxy", proxy, 1);
	memset(&q, 0, sizeof(q));
	q.url = url("/hello");
	http_resp_init(&r);
	assert_int_equal(http_do(&q, &r), 0);
	assert_int_equal(r.status, 200);
	q.env_proxy = 1;
	assert_int_equal(http_do(&q, &r), -1); /* the proxy refuses: it was used */
	assert_int_equal(r.status, 0);
	http_resp_release(&r);
	for (int i = 0; i < 5; i++) {
		if (saved[i])
			setenv(names[i], saved[i], 1);
		else
			unsetenv(names[i]);
		free(saved[i]);
	}
	close(fd);
}

static void *init_and_get(void *arg)
{
	struct http_req q;
	struct http_resp r;
	struct err e = ERR_INIT;
	long *status = arg;
	if (http_global_init(&e) == 0) {
		memset(&q, 0, sizeof(q));
		q.url = url("/hello");
		http_resp_init(&r);
		if (http_do(&q, &r) == 0)
			*status = r.status;
		http_resp_release(&r);
	}
	err_release(&e);
	return NULL;
}

/* Threads racing to the first http_global_init all find libcurl ready. */
static void test_global_init_threads(void **state)
{
	pthread_t t[6];
	long status[6] = { 0 };
	(void)state;
	url("/hello"); /* the static URL buffer is written before the threads read it */
	for (int i = 0; i < 6; i++)
		assert_int_equal(pthread_create(&t[i], NULL, init_and_get, &status[i]), 0);
	for (int i = 0; i < 6; i++) {
		pthread_join(t[i], NULL);
		assert_int_equal(status[i], 200);
	}
	assert_int_equal(http_global_init(NULL), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_global_init_threads),
		cmocka_unit_test(test_get_json),
		cmocka_unit_test(test_methods_headers_body),
		cmocka_unit_test(test_large_body_no_expect),
		cmocka_unit_test(test_status_and_head),
		cmocka_unit_test(test_timeout),
		cmocka_unit_test(test_refused),
		cmocka_unit_test(test_body_bound_and_discard),
		cmocka_unit_test(test_proxy_switch),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
