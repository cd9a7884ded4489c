/* load.c - HTTP load generator: one event loop per thread over C keep-alive connections, open loop
 * (wrk2-style intended send times) or closed loop. libcurl opens each connection (CONNECT_ONLY through
 * a multi handle of its own, so connects never block the loop; TLS included) and moves its bytes
 * (curl_easy_send / curl_easy_recv); the request is built once (load_request.c) and answers are framed
 * by http_parser, as in wrk. Prints nothing. */
#include <curl/curl.h>
#include <errno.h>
#include <http_parser.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <sys/epoll.h>
#include <unistd.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "checks/load.h"
#include "checks/load_request.h"
#include "spec/spec.h"
#include "common/alloc.h"
#include "common/clock.h"
#include "common/http.h"
#include "common/banned.h"

#define NS_PER_S  1000000000ULL
#define NS_PER_MS 1000000ULL
#define RECV_BUF  65536

struct worker;

enum conn_state { CONN_DOWN, CONN_CONNECTING, CONN_UP };

/* One connection slot. "easy" and "multi" are set up once; "multi" holds only this connection, so
 * libcurl's connection cache housekeeping never touches another slot's connection. */
struct conn {
	CURL *easy;   /* owned; CURLOPT_CONNECT_ONLY */
	CURLM *multi; /* owned; drives the connect */
	struct worker *w;
	uint32_t idx;
	enum conn_state state;
	curl_socket_t fd;  /* CONN_UP: the connected socket, in the worker's epoll set */
	uint64_t curl_due; /* CONN_CONNECTING: when libcurl wants its timer run; 0 = not armed */
	int busy;          /* a request is in flight (maybe waiting for the connection) */
	int want_out;      /* EPOLLOUT is armed: part of the request is not sent yet */
	int retried;       /* the request was resent once after a stale keep-alive connection closed */
	size_t off;        /* bytes of the request sent */
	size_t got;        /* bytes of the answer received */
	uint64_t served;   /* answers completed on this connection since it was opened */
	uint64_t start_ns; /* intended (open loop) or actual (closed loop) send time */
	uint64_t sent_ns;  /* when the request was started: the timeout runs from it */
	http_parser parser;
	int complete;  /* the parser finished an answer */
	int head_only; /* the request is HEAD: answers have no body */
};

struct worker {
	pthread_t tid;
	const struct check_load_opts *o;
	const struct buf *request; /* shared, read-only: the bytes sent for every request */
	int index, nthreads;
	int nconn;
	struct conn *conns;
	struct conn **idle; /* stack of connections without a request in flight */
	int nidle;
	int nconnecting; /* connections in CONN_CONNECTING */
	int inflight;
	int epfd;
	char *rbuf;          /* RECV_BUF bytes */
	uint64_t t0, end;    /* CLOCK_MONOTONIC ns */
	uint64_t quota;      /* most requests this thread may send */
	uint64_t sent, next; /* requests sent; next schedule slot (open loop) */
	uint64_t last_done;  /* time of the last completion */
	uint64_t timeout_ns; /* --timeout, enforced by the loop */
	uint64_t next_scan;  /* next look for requests past the timeout */
	struct check_load_result res;
	_Atomic uint64_t done_a, errors_a; /* read by the progress reporter */
	int failed;
	char errmsg[256];
	/* shared with the caller: signalled when the worker ends */
	pthread_mutex_t *lock;
	pthread_cond_t *cond;
	int *finished;
};

const char *check_load_error_name(int kind)
{
	static const char *const names[CHECK_LOAD_NERR] = { "connect", "timeout", "4xx", "5xx", "closed", "other" };
	return kind >= 0 && kind < CHECK_LOAD_NERR ? names[kind] : "other";
}

uint64_t check_load_errors(const struct check_load_result *r)
{
	uint64_t n = 0;
	for (int i = 0; i < CHECK_LOAD_NERR; i++)
		n += r->errors[i];
	return n;
}

double check_load_error_rate(const struct check_load_result *r)
{
	return r->requests ? (double)check_load_errors(r) / (double)r->requests : 0.0;
}

static void result_init(struct check_load_result *r)
{
	memset(r, 0, sizeof(*r));
	check_hist_init(&r->latency);
}

void check_load_result_release(struct check_load_result *r)
{
	check_hist_release(&r->latency);
}

/* The intended send time of open-loop slot "j" of worker "w": the threads interleave, so slot j of
 * thread k is global request k + j*T, due at t0 + (k + j*T)/rate. */
static uint64_t slot_time(const struct worker *w, uint64_t j)
{
	double i = (double)w->index + (double)j * (double)w->nthreads;
	return w->t0 + (uint64_t)(i * (double)NS_PER_S / w->o->rate);
}

/* ---- answers: http_parser callbacks ---- */

static int on_headers_complete(http_parser *p)
{
	const struct conn *c = p->data;
	return c->head_only ? 1 : 0; /* 1: this answer has no body */
}

static int on_message_complete(http_parser *p)
{
	struct conn *c = p->data;
	if (p->status_code >= 100 && p->status_code < 200 && p->status_code != 101)
		return 0; /* an interim answer (100 Continue): the real one follows */
	c->complete = 1;
	http_parser_pause(p, 1); /* bytes after the answer are not ours to parse */
	return 0;
}

static http_parser_settings parser_settings = {
	.on_headers_complete = on_headers_complete,
	.on_message_complete = on_message_complete,
};

/* ---- epoll ---- */

/* An event's tag: the connection's index and the socket, so events of a socket closed meanwhile are
 * recognised as stale. */
static uint64_t tag(const struct conn *c, curl_socket_t fd)
{
	return (uint64_t)c->idx << 32 | (uint32_t)fd;
}

static void watch(struct worker *w, struct conn *c, curl_socket_t fd, uint32_t events)
{
	struct epoll_event ev;
	memset(&ev, 0, sizeof(ev));
	ev.events = events;
	ev.data.u64 = tag(c, fd);
	if (epoll_ctl(w->epfd, EPOLL_CTL_MOD, fd, &ev) < 0)
		epoll_ctl(w->epfd, EPOLL_CTL_ADD, fd, &ev);
}

/* libcurl's socket callback (one per connection's multi handle, while it connects). */
static int on_socket(CURL *easy, curl_socket_t fd, int what, void *userp, void *socketp)
{
	struct conn *c = userp;
	(void)easy;
	(void)socketp;
	if (what == CURL_POLL_REMOVE)
		epoll_ctl(c->w->epfd, EPOLL_CTL_DEL, fd, NULL); /* fails harmlessly when already closed */
	else
		watch(c->w, c, fd, (what & CURL_POLL_IN ? EPOLLIN : 0u) | (what & CURL_POLL_OUT ? EPOLLOUT : 0u));
	return 0;
}

/* libcurl's timer callback: remember when it wants to be called back (-1: never, 0: at once). */
static int on_timer(CURLM *multi, long timeout_ms, void *userp)
{
	struct conn *c = userp;
	(void)multi;
	c->curl_due = timeout_ms < 0 ? 0 : timeout_ms == 0 ? 1 : clock_mono_ns() + (uint64_t)timeout_ms * NS_PER_MS;
	return 0;
}

/* ---- connections ---- */

static int setup_conn(struct worker *w, struct conn *c, uint32_t idx)
{
	const struct check_load_opts *o = w->o;
	CURLcode rc = CURLE_OK;

	c->w = w;
	c->idx = idx;
	c->fd = CURL_SOCKET_BAD;
	c->head_only = o->method && !strcmp(o->method, "HEAD");
	c->easy = curl_easy_init();
	c->multi = curl_multi_init();
	if (!c->easy || !c->multi) {
		snprintf(w->errmsg, sizeof(w->errmsg), "could not set up a connection (libcurl init failed)");
		return -1;
	}
#define SET(opt, val)                                                                                                  \
	do {                                                                                                           \
		if (rc == CURLE_OK)                                                                                    \
			rc = curl_easy_setopt(c->easy, opt, val);                                                      \
	} while (0)
	SET(CURLOPT_URL, o->url);
	SET(CURLOPT_CONNECT_ONLY, 1L);
	SET(CURLOPT_NOSIGNAL, 1L);
	SET(CURLOPT_TCP_NODELAY, 1L);
	SET(CURLOPT_PROTOCOLS_STR, "http,https");
	/* the service itself is measured, as with wrk: no proxy from http_proxy & co */
	SET(CURLOPT_PROXY, "");
	SET(CURLOPT_CONNECTTIMEOUT_MS, (long)(o->timeout_ms > 0 ? o->timeout_ms : 10000));
	if (o->ca_file)
		SET(CURLOPT_CAINFO, o->ca_file);
#undef SET
	if (rc != CURLE_OK) {
		snprintf(w->errmsg, sizeof(w->errmsg), "could not set up a connection to '%s': %s", o->url,
			 curl_easy_strerror(rc));
		return -1;
	}
	curl_multi_setopt(c->multi, CURLMOPT_SOCKETFUNCTION, on_socket);
	curl_multi_setopt(c->multi, CURLMOPT_SOCKETDATA, (void *)c);
	curl_multi_setopt(c->multi, CURLMOPT_TIMERFUNCTION, on_timer);
	curl_multi_setopt(c->multi, CURLMOPT_TIMERDATA, (void *)c);
	curl_multi_setopt(c->multi, CURLMOPT_MAXCONNECTS, 1L);
	return 0;
}

/* Close the connection of "c" (if any); the slot can connect again. */
static void conn_close(struct worker *w, struct conn *c)
{
	if (c->state == CONN_UP)
		epoll_ctl(w->epfd, EPOLL_CTL_DEL, c->fd, NULL);
	if (c->state == CONN_CONNECTING)
		w->nconnecting--;
	if (c->state != CONN_DOWN)
		curl_multi_remove_handle(c->multi, c->easy); /* closes a CONNECT_ONLY connection */
	c->state = CONN_DOWN;
	c->fd = CURL_SOCKET_BAD;
	c->curl_due = 0;
	c->want_out = 0;
	c->served = 0;
}

static int conn_connect(struct worker *w, struct conn *c)
{
	CURLMcode mc = curl_multi_add_handle(c->multi, c->easy);
	if (mc != CURLM_OK) {
		snprintf(w->errmsg, sizeof(w->errmsg), "could not open a connection: %s", curl_multi_strerror(mc));
		return -1;
	}
	c->state = CONN_CONNECTING;
	w->nconnecting++;
	return 0;
}

/* Error kind of a failed connect. */
static int connect_error_kind(CURLcode rc)
{
	switch (rc) {
	case CURLE_COULDNT_CONNECT:
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_SSL_CACERT_BADFILE:
	case CURLE_SSL_CERTPROBLEM:
		return CHECK_LOAD_ERR_CONNECT;
	case CURLE_OPERATION_TIMEDOUT:
		return CHECK_LOAD_ERR_TIMEOUT;
	default:
		return CHECK_LOAD_ERR_OTHER;
	}
}

/* ---- requests ---- */

static int start_request(struct worker *w, struct conn *c, uint64_t start_ns, uint64_t now);
static int send_more(struct worker *w, struct conn *c, uint64_t t);

/* Count the request on "c" as finished at "t", with error "kind" (-1: a complete answer, classified
 * by its status), and in a closed loop send the next one on the same slot. */
static int request_done(struct worker *w, struct conn *c, int kind, uint64_t t)
{
	struct check_load_result *r = &w->res;
	int open_loop = w->o->rate > 0;

	if (kind < 0) {
		unsigned status = c->parser.status_code;
		check_hist_record(&r->latency, t > c->start_ns ? t - c->start_ns : 0);
		kind = status >= 500 ? CHECK_LOAD_ERR_5XX : status >= 400 ? CHECK_LOAD_ERR_4XX : -1;
	}
	r->requests++;
	if (kind < 0)
		r->ok++;
	else
		r->errors[kind]++;
	w->last_done = t;
	atomic_store_explicit(&w->done_a, r->requests, memory_order_relaxed);
	atomic_store_explicit(&w->errors_a, r->requests - r->ok, memory_order_relaxed);

	c->busy = 0;
	w->inflight--;
	if (!open_loop && t < w->end && w->sent < w->quota)
		return start_request(w, c, t, t);
	w->idle[w->nidle++] = c;
	return 0;
}

/* The request on "c" failed because the connection broke ("kind"). A keep-alive connection the server
 * closed before a single byte of the answer came is stale, not a failure: the request is sent once
 * more on a fresh connection (as libcurl and browsers do). */
static int request_broken(struct worker *w, struct conn *c, int kind, uint64_t t)
{
	int stale = c->served > 0 && c->got == 0 && !c->retried;
	conn_close(w, c);
	if (stale) {
		c->retried = 1;
		c->off = 0;
		return conn_connect(w, c);
	}
	return request_done(w, c, kind, t);
}

/* Send what is left of the request on "c"; arm EPOLLOUT when the socket is full. */
static int send_more(struct worker *w, struct conn *c, uint64_t t)
{
	const struct buf *req = w->request;
	while (c->off < req->len) {
		size_t n = 0;
		CURLcode rc = curl_easy_send(c->easy, req->ptr + c->off, req->len - c->off, &n);
		if (rc == CURLE_AGAIN) {
			if (!c->want_out) {
				c->want_out = 1;
				watch(w, c, c->fd, EPOLLIN | EPOLLOUT);
			}
			return 0;
		}
		if (rc != CURLE_OK)
			return request_broken(w, c, CHECK_LOAD_ERR_CLOSED, t);
		c->off += n;
		w->res.bytes_sent += n;
	}
	if (c->want_out) {
		c->want_out = 0;
		watch(w, c, c->fd, EPOLLIN);
	}
	return 0;
}

/* Put the request on the (connected) slot "c" on the wire. */
static int begin_send(struct worker *w, struct conn *c, uint64_t t)
{
	c->off = 0;
	c->got = 0;
	c->complete = 0;
	http_parser_init(&c->parser, HTTP_RESPONSE);
	c->parser.data = c;
	return send_more(w, c, t);
}

static int start_request(struct worker *w, struct conn *c, uint64_t start_ns, uint64_t now)
{
	c->start_ns = start_ns;
	c->sent_ns = now;
	c->busy = 1;
	c->retried = 0;
	w->sent++;
	w->inflight++;
	if (c->state == CONN_UP)
		return begin_send(w, c, now);
	if (c->state == CONN_DOWN)
		return conn_connect(w, c);
	return 0; /* connecting: sent when connected */
}

/* libcurl finished connecting "c" (or failed to): start using the socket, or fail its request. */
static int connect_finished(struct worker *w, struct conn *c, uint64_t t)
{
	CURLMsg *m;
	int nmsg;
	while ((m = curl_multi_info_read(c->multi, &nmsg))) {
		curl_socket_t fd = CURL_SOCKET_BAD;
		if (m->msg != CURLMSG_DONE)
			continue;
		if (m->data.result != CURLE_OK || curl_easy_getinfo(c->easy, CURLINFO_ACTIVESOCKET, &fd) != CURLE_OK ||
		    fd == CURL_SOCKET_BAD) {
			CURLcode rc = m->data.result != CURLE_OK ? m->data.result : CURLE_COULDNT_CONNECT;
			conn_close(w, c);
			if (c->busy)
				return request_done(w, c, connect_error_kind(rc), t);
			return 0;
		}
		w->nconnecting--;
		c->state = CONN_UP;
		c->fd = fd;
		c->curl_due = 0;
		watch(w, c, fd, EPOLLIN);
		if (c->busy)
			return begin_send(w, c, t);
		return 0;
	}
	return 0;
}

/* The socket of "c" is readable (or hung up): read, frame, finish the answer when complete. */
static int on_readable(struct worker *w, struct conn *c, uint64_t t)
{
	for (;;) {
		size_t n = 0;
		CURLcode rc = curl_easy_recv(c->easy, w->rbuf, RECV_BUF, &n);
		if (rc == CURLE_AGAIN)
			return 0;
		if (rc != CURLE_OK) {
			if (!c->busy) {
				conn_close(w, c);
				return 0;
			}
			return request_broken(w, c, CHECK_LOAD_ERR_CLOSED, t);
		}
		w->res.bytes_received += n;
		if (!c->busy) {
			conn_close(w, c); /* closed while idle, or bytes nobody asked for: start afresh */
			return 0;
		}
		c->got += n;
		if (n == 0) { /* end of stream: completes an answer framed by the close, else it is cut */
			http_parser_execute(&c->parser, &parser_settings, NULL, 0);
			if (c->complete) {
				conn_close(w, c);
				return request_done(w, c, -1, t);
			}
			return request_broken(w, c, CHECK_LOAD_ERR_CLOSED, t);
		}
		{
			size_t used = http_parser_execute(&c->parser, &parser_settings, w->rbuf, n);
			enum http_errno he = HTTP_PARSER_ERRNO(&c->parser);
			if (c->complete) {
				/* an answer before the whole request was sent (a 413, say) leaves the server reading
				 * the rest as the next request: that connection cannot be reused */
				int keep = http_should_keep_alive(&c->parser) && used == n && c->off == w->request->len;
				c->served++;
				if (!keep)
					conn_close(w, c);
				return request_done(w, c, -1, t);
			}
			if (he != HPE_OK) {
				conn_close(w, c);
				return request_done(w, c, CHECK_LOAD_ERR_OTHER, t);
			}
		}
	}
}

#define SCAN_NS (10 * NS_PER_MS) /* how often in-flight requests are checked against the timeout */

/* Run libcurl's due timers of connecting slots; returns the earliest timer still armed (0: none). */
static uint64_t run_curl_timers(struct worker *w, uint64_t t, int *failed)
{
	uint64_t next = 0;
	for (int i = 0; i < w->nconn && w->nconnecting > 0; i++) {
		struct conn *c = &w->conns[i];
		int still;
		if (c->state != CONN_CONNECTING || !c->curl_due)
			continue;
		if (c->curl_due <= t) {
			c->curl_due = 0;
			curl_multi_socket_action(c->multi, CURL_SOCKET_TIMEOUT, 0, &still);
			if (connect_finished(w, c, t) < 0)
				*failed = 1;
		}
		if (c->state == CONN_CONNECTING && c->curl_due && (!next || c->curl_due < next))
			next = c->curl_due;
	}
	return next;
}

/* The event loop of one thread: send what is due, wait for sockets or the next due time, collect
 * answers. After the end time nothing new is sent and the loop waits for what is in flight. */
static int worker_loop(struct worker *w)
{
	const int open_loop = w->o->rate > 0;
	const uint64_t drain_limit =
		w->end + (uint64_t)(w->o->timeout_ms > 0 ? w->o->timeout_ms : 10000) * NS_PER_MS + NS_PER_S;

	if (!open_loop) {
		uint64_t t = clock_mono_ns();
		while (w->nidle > 0 && w->sent < w->quota)
			if (start_request(w, w->idle[--w->nidle], t, t) < 0)
				return -1;
	}
	for (;;) {
		uint64_t t = clock_mono_ns(), wake, curl_next = 0;
		int stopping = t >= w->end || w->sent >= w->quota, timeout_ms, nev, failed = 0;
		struct epoll_event evs[64];

		if (open_loop && !stopping) {
			while (w->nidle > 0 && w->sent < w->quota) {
				uint64_t due = slot_time(w, w->next);
				if (due > t || due >= w->end)
					break;
				if (start_request(w, w->idle[--w->nidle], due, t) < 0)
					return -1;
				w->next++;
			}
		}
		if (stopping && w->inflight == 0)
			break;
		if (t > drain_limit) {
			snprintf(w->errmsg, sizeof(w->errmsg), "requests still in flight long after the timeout");
			return -1;
		}
		if (w->nconnecting > 0) {
			curl_next = run_curl_timers(w, t, &failed);
			if (failed)
				return -1;
		}
		wake = stopping ? t + 100 * NS_PER_MS : w->end;
		if (open_loop && !stopping && w->nidle > 0) {
			uint64_t due = slot_time(w, w->next);
			if (due < wake)
				wake = due;
		}
		if (curl_next && curl_next < wake)
			wake = curl_next;
		if (wake > t + NS_PER_S)
			wake = t + NS_PER_S;
		/* floor: the last sub-millisecond before a due time is spent polling with timeout 0 */
		timeout_ms = wake > t ? (int)((wake - t) / NS_PER_MS) : 0;
		if (w->inflight) { /* the timeout scan needs no precision: rounded up, it never makes the loop spin */
			uint64_t scan = w->next_scan > t ? (w->next_scan - t + NS_PER_MS - 1) / NS_PER_MS : 0;
			if (scan < (uint64_t)timeout_ms)
				timeout_ms = (int)scan;
		}
		nev = epoll_wait(w->epfd, evs, (int)(sizeof(evs) / sizeof(evs[0])), timeout_ms);
		if (nev < 0 && errno != EINTR) {
			snprintf(w->errmsg, sizeof(w->errmsg), "epoll_wait: %s", strerror(errno));
			return -1;
		}
		t = clock_mono_ns();
		for (int i = 0; i < nev; i++) {
			uint32_t idx = (uint32_t)(evs[i].data.u64 >> 32), ev = evs[i].events;
			curl_socket_t fd = (curl_socket_t)(uint32_t)evs[i].data.u64;
			struct conn *c;
			int rc = 0;
			if (idx >= (uint32_t)w->nconn)
				continue;
			c = &w->conns[idx];
			if (c->state == CONN_CONNECTING) {
				int still, flags = (ev & EPOLLIN ? CURL_CSELECT_IN : 0) |
						   (ev & EPOLLOUT ? CURL_CSELECT_OUT : 0) |
						   (ev & (EPOLLERR | EPOLLHUP) ? CURL_CSELECT_ERR : 0);
				curl_multi_socket_action(c->multi, fd, flags, &still);
				rc = connect_finished(w, c, t);
			} else if (c->state == CONN_UP && c->fd == fd) {
				if ((ev & EPOLLOUT) && c->want_out && c->busy)
					rc = send_more(w, c, t);
				if (rc == 0 && c->state == CONN_UP && c->fd == fd &&
				    (ev & (EPOLLIN | EPOLLERR | EPOLLHUP)))
					rc = on_readable(w, c, t);
			}
			if (rc < 0)
				return -1;
		}
		if (w->inflight && t >= w->next_scan) {
			/* requests past --timeout: their connection is closed (the next request on the slot opens a
			 * new one), counted as timeouts */
			w->next_scan = t + SCAN_NS;
			for (int i = 0; i < w->nconn; i++) {
				struct conn *c = &w->conns[i];
				if (c->busy && t - c->sent_ns >= w->timeout_ns) {
					conn_close(w, c);
					if (request_done(w, c, CHECK_LOAD_ERR_TIMEOUT, t) < 0)
						return -1;
				}
			}
		}
	}
	return 0;
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	w->epfd = epoll_create1(EPOLL_CLOEXEC);
	w->rbuf = xmalloc(RECV_BUF);
	if (w->epfd < 0) {
		snprintf(w->errmsg, sizeof(w->errmsg), "could not set up the event loop: %s", strerror(errno));
		w->failed = 1;
	} else {
		for (int i = 0; i < w->nconn && !w->failed; i++) {
			if (setup_conn(w, &w->conns[i], (uint32_t)i) < 0)
				w->failed = 1;
			w->idle[w->nidle++] = &w->conns[i];
		}
		if (!w->failed && worker_loop(w) < 0)
			w->failed = 1;
	}
	for (int i = 0; i < w->nconn; i++) {
		struct conn *c = &w->conns[i];
		if (c->easy && c->multi)
			conn_close(w, c);
		if (c->easy)
			curl_easy_cleanup(c->easy);
		if (c->multi)
			curl_multi_cleanup(c->multi);
	}
	if (w->epfd >= 0)
		close(w->epfd);
	free(w->rbuf);
	pthread_mutex_lock(w->lock);
	(*w->finished)++;
	pthread_cond_signal(w->cond);
	pthread_mutex_unlock(w->lock);
	return NULL;
}

/* Number of open-loop slots of worker "w" due before its end (for the unsent count). */
static uint64_t slots_due(const struct worker *w)
{
	double first = (double)w->index * (double)NS_PER_S / w->o->rate;
	double step = (double)w->nthreads * (double)NS_PER_S / w->o->rate;
	double span = (double)(w->end - w->t0);
	uint64_t n;
	if (first >= span)
		return 0;
	n = (uint64_t)ceil((span - first) / step);
	while (n > 0 && slot_time(w, n - 1) >= w->end)
		n--;
	while (slot_time(w, n) < w->end)
		n++;
	return n < w->quota ? n : w->quota;
}

static int check_opts(const struct check_load_opts *o, struct err *e)
{
	int threads = o->threads > 0 ? o->threads : 1;
	if (!o->url || !*o->url)
		return err_set(e, MLCI_EUSAGE, "no URL to load");
	if (!(o->rate >= 0) || !isfinite(o->rate))
		return err_set(e, MLCI_EUSAGE, "invalid rate %g (expected requests per second > 0, or max)", o->rate);
	if (o->duration_ms <= 0)
		return err_set(e, MLCI_EUSAGE, "the duration must be positive");
	if (o->connections < 1 || o->connections > CHECK_LOAD_MAX_CONNECTIONS)
		return err_set(e, MLCI_EUSAGE, "invalid number of connections %d (expected 1 to %d)", o->connections,
			       CHECK_LOAD_MAX_CONNECTIONS);
	if (threads > CHECK_LOAD_MAX_THREADS || threads > o->connections)
		return err_set(e, MLCI_EUSAGE,
			       "invalid number of threads %d (expected 1 to %d, at most one per connection)", threads,
			       CHECK_LOAD_MAX_THREADS);
	return 0;
}

int check_load_run(const struct check_load_opts *o, struct check_load_result *r, struct err *e)
{
	pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
	pthread_cond_t cond = PTHREAD_COND_INITIALIZER;
	struct buf request = BUF_INIT;
	struct worker *ws = NULL;
	int threads = o->threads > 0 ? o->threads : 1, started = 0, finished = 0, ret = 0;
	uint64_t max_req = o->max_requests ? o->max_requests : CHECK_LOAD_MAX_REQUESTS, t0, last = 0;
	CURLU *url;
	char *scheme = NULL;

	result_init(r);
	if (check_opts(o, e) < 0)
		return -1;
	if (http_global_init(e) < 0)
		return -1;
	url = curl_url();
	if (!url || curl_url_set(url, CURLUPART_URL, o->url, 0) != CURLUE_OK ||
	    curl_url_get(url, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
	    (strcmp(scheme, "http") && strcmp(scheme, "https")))
		ret = err_set(e, MLCI_EUSAGE, "invalid URL '%s' (expected http://HOST[:PORT]/PATH or https://...)",
			      o->url);
	else
		ret = load_request_build(&request, url, o->method, o->headers, o->body, o->body_len, e);
	curl_free(scheme);
	curl_url_cleanup(url);
	if (ret < 0) {
		buf_release(&request);
		return -1;
	}

	ws = xcalloc((size_t)threads, sizeof(*ws));
	t0 = clock_mono_ns() + 5 * NS_PER_MS; /* time for the threads to start */
	for (int i = 0; i < threads; i++) {
		struct worker *w = &ws[i];
		w->o = o;
		w->request = &request;
		w->index = i;
		w->nthreads = threads;
		w->nconn = o->connections / threads + (i < o->connections % threads);
		w->conns = xcalloc((size_t)w->nconn, sizeof(*w->conns));
		w->idle = xcalloc((size_t)w->nconn, sizeof(*w->idle));
		w->t0 = t0;
		w->end = t0 + (uint64_t)o->duration_ms * NS_PER_MS;
		w->quota = max_req / (uint64_t)threads + (i == 0 ? max_req % (uint64_t)threads : 0);
		w->lock = &lock;
		w->cond = &cond;
		w->finished = &finished;
		w->last_done = t0;
		w->timeout_ns = (uint64_t)(o->timeout_ms > 0 ? o->timeout_ms : 10000) * NS_PER_MS;
		w->next_scan = t0 + SCAN_NS;
		w->epfd = -1;
		atomic_init(&w->done_a, 0);
		atomic_init(&w->errors_a, 0);
		result_init(&w->res);
	}
	for (int i = 0; i < threads; i++) {
		int rc = pthread_create(&ws[i].tid, NULL, worker_main, &ws[i]);
		if (rc) {
			errno = rc;
			err_errno(e, MLCI_EINFRA, "could not start a load thread");
			ret = -1;
			/* the started workers run to their end time; wait for them below */
			break;
		}
		started++;
	}

	pthread_mutex_lock(&lock);
	while (finished < started) {
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_sec += 1;
		if (pthread_cond_timedwait(&cond, &lock, &ts) == ETIMEDOUT && o->progress) {
			struct check_load_progress p = { 0, 0, 0 };
			uint64_t t = clock_mono_ns();
			p.elapsed_s = t > t0 ? (double)(t - t0) / 1e9 : 0.0;
			for (int i = 0; i < started; i++) {
				p.requests += atomic_load_explicit(&ws[i].done_a, memory_order_relaxed);
				p.errors += atomic_load_explicit(&ws[i].errors_a, memory_order_relaxed);
			}
			pthread_mutex_unlock(&lock);
			o->progress(&p, o->payload);
			pthread_mutex_lock(&lock);
		}
	}
	pthread_mutex_unlock(&lock);

	for (int i = 0; i < threads; i++) {
		struct worker *w = &ws[i];
		if (i < started) {
			pthread_join(w->tid, NULL);
			if (w->failed && !ret) {
				err_set(e, MLCI_EINFRA, "load test of '%s': %s", o->url, w->errmsg);
				ret = -1;
			}
			r->requests += w->res.requests;
			r->ok += w->res.ok;
			for (int k = 0; k < CHECK_LOAD_NERR; k++)
				r->errors[k] += w->res.errors[k];
			r->bytes_sent += w->res.bytes_sent;
			r->bytes_received += w->res.bytes_received;
			check_hist_merge(&r->latency, &w->res.latency);
			if (o->rate > 0) {
				uint64_t due = slots_due(w);
				r->unsent += due > w->next ? due - w->next : 0;
			}
			if (w->sent >= w->quota)
				r->capped = 1;
			if (w->last_done > last)
				last = w->last_done;
		}
		check_hist_release(&w->res.latency);
		free(w->conns);
		free(w->idle);
	}
	free(ws);
	buf_release(&request);
	pthread_mutex_destroy(&lock);
	pthread_cond_destroy(&cond);

	{
		uint64_t span = (uint64_t)o->duration_ms * NS_PER_MS;
		if (last > t0 + span)
			span = last - t0;
		r->duration_s = (double)span / 1e9;
	}
	r->target_qps = o->rate;
	r->qps = r->duration_s > 0 ? (double)r->requests / r->duration_s : 0.0;
	return ret;
}

void check_load_thresholds_from_spec(const struct spec_check_service *s, struct check_load_thresholds *t)
{
	t->p99_ms = s->load_p99_ms;
	t->min_qps = s->load_min_qps;
	t->max_error_rate = s->load_max_error_rate;
}

int check_load_evaluate(const struct check_load_result *r, const struct check_load_thresholds *t, struct buf *msg)
{
	int fail = 0;
	if (t->p99_ms > 0) {
		double p99 = (double)check_hist_percentile(&r->latency, 99.0) / 1e6;
		if (!r->latency.total) {
			buf_addf(msg, "%sp99: no answered request", msg->len ? "; " : "");
			fail = 1;
		} else {
			int bad = p99 > t->p99_ms;
			buf_addf(msg, "%sp99 %.3f ms %s %g ms", msg->len ? "; " : "", p99, bad ? ">" : "<=", t->p99_ms);
			fail |= bad;
		}
	}
	if (t->min_qps > 0) {
		int bad = r->qps < t->min_qps;
		buf_addf(msg, "%s%.1f req/s %s %g req/s", msg->len ? "; " : "", r->qps, bad ? "<" : ">=", t->min_qps);
		fail |= bad;
	}
	if (t->max_error_rate >= 0) {
		double er = check_load_error_rate(r);
		int bad = er > t->max_error_rate || !r->requests;
		if (!r->requests)
			buf_addf(msg, "%serror rate: no request completed", msg->len ? "; " : "");
		else
			buf_addf(msg, "%serror rate %.4g %s %g", msg->len ? "; " : "", er,
				 bad ? ">" : "<=", t->max_error_rate);
		fail |= bad;
	}
	return fail;
}
