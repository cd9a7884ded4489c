/* load.c - HTTP load generator: per thread one libcurl multi handle driving C reusable easy handles over
 * keep-alive connections, open loop (wrk2-style intended send times) or closed loop. Prints nothing. */
#include <curl/curl.h>
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <sys/epoll.h>
#include <unistd.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "checks/load.h"
#include "ci/spec.h"
#include "common/alloc.h"
#include "common/banned.h"

#define NS_PER_S  1000000000ULL
#define NS_PER_MS 1000000ULL

struct worker;

/* One connection slot: an easy handle set up once and re-added to the multi handle per request. */
struct conn {
	CURL *easy;
	struct worker *w;
	uint64_t start_ns; /* intended (open loop) or actual (closed loop) send time */
	uint64_t sent_ns;  /* actual send time: the timeout runs from it */
	uint64_t body_bytes;
	int busy; /* a request is in flight */
};

struct worker {
	pthread_t tid;
	const struct check_load_opts *o;
	struct curl_slist *headers; /* shared, read-only */
	CURLU *url;                 /* o->url, parsed */
	int index, nthreads;
	int nconn;
	struct conn *conns;
	struct conn **idle; /* stack of connections without a request in flight */
	int nidle;
	CURLM *multi;
	int epfd;            /* epoll set of the sockets libcurl asks us to watch */
	uint64_t curl_due;   /* when libcurl wants curl_multi_socket_action(CURL_SOCKET_TIMEOUT); 0 = never */
	uint64_t t0, end;    /* CLOCK_MONOTONIC ns */
	uint64_t quota;      /* most requests this thread may send */
	uint64_t sent, next; /* requests sent; next schedule slot (open loop) */
	uint64_t last_done;  /* time of the last completion */
	uint64_t timeout_ns; /* --timeout, enforced by the loop (libcurl's per-request timers cost CPU) */
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

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * NS_PER_S + (uint64_t)ts.tv_nsec;
}

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

static size_t on_body(char *ptr, size_t size, size_t nmemb, void *userdata)
{
	struct conn *c = userdata;
	(void)ptr;
	c->body_bytes += size * nmemb;
	return size * nmemb;
}

/* The intended send time of open-loop slot "j" of worker "w": the threads interleave, so slot j of
 * thread k is global request k + j*T, due at t0 + (k + j*T)/rate. */
static uint64_t slot_time(const struct worker *w, uint64_t j)
{
	double i = (double)w->index + (double)j * (double)w->nthreads;
	return w->t0 + (uint64_t)(i * (double)NS_PER_S / w->o->rate);
}

static int setup_conn(struct worker *w, struct conn *c)
{
	const struct check_load_opts *o = w->o;
	CURL *h = curl_easy_init();
	const char *method = o->method ? o->method : o->body ? "POST" : "GET";
	long timeout = (long)(o->timeout_ms > 0 ? o->timeout_ms : 10000);
	CURLcode rc = CURLE_OK;

	c->easy = h;
	c->w = w;
	if (!h)
		return -1;
#define SET(opt, val)                                                                                                  \
	do {                                                                                                           \
		if (rc == CURLE_OK)                                                                                    \
			rc = curl_easy_setopt(h, opt, val);                                                            \
	} while (0)
	SET(CURLOPT_CURLU, w->url); /* parsed once per thread, not per request */
	SET(CURLOPT_PRIVATE, (void *)c);
	SET(CURLOPT_NOSIGNAL, 1L);
	SET(CURLOPT_TCP_NODELAY, 1L);
	SET(CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_1_1);
	SET(CURLOPT_PROTOCOLS_STR, "http,https");
	SET(CURLOPT_WRITEFUNCTION, on_body);
	SET(CURLOPT_WRITEDATA, (void *)c);
	/* no CURLOPT_TIMEOUT_MS / CONNECTTIMEOUT_MS: the loop enforces --timeout (see worker_loop), so that
	 * libcurl arms and cancels no timer per request */
	(void)timeout;
	SET(CURLOPT_HTTPHEADER, w->headers);
	/* the service itself is measured, as with wrk: no proxy from http_proxy & co (which libcurl would
	 * also look up in the environment on every request) */
	SET(CURLOPT_PROXY, "");
	if (o->body) {
		SET(CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)o->body_len);
		SET(CURLOPT_POSTFIELDS, o->body);
	}
	if (!strcmp(method, "HEAD"))
		SET(CURLOPT_NOBODY, 1L);
	else if (strcmp(method, "GET") || o->body)
		SET(CURLOPT_CUSTOMREQUEST, method);
#undef SET
	if (rc != CURLE_OK) {
		snprintf(w->errmsg, sizeof(w->errmsg), "could not set up a request for '%s': %s", o->url,
			 curl_easy_strerror(rc));
		return -1;
	}
	return 0;
}

static int start_request(struct worker *w, struct conn *c, uint64_t start_ns, uint64_t now)
{
	CURLMcode mc;
	c->start_ns = start_ns;
	c->sent_ns = now;
	c->busy = 1;
	c->body_bytes = 0;
	mc = curl_multi_add_handle(w->multi, c->easy);
	if (mc != CURLM_OK) {
		snprintf(w->errmsg, sizeof(w->errmsg), "could not start a request: %s", curl_multi_strerror(mc));
		return -1;
	}
	w->sent++;
	return 0;
}

/* Classify and count the finished request on "c" (libcurl result "rc"), done at "t". */
static void finish_request(struct worker *w, struct conn *c, CURLcode rc, uint64_t t)
{
	struct check_load_result *r = &w->res;
	long status = 0;
	curl_off_t hdr = 0, req = 0;
	int kind = -1;

	curl_easy_getinfo(c->easy, CURLINFO_RESPONSE_CODE, &status);
	if (curl_easy_getinfo(c->easy, CURLINFO_HEADER_SIZE, &hdr) == CURLE_OK)
		r->bytes_received += (uint64_t)hdr;
	if (curl_easy_getinfo(c->easy, CURLINFO_REQUEST_SIZE, &req) == CURLE_OK)
		r->bytes_sent += (uint64_t)req + (rc == CURLE_OK && w->o->body ? w->o->body_len : 0);
	r->bytes_received += c->body_bytes;
	switch (rc) {
	case CURLE_OK:
		if (status >= 500)
			kind = CHECK_LOAD_ERR_5XX;
		else if (status >= 400)
			kind = CHECK_LOAD_ERR_4XX;
		else if (status <= 0)
			kind = CHECK_LOAD_ERR_OTHER;
		check_hist_record(&r->latency, t > c->start_ns ? t - c->start_ns : 0);
		break;
	case CURLE_COULDNT_CONNECT:
	case CURLE_COULDNT_RESOLVE_HOST:
		kind = CHECK_LOAD_ERR_CONNECT;
		break;
	case CURLE_OPERATION_TIMEDOUT:
		kind = CHECK_LOAD_ERR_TIMEOUT;
		break;
	case CURLE_GOT_NOTHING:
	case CURLE_PARTIAL_FILE:
	case CURLE_RECV_ERROR:
	case CURLE_SEND_ERROR:
		kind = CHECK_LOAD_ERR_CLOSED;
		break;
	default:
		kind = CHECK_LOAD_ERR_OTHER;
		break;
	}
	r->requests++;
	if (kind < 0)
		r->ok++;
	else
		r->errors[kind]++;
	w->last_done = t;
	atomic_store_explicit(&w->done_a, r->requests, memory_order_relaxed);
	atomic_store_explicit(&w->errors_a, r->requests - r->ok, memory_order_relaxed);
}

/* libcurl's socket callback: mirror the sockets it wants watched into the thread's epoll set. */
static int on_socket(CURL *easy, curl_socket_t fd, int what, void *userp, void *socketp)
{
	struct worker *w = userp;
	struct epoll_event ev;
	(void)easy;
	if (what == CURL_POLL_REMOVE) {
		epoll_ctl(w->epfd, EPOLL_CTL_DEL, fd, NULL); /* fails harmlessly when already closed */
		curl_multi_assign(w->multi, fd, NULL);
		return 0;
	}
	memset(&ev, 0, sizeof(ev));
	ev.events = (what & CURL_POLL_IN ? EPOLLIN : 0u) | (what & CURL_POLL_OUT ? EPOLLOUT : 0u);
	ev.data.fd = fd;
	if (!socketp || epoll_ctl(w->epfd, EPOLL_CTL_MOD, fd, &ev) < 0) {
		if (epoll_ctl(w->epfd, EPOLL_CTL_ADD, fd, &ev) < 0 && errno == EEXIST)
			epoll_ctl(w->epfd, EPOLL_CTL_MOD, fd, &ev);
		curl_multi_assign(w->multi, fd, w);
	}
	return 0;
}

/* libcurl's timer callback: remember when it wants to be called back (-1: never, 0: at once). */
static int on_timer(CURLM *multi, long timeout_ms, void *userp)
{
	struct worker *w = userp;
	(void)multi;
	w->curl_due = timeout_ms < 0 ? 0 : now_ns() + (uint64_t)timeout_ms * NS_PER_MS;
	if (timeout_ms == 0)
		w->curl_due = 1; /* already due */
	return 0;
}

#define SCAN_NS (10 * NS_PER_MS) /* how often in-flight requests are checked against the timeout */

/* Count the request on "c" as finished with "rc" at "t", detach it, and in a closed loop send the next
 * one on the same connection. */
static int request_done(struct worker *w, struct conn *c, CURLcode rc, uint64_t t, int open_loop, int *inflight)
{
	finish_request(w, c, rc, t);
	curl_multi_remove_handle(w->multi, c->easy);
	c->busy = 0;
	(*inflight)--;
	if (!open_loop && t < w->end && w->sent < w->quota) {
		if (start_request(w, c, t, t) < 0)
			return -1;
		(*inflight)++;
	} else {
		w->idle[w->nidle++] = c;
	}
	return 0;
}

/* The event loop of one thread: send what is due, wait for sockets or the next due time, collect
 * answers. After the end time nothing new is sent and the loop waits for what is in flight. */
static int worker_loop(struct worker *w)
{
	const int open_loop = w->o->rate > 0;
	const uint64_t drain_limit =
		w->end + (uint64_t)(w->o->timeout_ms > 0 ? w->o->timeout_ms : 10000) * NS_PER_MS + NS_PER_S;
	int inflight = 0, still;

	if (!open_loop) {
		uint64_t t = now_ns();
		while (w->nidle > 0 && w->sent < w->quota) {
			if (start_request(w, w->idle[--w->nidle], t, t) < 0)
				return -1;
			inflight++;
		}
	}
	for (;;) {
		uint64_t t = now_ns(), wake;
		int stopping = t >= w->end || w->sent >= w->quota, timeout_ms, nmsg, nev;
		struct epoll_event evs[64];
		CURLMcode mc = CURLM_OK;
		CURLMsg *m;

		if (open_loop && !stopping) {
			while (w->nidle > 0 && w->sent < w->quota) {
				uint64_t due = slot_time(w, w->next);
				if (due > t || due >= w->end)
					break;
				if (start_request(w, w->idle[--w->nidle], due, t) < 0)
					return -1;
				w->next++;
				inflight++;
			}
		}
		if (stopping && inflight == 0)
			break;
		if (t > drain_limit) {
			snprintf(w->errmsg, sizeof(w->errmsg), "requests still in flight long after the timeout");
			return -1;
		}
		wake = stopping ? t + 100 * NS_PER_MS : w->end;
		if (open_loop && !stopping && w->nidle > 0) {
			uint64_t due = slot_time(w, w->next);
			if (due < wake)
				wake = due;
		}
		if (w->curl_due && w->curl_due < wake)
			wake = w->curl_due;
		if (wake > t + NS_PER_S)
			wake = t + NS_PER_S;
		/* floor: the last sub-millisecond before a due time is spent polling with timeout 0 */
		timeout_ms = wake > t ? (int)((wake - t) / NS_PER_MS) : 0;
		if (inflight) { /* the timeout scan needs no precision: rounded up, it never makes the loop spin */
			uint64_t scan = w->next_scan > t ? (w->next_scan - t + NS_PER_MS - 1) / NS_PER_MS : 0;
			if (scan < (uint64_t)timeout_ms)
				timeout_ms = (int)scan;
		}
		nev = epoll_wait(w->epfd, evs, (int)(sizeof(evs) / sizeof(evs[0])), timeout_ms);
		if (nev < 0 && errno != EINTR) {
			snprintf(w->errmsg, sizeof(w->errmsg), "epoll_wait: %s", strerror(errno));
			return -1;
		}
		for (int i = 0; i < nev; i++) {
			int flags = (evs[i].events & EPOLLIN ? CURL_CSELECT_IN : 0) |
				    (evs[i].events & EPOLLOUT ? CURL_CSELECT_OUT : 0) |
				    (evs[i].events & (EPOLLERR | EPOLLHUP) ? CURL_CSELECT_ERR : 0);
			mc = curl_multi_socket_action(w->multi, evs[i].data.fd, flags, &still);
			if (mc != CURLM_OK)
				break;
		}
		if (mc == CURLM_OK && w->curl_due && now_ns() >= w->curl_due) {
			w->curl_due = 0;
			mc = curl_multi_socket_action(w->multi, CURL_SOCKET_TIMEOUT, 0, &still);
		}
		if (mc != CURLM_OK) {
			snprintf(w->errmsg, sizeof(w->errmsg), "curl_multi_socket_action: %s", curl_multi_strerror(mc));
			return -1;
		}
		t = now_ns();
		while ((m = curl_multi_info_read(w->multi, &nmsg))) {
			struct conn *c = NULL;
			if (m->msg != CURLMSG_DONE)
				continue;
			curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, (char **)&c);
			if (request_done(w, c, m->data.result, t, open_loop, &inflight) < 0)
				return -1;
		}
		if (inflight && t >= w->next_scan) {
			/* requests past --timeout: detached (libcurl then closes their connection), counted as timeouts
			 */
			w->next_scan = t + SCAN_NS;
			for (int i = 0; i < w->nconn; i++) {
				struct conn *c = &w->conns[i];
				if (c->busy && t - c->sent_ns >= w->timeout_ns &&
				    request_done(w, c, CURLE_OPERATION_TIMEDOUT, t, open_loop, &inflight) < 0)
					return -1;
			}
		}
	}
	return 0;
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	w->multi = curl_multi_init();
	w->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (!w->multi || w->epfd < 0) {
		snprintf(w->errmsg, sizeof(w->errmsg), "could not set up the event loop: %s",
			 w->multi ? strerror(errno) : "curl_multi_init failed");
		w->failed = 1;
	} else {
		w->url = curl_url();
		if (!w->url || curl_url_set(w->url, CURLUPART_URL, w->o->url, 0) != CURLUE_OK) {
			snprintf(w->errmsg, sizeof(w->errmsg), "invalid URL '%s'", w->o->url);
			w->failed = 1;
		}
		curl_multi_setopt(w->multi, CURLMOPT_SOCKETFUNCTION, on_socket);
		curl_multi_setopt(w->multi, CURLMOPT_SOCKETDATA, (void *)w);
		curl_multi_setopt(w->multi, CURLMOPT_TIMERFUNCTION, on_timer);
		curl_multi_setopt(w->multi, CURLMOPT_TIMERDATA, (void *)w);
		curl_multi_setopt(w->multi, CURLMOPT_MAXCONNECTS, (long)w->nconn);
		curl_multi_setopt(w->multi, CURLMOPT_MAX_TOTAL_CONNECTIONS, (long)w->nconn);
		curl_multi_setopt(w->multi, CURLMOPT_PIPELINING, (long)CURLPIPE_NOTHING);
		for (int i = 0; i < w->nconn && !w->failed; i++) {
			if (setup_conn(w, &w->conns[i]) < 0) {
				if (!w->errmsg[0])
					snprintf(w->errmsg, sizeof(w->errmsg), "curl_easy_init failed");
				w->failed = 1;
			}
			w->idle[w->nidle++] = &w->conns[i];
		}
		if (!w->failed && worker_loop(w) < 0)
			w->failed = 1;
		/* remove what is still attached (only after a failure) before the handles go */
		for (int i = 0; i < w->nconn; i++)
			if (w->conns[i].easy)
				curl_multi_remove_handle(w->multi, w->conns[i].easy);
	}
	for (int i = 0; i < w->nconn; i++)
		if (w->conns[i].easy)
			curl_easy_cleanup(w->conns[i].easy);
	if (w->multi)
		curl_multi_cleanup(w->multi);
	if (w->epfd >= 0)
		close(w->epfd);
	curl_url_cleanup(w->url);
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
	struct curl_slist *headers = NULL;
	struct worker *ws = NULL;
	int threads = o->threads > 0 ? o->threads : 1, started = 0, finished = 0, ret = 0;
	uint64_t max_req = o->max_requests ? o->max_requests : CHECK_LOAD_MAX_REQUESTS, t0, last = 0;
	CURLcode gc;

	result_init(r);
	if (check_opts(o, e) < 0)
		return -1;
	gc = curl_global_init(CURL_GLOBAL_DEFAULT);
	if (gc != CURLE_OK)
		return err_set(e, MLCI_EINFRA, "could not initialise libcurl: %s", curl_easy_strerror(gc));
	/* no "Expect: 100-continue" round trip for larger bodies */
	headers = curl_slist_append(headers, "Expect:");
	for (const char *const *h = o->headers; h && *h && headers; h++)
		headers = curl_slist_append(headers, *h);
	if (!headers) {
		curl_global_cleanup();
		return err_set(e, MLCI_EINFRA, "out of memory");
	}

	ws = xcalloc((size_t)threads, sizeof(*ws));
	t0 = now_ns() + 5 * NS_PER_MS; /* time for the threads to start */
	for (int i = 0; i < threads; i++) {
		struct worker *w = &ws[i];
		w->o = o;
		w->headers = headers;
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
			uint64_t t = now_ns();
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
	curl_slist_free_all(headers);
	curl_global_cleanup();
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
