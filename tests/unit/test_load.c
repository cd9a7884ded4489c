/* test_load.c - unit tests of checks/load.c against a tiny HTTP/1.1 server on 127.0.0.1 run in a thread
 * of this process: exact request counts, latency vs an injected delay, error kinds, open vs closed loop. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "checks/load.h"
#include "common/alloc.h"
#include "common/banned.h"

/* ---- the test server: a pool of threads, each accepting and serving one connection at a time ---- */

/* Threads are created before the port is handed out, so no connection waits for a thread to start. */
#define POOL 8

struct server {
	int fd;
	int port;       /* set once listening: the readiness signal, no sleeps needed */
	int delay_ms;   /* before every answer */
	int fail_every; /* every Nth request answers 500 (0 = never) */
	int drop_every; /* every Nth request gets a partial answer and the connection is closed */
	int mode;       /* how answers are framed: enum answer_mode */
	int every;      /* MODE_CLOSE_HEADER, MODE_SILENT_CLOSE: every Nth answer closes the connection */
	char head[512]; /* the head of the last request, for the tests of its bytes */
	_Atomic int count, fails, drops, not_found, accepted, stopping;
	pthread_mutex_t lock;
	int conn_fd[POOL]; /* the connection each thread serves, -1 = none */
	pthread_t tid[POOL];
};

enum answer_mode {
	MODE_LENGTH,       /* Content-Length, keep-alive */
	MODE_CLOSE_HEADER, /* every Nth answer says "Connection: close" and the connection is closed */
	MODE_SILENT_CLOSE, /* every Nth answer, the connection is closed without notice (keep-alive expiry) */
	MODE_EOF_FRAMED,   /* no Content-Length: the body ends when the connection closes */
	MODE_CHUNKED,      /* Transfer-Encoding: chunked, keep-alive */
	MODE_GARBAGE,      /* not HTTP */
};

struct slot {
	struct server *s;
	int i;
};
static struct slot slots[POOL];

static int write_all(int fd, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* Serve requests on one keep-alive connection until the peer closes it or a drop is injected. */
static void serve_conn(struct server *s, int fd)
{
	static char bufs[POOL][65536];
	char *buf = NULL;
	size_t len = 0, cap = sizeof(bufs[0]);
	for (int i = 0; i < POOL; i++)
		if (s->conn_fd[i] == fd)
			buf = bufs[i];
	if (!buf)
		return;
	for (;;) {
		char *end = NULL, *cl;
		size_t head, body = 0;
		int n;
		while (!(end = memmem(buf, len, "\r\n\r\n", 4))) {
			ssize_t r;
			if (len == cap)
				return;
			r = recv(fd, buf + len, cap - len, 0);
			if (r < 0 && errno == EINTR)
				continue;
			if (r <= 0)
				return;
			len += (size_t)r;
		}
		head = (size_t)(end - buf) + 4;
		buf[head - 1] = 0;
		for (cl = buf; (cl = strchr(cl, '\n')); cl++)
			if (!strncasecmp(cl + 1, "content-length:", 15))
				body = (size_t)strtoul(cl + 16, NULL, 10);
		if (head + body > cap)
			return;
		while (len < head + body) {
			ssize_t r = recv(fd, buf + len, cap - len, 0);
			if (r <= 0)
				return;
			len += (size_t)r;
		}
		n = atomic_fetch_add(&s->count, 1) + 1;
		if (s->delay_ms) {
			struct timespec ts = { s->delay_ms / 1000, (long)(s->delay_ms % 1000) * 1000000L };
			while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
				;
		}
		pthread_mutex_lock(&s->lock);
		snprintf(s->head, sizeof(s->head), "%.*s", (int)sizeof(s->head) - 1, buf);
		pthread_mutex_unlock(&s->lock);
		if (s->mode != MODE_LENGTH) {
			static const char ok[] = "HTTP/1.1 200 OK\r\nContent-Length: 11\r\n\r\n{\"ok\":true}";
			static const char closing[] =
				"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 11\r\n\r\n"
				"{\"ok\":true}";
			static const char eof[] =
				"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n\r\n{\"ok\":true}";
			static const char chunked[] = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
						      "5\r\n{\"ok\"\r\n6\r\n:true}\r\n0\r\n\r\n";
			static const char garbage[] = "SSH-2.0-OpenSSH_9.2\r\n\r\n";
			int last = s->every && n % s->every == 0;
			const char *a = s->mode == MODE_CLOSE_HEADER && last ? closing
					: s->mode == MODE_EOF_FRAMED         ? eof
					: s->mode == MODE_CHUNKED            ? chunked
					: s->mode == MODE_GARBAGE            ? garbage
									     : ok;
			if (write_all(fd, a, strlen(a)) < 0 || last || s->mode == MODE_EOF_FRAMED ||
			    s->mode == MODE_GARBAGE)
				return;
			memmove(buf, buf + head + body, len - head - body);
			len -= head + body;
			continue;
		}
		if (!strncmp(buf, "HEAD ", 5)) {
			static const char hd[] = "HTTP/1.1 200 OK\r\nContent-Length: 11\r\n\r\n";
			if (write_all(fd, hd, sizeof(hd) - 1) < 0)
				return;
			memmove(buf, buf + head + body, len - head - body);
			len -= head + body;
			continue;
		}
		if (s->drop_every && n % s->drop_every == 0) {
			static const char part[] = "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\npartial";
			atomic_fetch_add(&s->drops, 1);
			write_all(fd, part, sizeof(part) - 1);
			return;
		}
		if (!strncmp(buf, "GET /404 ", 9)) {
			static const char nf[] = "HTTP/1.1 404 Not Found\r\nContent-Length: 9\r\n\r\nnot found";
			atomic_fetch_add(&s->not_found, 1);
			if (write_all(fd, nf, sizeof(nf) - 1) < 0)
				return;
		} else if (s->fail_every && n % s->fail_every == 0) {
			static const char err[] = "HTTP/1.1 500 Internal Server Error\r\nContent-Length: 4\r\n\r\nfail";
			atomic_fetch_add(&s->fails, 1);
			if (write_all(fd, err, sizeof(err) - 1) < 0)
				return;
		} else {
			static const char ok[] = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
						 "Content-Length: 11\r\n\r\n{\"ok\":true}";
			if (write_all(fd, ok, sizeof(ok) - 1) < 0)
				return;
		}
		memmove(buf, buf + head + body, len - head - body);
		len -= head + body;
	}
}

static void *pool_main(void *arg)
{
	struct slot *sl = arg;
	struct server *s = sl->s;
	for (;;) {
		int one = 1, fd = accept(s->fd, NULL, NULL);
		if (fd < 0) {
			if (!s->stopping && (errno == EINTR || errno == ECONNABORTED))
				continue;
			return NULL; /* the listening socket was shut down */
		}
		atomic_fetch_add(&s->accepted, 1);
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		pthread_mutex_lock(&s->lock);
		s->conn_fd[sl->i] = fd;
		pthread_mutex_unlock(&s->lock);
		if (!s->stopping)
			serve_conn(s, fd);
		pthread_mutex_lock(&s->lock);
		s->conn_fd[sl->i] = -1;
		close(fd);
		pthread_mutex_unlock(&s->lock);
	}
}

static void server_start(struct server *s, int delay_ms, int fail_every, int drop_every)
{
	struct sockaddr_in a;
	socklen_t alen = sizeof(a);
	memset(s, 0, sizeof(*s));
	s->delay_ms = delay_ms;
	s->fail_every = fail_every;
	s->drop_every = drop_every;
	pthread_mutex_init(&s->lock, NULL);
	s->fd = socket(AF_INET, SOCK_STREAM, 0);
	assert_true(s->fd >= 0);
	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(s->fd, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(listen(s->fd, 128), 0);
	for (int i = 0; i < POOL; i++) {
		s->conn_fd[i] = -1;
		slots[i].s = s;
		slots[i].i = i;
		assert_int_equal(pthread_create(&s->tid[i], NULL, pool_main, &slots[i]), 0);
	}
	assert_int_equal(getsockname(s->fd, (struct sockaddr *)&a, &alen), 0);
	s->port = ntohs(a.sin_port);
}

static void server_stop(struct server *s)
{
	s->stopping = 1;
	shutdown(s->fd, SHUT_RDWR);
	pthread_mutex_lock(&s->lock);
	for (int i = 0; i < POOL; i++)
		if (s->conn_fd[i] >= 0)
			shutdown(s->conn_fd[i], SHUT_RDWR);
	pthread_mutex_unlock(&s->lock);
	for (int i = 0; i < POOL; i++)
		pthread_join(s->tid[i], NULL);
	close(s->fd);
	pthread_mutex_destroy(&s->lock);
}

/* ---- helpers ---- */

static struct server srv;
static char url[128];
/* Under valgrind (~30x slower) and the sanitizers (first requests ~10 ms late), timing bounds widen;
 * counts stay exact. */
static int slow;

static int setup(void **state)
{
	(void)state;
	slow = getenv("MLCI_VALGRIND") != NULL;
#ifdef __SANITIZE_ADDRESS__
	slow = 1;
#endif
	return 0;
}

static void opts_init(struct check_load_opts *o, double rate, int64_t ms, int conns)
{
	memset(o, 0, sizeof(*o));
	o->url = url;
	o->rate = rate;
	o->duration_ms = ms;
	o->connections = conns;
	o->threads = 1;
	o->timeout_ms = 5000;
}

static void run_ok(const struct check_load_opts *o, struct check_load_result *r)
{
	struct err e = ERR_INIT;
	if (check_load_run(o, r, &e) < 0)
		fail_msg("check_load_run: %s", err_msg(&e));
	err_release(&e);
}

static double ms(uint64_t ns)
{
	return (double)ns / 1e6;
}

/* ---- tests ---- */

static void test_closed_loop_counts_match_server(void **state)
{
	struct check_load_opts o;
	struct check_load_result r;
	(void)state;
	server_start(&srv, 0, 0, 0);
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/x", srv.port);
	opts_init(&o, 0, 1000, 4);
	run_ok(&o, &r);
	server_stop(&srv);
	assert_true(r.requests > 100);
	assert_int_equal(r.requests, (uint64_t)srv.count);
	assert_int_equal(r.ok, r.requests);
	assert_int_equal(check_load_errors(&r), 0);
	assert_int_equal(r.latency.total, r.requests);
	assert_true(r.bytes_received >= r.requests * 11);
	assert_true(r.bytes_sent > 0);
	/* keep-alive: 4 connections for all requests */
	assert_true(srv.accepted <= 4);
	check_load_result_release(&r);
}

static void test_two_threads_merge(void **state)
{
	struct check_load_opts o;
	struct check_load_result r;
	const char *hdrs[] = { "X-Test: 1", NULL };
	(void)state;
	server_start(&srv, 0, 0, 0);
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/x", srv.port);
	opts_init(&o, 0, 500, 4);
	o.threads = 2;
	o.method = "POST";
	o.body = "{\"a\":1}";
	o.body_len = 7;
	o.headers = hdrs;
	run_ok(&o, &r);
	server_stop(&srv);
	assert_true(r.requests > 20);
	assert_int_equal(r.requests, (uint64_t)srv.count);
	assert_int_equal(r.latency.total, r.requests);
	assert_int_equal(check_load_errors(&r), 0);
	check_load_result_release(&r);
}

static void test_open_loop_exact_schedule(void **state)
{
	struct check_load_opts o;
	struct check_load_result r;
	(void)state;
	server_start(&srv, 0, 0, 0);
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/x", srv.port);
	opts_init(&o, 200, 1000, 4);
	run_ok(&o, &r);
	server_stop(&srv);
	/* 200 slots due in 1 s: every one sent (or, on a choked machine, left as backlog) */
	assert_int_equal(r.requests + r.unsent, 200);
	assert_int_equal(r.requests, (uint64_t)srv.count);
	assert_true(r.requests >= (slow ? 50 : 190));
	assert_true(r.target_qps == 200);
	check_load_result_release(&r);
}

/* A 20 ms server at 50 req/s: p50 is 20 ms +- 2 ms and p99 <= 25 ms. The machine is shared (2 cores,
 * other builds), so a run disturbed by the scheduler is repeated, up to 3 runs; counts must be exact in
 * every run, and a generator that adds latency of its own fails all three. */
static void test_latency_matches_injected_delay(void **state)
{
	struct check_load_opts o;
	struct check_load_result r;
	double p50 = 0, p99 = 0;
	int good = 0;
	(void)state;
	for (int attempt = 1; attempt <= 3 && !good; attempt++) {
		server_start(&srv, 20, 0, 0);
		snprintf(url, sizeof(url), "http://127.0.0.1:%d/x", srv.port);
		opts_init(&o, 50, 2000, 4);
		run_ok(&o, &r);
		server_stop(&srv);
		p50 = ms(check_hist_percentile(&r.latency, 50));
		p99 = ms(check_hist_percentile(&r.latency, 99));
		print_message("20 ms delay, run %d: %llu requests, p50 %.2f ms, p99 %.2f ms, max %.2f ms\n", attempt,
			      (unsigned long long)r.requests, p50, p99, ms(r.latency.max));
		assert_int_equal(r.requests, (uint64_t)srv.count);
		assert_true(r.requests + r.unsent == 100);
		assert_true(p50 >= 19.0);
		good = p50 <= (slow ? 40.0 : 22.0) && p99 <= (slow ? 80.0 : 25.0);
		check_load_result_release(&r);
	}
	assert_true(p50 <= (slow ? 40.0 : 22.0));
	assert_true(p99 <= (slow ? 80.0 : 25.0));
}

static void test_errors_by_kind(void **state)
{
	struct check_load_opts o;
	struct check_load_result r;
	(void)state;
	/* every 2nd request 500, every 3rd dropped (drops take precedence) */
	server_start(&srv, 0, 2, 3);
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/x", srv.port);
	opts_init(&o, 400, 500, 2); /* open loop: a bounded number of connections for the drops */
	run_ok(&o, &r);
	server_stop(&srv);
	print_message("errors: %llu requests, 5xx %llu, closed %llu, other %llu\n", (unsigned long long)r.requests,
		      (unsigned long long)r.errors[CHECK_LOAD_ERR_5XX],
		      (unsigned long long)r.errors[CHECK_LOAD_ERR_CLOSED],
		      (unsigned long long)r.errors[CHECK_LOAD_ERR_OTHER]);
	assert_int_equal(r.requests, (uint64_t)srv.count);
	assert_true(srv.fails > 0 && srv.drops > 0);
	assert_int_equal(r.errors[CHECK_LOAD_ERR_5XX], (uint64_t)srv.fails);
	assert_int_equal(r.errors[CHECK_LOAD_ERR_CLOSED], (uint64_t)srv.drops);
	assert_int_equal(r.errors[CHECK_LOAD_ERR_OTHER], 0);
	assert_int_equal(r.ok, r.requests - (uint64_t)srv.fails - (uint64_t)srv.drops);
	check_load_result_release(&r);

	/* 4xx */
	server_start(&srv, 0, 0, 0);
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/404", srv.port);
	opts_init(&o, 100, 300, 1);
	run_ok(&o, &r);
	server_stop(&srv);
	assert_true(r.requests > 0);
	assert_int_equal(r.errors[CHECK_LOAD_ERR_4XX], (uint64_t)srv.not_found);
	assert_int_equal(r.errors[CHECK_LOAD_ERR_4XX], r.requests);
	assert_true(check_load_error_rate(&r) == 1.0);
	check_load_result_release(&r);
}

/* --timeout is enforced by the event loop: a server slower than the timeout gives only timeouts, each
 * about --timeout after its send, and the run ends soon after its duration. */
static void test_timeout(void **state)
{
	struct check_load_opts o;
	struct check_load_result r;
	struct timespec a, b;
	double took;
	(void)state;
	server_start(&srv, 400, 0, 0);
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/x", srv.port);
	opts_init(&o, 0, 300, 1); /* closed loop, one connection */
	o.timeout_ms = 100;
	clock_gettime(CLOCK_MONOTONIC, &a);
	run_ok(&o, &r);
	clock_gettime(CLOCK_MONOTONIC, &b);
	server_stop(&srv);
	took = (double)(b.tv_sec - a.tv_sec) + (double)(b.tv_nsec - a.tv_nsec) / 1e9;
	print_message("timeouts: %llu requests, %llu timeouts, %.3f s\n", (unsigned long long)r.requests,
		      (unsigned long long)r.errors[CHECK_LOAD_ERR_TIMEOUT], took);
	assert_true(r.requests >= 2 && r.requests <= 4);
	assert_int_equal(r.errors[CHECK_LOAD_ERR_TIMEOUT], r.requests);
	assert_int_equal(r.latency.total, 0);
	assert_true(took < (slow ? 2.0 : 0.6));
	check_load_result_release(&r);
}

static void test_connect_error(void **state)
{
	struct check_load_opts o;
	struct check_load_result r;
	struct sockaddr_in a;
	socklen_t alen = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	(void)state;
	/* a port that was free a moment ago and has no listener now */
	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &alen), 0);
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/", ntohs(a.sin_port));
	opts_init(&o, 50, 300, 2);
	run_ok(&o, &r);
	close(fd);
	assert_true(r.requests > 0);
	assert_int_equal(r.errors[CHECK_LOAD_ERR_CONNECT], r.requests);
	assert_int_equal(r.latency.total, 0);
	check_load_result_release(&r);
}

/* Answers framed every way HTTP/1.1 allows are counted as complete, whatever closes the connection;
 * a connection closed by the server is opened again, a stale keep-alive connection costs no error. */
static void test_framing_and_reconnects(void **state)
{
	static const struct {
		int mode, every;
		const char *name;
	} cases[] = {
		{ MODE_CLOSE_HEADER, 3, "Connection: close every 3rd answer" },
		{ MODE_SILENT_CLOSE, 3, "silent close every 3rd answer" },
		{ MODE_EOF_FRAMED, 0, "body framed by the close" },
		{ MODE_CHUNKED, 0, "chunked" },
	};
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct check_load_opts o;
		struct check_load_result r;
		server_start(&srv, 0, 0, 0);
		srv.mode = cases[i].mode;
		srv.every = cases[i].every;
		snprintf(url, sizeof(url), "http://127.0.0.1:%d/x", srv.port);
		opts_init(&o, 0, 300, 2);
		run_ok(&o, &r);
		server_stop(&srv);
		print_message("%s: %llu requests, %d connections, %llu errors\n", cases[i].name,
			      (unsigned long long)r.requests, (int)srv.accepted,
			      (unsigned long long)check_load_errors(&r));
		assert_true(r.requests > 10);
		assert_int_equal(check_load_errors(&r), 0);
		assert_int_equal(r.requests, (uint64_t)srv.count);
		assert_int_equal(r.latency.total, r.requests);
		if (cases[i].mode == MODE_CHUNKED)
			assert_true(srv.accepted <= 2); /* kept alive */
		else
			assert_true((uint64_t)srv.accepted >=
				    r.requests / (cases[i].every ? (uint64_t)cases[i].every : 1));
		check_load_result_release(&r);
	}
}

/* An answer that is not HTTP counts as "other"; HEAD answers carry no body and are not waited for. */
static void test_not_http_and_head(void **state)
{
	struct check_load_opts o;
	struct check_load_result r;
	(void)state;
	server_start(&srv, 0, 0, 0);
	srv.mode = MODE_GARBAGE;
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/x", srv.port);
	opts_init(&o, 100, 300, 1);
	run_ok(&o, &r);
	server_stop(&srv);
	assert_true(r.requests > 0);
	assert_int_equal(r.errors[CHECK_LOAD_ERR_OTHER], r.requests);
	check_load_result_release(&r);

	server_start(&srv, 0, 0, 0);
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/h", srv.port);
	opts_init(&o, 0, 300, 1);
	o.method = "HEAD";
	o.timeout_ms = 200;
	run_ok(&o, &r);
	server_stop(&srv);
	assert_true(r.requests > 10);
	assert_int_equal(check_load_errors(&r), 0);
	assert_int_equal(r.requests, (uint64_t)srv.count);
	assert_true(srv.accepted <= 1);
	check_load_result_release(&r);
}

/* The bytes on the wire: request line with path and query, Host with the port, the caller's headers
 * (replacing a default of the same name), Content-Length of the body. */
static void test_request_bytes(void **state)
{
	struct check_load_opts o;
	struct check_load_result r;
	const char *hdrs[] = { "X-Test: 1", "Accept: application/json", NULL };
	char want[128];
	(void)state;
	server_start(&srv, 0, 0, 0);
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/v2/models/m/infer?x=1", srv.port);
	opts_init(&o, 0, 100, 1);
	o.body = "{\"a\":1}";
	o.body_len = 7;
	o.headers = hdrs;
	o.max_requests = 1;
	run_ok(&o, &r);
	server_stop(&srv);
	assert_int_equal(r.requests, 1);
	assert_int_equal(srv.count, 1);
	print_message("request head:\n%s\n", srv.head);
	assert_non_null(strstr(srv.head, "POST /v2/models/m/infer?x=1 HTTP/1.1\r\n"));
	snprintf(want, sizeof(want), "\r\nHost: 127.0.0.1:%d\r\n", srv.port);
	assert_non_null(strstr(srv.head, want));
	assert_non_null(strstr(srv.head, "\r\nContent-Length: 7\r\n"));
	assert_non_null(strstr(srv.head, "\r\nContent-Type: application/json\r\n"));
	assert_non_null(strstr(srv.head, "\r\nX-Test: 1\r\n"));
	assert_non_null(strstr(srv.head, "\r\nAccept: application/json\r\n"));
	assert_null(strstr(srv.head, "Accept: */*"));
	assert_int_equal(r.bytes_sent,
			 strlen(srv.head) + 1 + 7); /* head up to its last CRLF, the blank line's LF, body */
	check_load_result_release(&r);
}

static void test_closed_loop_beats_open_loop_target(void **state)
{
	struct check_load_opts o;
	struct check_load_result open, closed;
	(void)state;
	server_start(&srv, 0, 0, 0);
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/x", srv.port);
	opts_init(&o, 100, 1000, 2);
	run_ok(&o, &open);
	o.rate = 0;
	run_ok(&o, &closed);
	server_stop(&srv);
	print_message("open loop %.1f req/s (target 100), closed loop %.1f req/s\n", open.qps, closed.qps);
	assert_true(open.qps <= 101.0);
	assert_true(closed.qps > 100.0);
	assert_true(closed.qps > open.qps);
	assert_int_equal(open.requests + closed.requests, (uint64_t)srv.count);
	check_load_result_release(&open);
	check_load_result_release(&closed);
}

/* A 100 ms server, one connection, 50 req/s: request i is due at i*20 ms but can only be sent at
 * i*100 ms, so measured from the intended time latency grows to more than a second (wrk2's point). */
static void test_coordinated_omission_corrected(void **state)
{
	struct check_load_opts o;
	struct check_load_result r;
	double p50, p99;
	(void)state;
	server_start(&srv, 100, 0, 0);
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/x", srv.port);
	opts_init(&o, 50, 2000, 1);
	run_ok(&o, &r);
	server_stop(&srv);
	p50 = ms(check_hist_percentile(&r.latency, 50));
	p99 = ms(check_hist_percentile(&r.latency, 99));
	print_message("slow server: %llu sent, %llu unsent, p50 %.1f ms, p99 %.1f ms\n", (unsigned long long)r.requests,
		      (unsigned long long)r.unsent, p50, p99);
	assert_int_equal(r.requests, (uint64_t)srv.count);
	assert_true(r.requests <= 21);
	assert_int_equal(r.requests + r.unsent, 100);
	assert_true(p50 > 400.0);
	assert_true(p99 > 1000.0);
	assert_true(ms(check_hist_percentile(&r.latency, 1)) >= 99.0);
	check_load_result_release(&r);
}

static void test_thresholds(void **state)
{
	struct check_load_result r;
	struct check_load_thresholds t = { 0, 0, -1 };
	struct buf msg = BUF_INIT;
	(void)state;
	memset(&r, 0, sizeof(r));
	check_hist_init(&r.latency);
	for (int i = 1; i <= 100; i++)
		check_hist_record(&r.latency, (uint64_t)i * 1000000ULL); /* 1..100 ms */
	r.requests = 100;
	r.ok = 99;
	r.errors[CHECK_LOAD_ERR_5XX] = 1;
	r.qps = 250;
	assert_int_equal(check_load_evaluate(&r, &t, &msg), 0); /* nothing given: passes */
	assert_int_equal(msg.len, 0);
	t.p99_ms = 120;
	t.min_qps = 200;
	t.max_error_rate = 0.01;
	assert_int_equal(check_load_evaluate(&r, &t, &msg), 0);
	assert_non_null(strstr(msg.ptr, "p99 9"));
	assert_non_null(strstr(msg.ptr, "<= 120 ms"));
	buf_reset(&msg);
	t.p99_ms = 50;
	assert_int_equal(check_load_evaluate(&r, &t, &msg), 1);
	assert_non_null(strstr(msg.ptr, "> 50 ms"));
	buf_reset(&msg);
	t.p99_ms = 0;
	t.min_qps = 300;
	assert_int_equal(check_load_evaluate(&r, &t, &msg), 1);
	assert_non_null(strstr(msg.ptr, "250.0 req/s < 300 req/s"));
	buf_reset(&msg);
	t.min_qps = 0;
	t.max_error_rate = 0.001;
	assert_int_equal(check_load_evaluate(&r, &t, &msg), 1);
	assert_non_null(strstr(msg.ptr, "error rate 0.01 > 0.001"));
	buf_release(&msg);
	check_load_result_release(&r);
}

static void test_bad_options(void **state)
{
	struct check_load_opts o;
	struct check_load_result r;
	struct err e = ERR_INIT;
	(void)state;
	snprintf(url, sizeof(url), "http://127.0.0.1:1/");
	opts_init(&o, 10, 100, 0);
	assert_int_equal(check_load_run(&o, &r, &e), -1);
	assert_int_equal(e.code, MLCI_EUSAGE);
	check_load_result_release(&r);
	opts_init(&o, 10, 100, 2);
	o.threads = 3;
	assert_int_equal(check_load_run(&o, &r, &e), -1);
	assert_non_null(strstr(err_msg(&e), "threads"));
	check_load_result_release(&r);
	opts_init(&o, -1, 100, 2);
	assert_int_equal(check_load_run(&o, &r, &e), -1);
	check_load_result_release(&r);
	err_release(&e);
}

static void test_request_cap(void **state)
{
	struct check_load_opts o;
	struct check_load_result r;
	(void)state;
	server_start(&srv, 0, 0, 0);
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/x", srv.port);
	opts_init(&o, 0, 5000, 2);
	o.max_requests = 30;
	run_ok(&o, &r);
	server_stop(&srv);
	assert_int_equal(r.requests, 30);
	assert_int_equal(srv.count, 30);
	assert_true(r.capped);
	check_load_result_release(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_closed_loop_counts_match_server),
		cmocka_unit_test(test_two_threads_merge),
		cmocka_unit_test(test_open_loop_exact_schedule),
		cmocka_unit_test(test_latency_matches_injected_delay),
		cmocka_unit_test(test_errors_by_kind),
		cmocka_unit_test(test_timeout),
		cmocka_unit_test(test_connect_error),
		cmocka_unit_test(test_framing_and_reconnects),
		cmocka_unit_test(test_not_http_and_head),
		cmocka_unit_test(test_request_bytes),
		cmocka_unit_test(test_closed_loop_beats_open_loop_target),
		cmocka_unit_test(test_coordinated_omission_corrected),
		cmocka_unit_test(test_thresholds),
		cmocka_unit_test(test_bad_options),
		cmocka_unit_test(test_request_cap),
	};
	return cmocka_run_group_tests(tests, setup, NULL);
}
