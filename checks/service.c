/* service.c - the service check (see service.h and docs/service.md): lifecycle of the prediction service
 * (free port, process group, log pump thread, readiness with backoff, stop) and the ordered checks.
 * Nothing here prints; no process of the service's group may outlive service_stop. */
#include "checks/service.h"

#include <arpa/inet.h>
#include <cjson/cJSON.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "checks/contract.h"
#include "common/http.h"
#include "checks/load.h"
#include "checks/parity.h"
#include "checks/protocol.h"
#include "record/verdict.h"
#include "spec/spec.h"
#include "common/alloc.h"
#include "common/clock.h"
#include "common/strvec.h"
#include "common/banned.h"

#define READY_FIRST_DELAY_MS 10
#define READY_MAX_DELAY_MS   500
#define READY_REQUEST_MS     2000 /* one readiness probe waits at most this long */

/* ---------------------------------------------------------------- lifecycle */

int service_free_port(struct err *e)
{
	struct sockaddr_in a;
	socklen_t len = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), port;
	if (fd < 0)
		return err_errno(e, MLCI_EINFRA, "could not create a socket");
	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	a.sin_port = 0;
	if (bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0 || getsockname(fd, (struct sockaddr *)&a, &len) < 0) {
		err_errno(e, MLCI_EINFRA, "could not find a free port on 127.0.0.1");
		close(fd);
		return -1;
	}
	port = ntohs(a.sin_port);
	close(fd);
	return port;
}

/* The pump thread: moves the service's output to its log and notices when it exits. It owns s->proc
 * until service_stop joins it; what the other thread may read is copied under s->mu. */
static void *pump_main(void *arg)
{
	struct service *s = arg;
	struct proc *one[1];
	sigset_t all;
	one[0] = &s->proc;
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, NULL); /* signals are the main thread's business */
	for (;;) {
		int stop, done;
		pthread_mutex_lock(&s->mu);
		stop = s->stop;
		pthread_mutex_unlock(&s->mu);
		if (stop)
			break;
		done = proc_wait_any(one, 1, 50) == 0;
		pthread_mutex_lock(&s->mu);
		if (s->proc.exited && !s->exited) {
			s->exited = 1;
			s->exit_code = s->proc.exit_code;
			pthread_cond_broadcast(&s->cond);
		}
		pthread_mutex_unlock(&s->mu);
		if (done)
			break;
	}
	return NULL;
}

int service_start(struct service *s, const struct service_start_opts *o, struct err *e)
{
	struct strvec env = STRVEC_INIT;
	struct proc_opts po;
	pthread_condattr_t ca;
	char portstr[16];
	int port = o->port;

	memset(s, 0, sizeof(*s));
	s->proc.state = PROC_IDLE;
	if (!port && (port = service_free_port(e)) < 0)
		return -1;
	s->port = port;
	snprintf(s->base_url, sizeof(s->base_url), "http://127.0.0.1:%d", port);
	snprintf(portstr, sizeof(portstr), "%d", port);
	for (const char *const *v = o->env; v && *v; v++)
		strvec_push(&env, *v);
	strvec_setenv(&env, "MLCI_PORT", portstr);

	memset(&po, 0, sizeof(po));
	po.cmd = o->cmd;
	po.cwd = o->cwd;
	po.env = env.v;
	po.log_path = o->log_path;
	po.stream_fd = -1;
	po.mask = o->mask;
	if (proc_start(&s->proc, &po, e) < 0) {
		strvec_clear(&env);
		return err_prefix(e, "could not start the service");
	}
	strvec_clear(&env); /* execve has copied it */
	s->log_path = o->log_path ? xstrdup(o->log_path) : NULL;
	pthread_mutex_init(&s->mu, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&s->cond, &ca);
	pthread_condattr_destroy(&ca);
	if (pthread_create(&s->pump, NULL, pump_main, s) != 0) {
		proc_release(&s->proc); /* kills the group */
		pthread_mutex_destroy(&s->mu);
		pthread_cond_destroy(&s->cond);
		free(s->log_path);
		s->log_path = NULL;
		return err_set(e, MLCI_EINFRA, "could not start a thread for the service's output");
	}
	s->pumping = 1;
	return 0;
}

int service_running(struct service *s)
{
	int r;
	if (!s->pumping)
		return s->proc.state == PROC_RUNNING && !s->proc.exited;
	pthread_mutex_lock(&s->mu);
	r = !s->exited;
	pthread_mutex_unlock(&s->mu);
	return r;
}

/* "exited with status 1", "was killed by signal 9". */
static void describe_exit(int code, struct buf *out)
{
	if (code > 128 && code < 128 + 65)
		buf_addf(out, "was killed by signal %d", code - 128);
	else if (code == 127)
		buf_addf(out, "exited with status 127 (command not found?)");
	else
		buf_addf(out, "exited with status %d", code);
}

/* Sleep up to "ms" on the condition, waking early when the service exits. */
static void nap(struct service *s, int64_t ms)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	ts.tv_sec += (time_t)(ms / 1000);
	ts.tv_nsec += (long)(ms % 1000) * 1000000L;
	if (ts.tv_nsec >= 1000000000L) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&s->mu);
	while (!s->exited) {
		if (pthread_cond_timedwait(&s->cond, &s->mu, &ts) == ETIMEDOUT)
			break;
	}
	pthread_mutex_unlock(&s->mu);
}

int service_wait_ready(struct service *s, const char *ready_path, int64_t timeout_ms, struct buf *why)
{
	struct http_req q;
	struct http_resp resp;
	struct buf url = BUF_INIT, last = BUF_INIT;
	int64_t start = clock_mono_ms(), deadline = start + timeout_ms, delay = READY_FIRST_DELAY_MS;
	int ret = 1;

	buf_addf(&url, "%s%s", s->base_url, ready_path);
	buf_addstr(&last, "no answer yet");
	http_resp_init(&resp);
	memset(&q, 0, sizeof(q));
	q.url = url.ptr;
	for (;;) {
		int64_t now = clock_mono_ms(), left = deadline - now;
		if (!service_running(s)) {
			buf_addstr(why, "the service ");
			pthread_mutex_lock(&s->mu);
			describe_exit(s->exit_code, why);
			pthread_mutex_unlock(&s->mu);
			buf_addf(why, " %.2f s after it started, before GET %s answered 2xx",
				 (double)(now - start) / 1000.0, ready_path);
			break;
		}
		if (left <= 0) {
			buf_addf(why, "not ready after %.1f s: GET %s: %s", (double)timeout_ms / 1000.0, ready_path,
				 last.ptr);
			break;
		}
		q.timeout_ms = left < READY_REQUEST_MS ? left : READY_REQUEST_MS;
		if (http_do(&q, &resp) == 0) {
			if (resp.status >= 200 && resp.status < 300) {
				s->ready_ms = clock_mono_ms();
				ret = 0;
				break;
			}
			buf_reset(&last);
			buf_addf(&last, "answered %ld", resp.status);
		} else {
			buf_reset(&last);
			buf_addstr(&last, resp.error);
		}
		left = deadline - clock_mono_ms();
		nap(s, delay < left ? delay : left > 0 ? left : 0);
		delay = delay * 2 > READY_MAX_DELAY_MS ? READY_MAX_DELAY_MS : delay * 2;
	}
	http_resp_release(&resp);
	buf_release(&url);
	buf_release(&last);
	return ret;
}

int service_stop(struct service *s, int64_t grace_ms)
{
	struct proc *one[1];
	int64_t deadline;
	int code;
	if (s->proc.state == PROC_IDLE)
		return -1;
	one[0] = &s->proc;
	if (s->pumping) {
		pthread_mutex_lock(&s->mu);
		s->stop = 1;
		pthread_mutex_unlock(&s->mu);
		pthread_join(s->pump, NULL);
		s->pumping = 0;
		pthread_mutex_destroy(&s->mu);
		pthread_cond_destroy(&s->cond);
	}
	if (grace_ms <= 0)
		grace_ms = SERVICE_STOP_GRACE_MS;
	if (s->proc.state == PROC_RUNNING) {
		proc_signal(&s->proc, SIGTERM);
		deadline = clock_mono_ms() + grace_ms;
		while (s->proc.state == PROC_RUNNING && !s->proc.exited) {
			int64_t left = deadline - clock_mono_ms();
			if (left <= 0)
				break;
			proc_wait_any(one, 1, (int)(left > 100 ? 100 : left));
		}
		proc_signal(&s->proc, SIGKILL); /* the group; a no-op once the leader is reaped (which killed it) */
		while (s->proc.state == PROC_RUNNING)
			proc_wait_any(one, 1, 100);
	}
	code = s->proc.exit_code;
	proc_release(&s->proc);
	memset(&s->proc, 0, sizeof(s->proc));
	s->proc.state = PROC_IDLE;
	s->proc.out_fd = s->proc.log_fd = -1;
	free(s->log_path);
	s->log_path = NULL;
	return code;
}

void service_log_tail(const char *path, size_t lines, struct buf *out)
{
	struct buf b = BUF_INIT;
	FILE *f = path ? fopen(path, "r") : NULL;
	size_t start, n = 0;
	long size;
	if (!f)
		return;
	if (fseek(f, 0, SEEK_END) == 0 && (size = ftell(f)) > 65536)
		fseek(f, size - 65536, SEEK_SET);
	else
		fseek(f, 0, SEEK_SET);
	{
		char tmp[8192];
		size_t k;
		while ((k = fread(tmp, 1, sizeof(tmp), f)) > 0)
			buf_add(&b, tmp, k);
	}
	fclose(f);
	while (b.len && b.ptr[b.len - 1] == '\n')
		b.len--;
	b.ptr[b.len] = '\0';
	start = b.len;
	while (start > 0) {
		if (b.ptr[start - 1] == '\n' && ++n >= lines)
			break;
		start--;
	}
	buf_add(out, b.ptr + start, b.len - start);
	buf_release(&b);
}

/* ---------------------------------------------------------------- the checks */

struct run {
	const struct service_ctx *ctx;
	const struct spec_check_service *svc;
	struct service s;
	struct verdicts *out;
	int64_t t_wall, t_mono; /* when the current check started */
	int64_t timeout_ms;
};

static void begin(struct run *r, const char *name)
{
	if (r->ctx->progress)
		r->ctx->progress(name, r->ctx->payload);
	r->t_wall = clock_wall_ms();
	r->t_mono = clock_mono_ms();
}

static void verdict(struct run *r, const char *name, enum verdict_status st, cJSON *details, const char *summary)
{
	verdicts_add(r->out, name, "service", st, details, r->t_wall, clock_mono_ms() - r->t_mono, "%s", summary);
}

static void skipped(struct run *r, const char *name, const char *why)
{
	begin(r, name);
	verdict(r, name, VERDICT_SKIPPED, NULL, why);
}

static cJSON *log_tail_json(const char *path)
{
	struct buf t = BUF_INIT;
	cJSON *a = cJSON_CreateArray();
	const char *p;
	service_log_tail(path, SERVICE_LOG_TAIL, &t);
	p = t.ptr;
	while (t.len && *p) {
		const char *nl = strchr(p, '\n');
		size_t n = nl ? (size_t)(nl - p) : strlen(p);
		char *line = xstrndup(p, n);
		cJSON_AddItemToArray(a, cJSON_CreateString(line));
		free(line);
		p += n + (nl ? 1 : 0);
	}
	buf_release(&t);
	return a;
}

/* The service died during the checks: a failed verdict naming how, with the log tail. */
static int dead(struct run *r, const char *name)
{
	struct buf m = BUF_INIT;
	cJSON *d;
	if (service_running(&r->s))
		return 0;
	begin(r, name);
	d = cJSON_CreateObject();
	buf_addstr(&m, "the service ");
	pthread_mutex_lock(&r->s.mu);
	describe_exit(r->s.exit_code, &m);
	cJSON_AddNumberToObject(d, "exit_code", r->s.exit_code);
	pthread_mutex_unlock(&r->s.mu);
	buf_addstr(&m, " during the checks");
	cJSON_AddItemToObject(d, "log_tail", log_tail_json(r->ctx->log_path));
	verdict(r, name, VERDICT_FAIL, d, m.ptr);
	buf_release(&m);
	return 1;
}

static void run_protocol(struct run *r, const cJSON *instances)
{
	struct protocol_opts po;
	struct protocol_report rep;
	struct buf sum = BUF_INIT;
	cJSON *d, *items;
	size_t passed = 0, skippedn = 0;
	if (!strcmp(r->svc->protocol, "none")) {
		skipped(r, "service.protocol", "protocol: none");
		return;
	}
	if (dead(r, "service.protocol"))
		return;
	begin(r, "service.protocol");
	memset(&po, 0, sizeof(po));
	memset(&rep, 0, sizeof(rep));
	po.base_url = r->s.base_url;
	po.protocol = r->svc->protocol;
	po.model = r->ctx->model_name;
	po.timeout_ms = r->timeout_ms;
	po.instances = instances;
	protocol_check(&po, &rep);
	d = cJSON_CreateObject();
	cJSON_AddStringToObject(d, "protocol", r->svc->protocol);
	items = cJSON_AddArrayToObject(d, "items");
	for (size_t i = 0; i < rep.n; i++) {
		cJSON *it = cJSON_CreateObject();
		cJSON_AddStringToObject(it, "name", rep.items[i].name);
		cJSON_AddStringToObject(it, "status",
					rep.items[i].status == 0   ? "pass"
					: rep.items[i].status == 1 ? "fail"
								   : "skipped");
		cJSON_AddStringToObject(it, "detail", rep.items[i].detail);
		cJSON_AddItemToArray(items, it);
		passed += rep.items[i].status == 0;
		skippedn += rep.items[i].status == 2;
	}
	if (!rep.failed) {
		buf_addf(&sum, "%s: %zu of %zu items passed", r->svc->protocol, passed, rep.n);
		if (skippedn)
			buf_addf(&sum, " (%zu skipped)", skippedn);
	} else {
		size_t shown = 0;
		buf_addf(&sum, "%s: %zu of %zu items failed: ", r->svc->protocol, rep.failed, rep.n);
		for (size_t i = 0; i < rep.n && shown < 3; i++)
			if (rep.items[i].status == 1)
				buf_addf(&sum, "%s%s: %s", shown++ ? "; " : "", rep.items[i].name, rep.items[i].detail);
		if (rep.failed > 3)
			buf_addstr(&sum, "; ...");
	}
	verdict(r, "service.protocol", rep.failed ? VERDICT_FAIL : VERDICT_PASS, d, sum.ptr);
	protocol_report_release(&rep);
	buf_release(&sum);
}

static void run_contract(struct run *r)
{
	struct contract_cases cases = CONTRACT_CASES_INIT;
	struct strvec diags = STRVEC_INIT;
	struct buf sum = BUF_INIT;
	size_t failed = 0, shown = 0;
	cJSON *d, *arr;
	if (!r->ctx->contract_path) {
		skipped(r, "service.contract", "no contract configured");
		return;
	}
	if (dead(r, "service.contract"))
		return;
	begin(r, "service.contract");
	d = cJSON_CreateObject();
	if (contract_load(&cases, r->ctx->contract_path, r->svc->contract ? r->svc->contract : NULL, &diags) < 0) {
		cJSON *da = cJSON_AddArrayToObject(d, "errors");
		for (size_t i = 0; i < diags.n; i++)
			cJSON_AddItemToArray(da, cJSON_CreateString(diags.v[i]));
		buf_addf(&sum, "invalid contract cases: %s%s", diags.n ? diags.v[0] : "?",
			 diags.n > 1 ? " (and more)" : "");
		verdict(r, "service.contract", VERDICT_FAIL, d, sum.ptr);
		goto done;
	}
	arr = cJSON_AddArrayToObject(d, "cases");
	for (size_t i = 0; i < cases.n; i++) {
		struct contract_result res;
		cJSON *c = cJSON_CreateObject(), *pa;
		contract_result_init(&res);
		contract_run_case(r->s.base_url, &cases.items[i], r->timeout_ms, &res);
		cJSON_AddStringToObject(c, "name", cases.items[i].name);
		cJSON_AddStringToObject(c, "file", cases.items[i].file);
		cJSON_AddNumberToObject(c, "line", cases.items[i].line);
		cJSON_AddBoolToObject(c, "passed", res.passed);
		cJSON_AddNumberToObject(c, "status", (double)res.status);
		cJSON_AddNumberToObject(c, "latency_ms", res.latency_ms);
		pa = cJSON_AddArrayToObject(c, "problems");
		for (size_t k = 0; k < res.problems.n; k++)
			cJSON_AddItemToArray(pa, cJSON_CreateString(res.problems.v[k]));
		cJSON_AddItemToArray(arr, c);
		if (!res.passed) {
			if (!failed)
				buf_addstr(&sum, ": ");
			if (shown < 2)
				buf_addf(&sum, "%s\"%s\": %s", shown++ ? "; " : "", cases.items[i].name,
					 res.problems.n ? res.problems.v[0] : "failed");
			failed++;
		}
		contract_result_release(&res);
	}
	{
		struct buf head = BUF_INIT;
		if (failed)
			buf_addf(&head, "%zu of %zu cases failed%s%s", failed, cases.n, sum.ptr,
				 failed > shown ? "; ..." : "");
		else
			buf_addf(&head, "%zu case%s passed", cases.n, cases.n == 1 ? "" : "s");
		verdict(r, "service.contract", failed ? VERDICT_FAIL : VERDICT_PASS, d, head.ptr);
		buf_release(&head);
	}
done:
	contract_cases_release(&cases);
	strvec_clear(&diags);
	buf_release(&sum);
}

static void run_parity(struct run *r)
{
	struct parity_opts po;
	struct parity_report rep;
	struct err e = ERR_INIT;
	struct buf sum = BUF_INIT;
	cJSON *d;
	if (!r->ctx->parity_data_path || !r->ctx->parity_predictions_path) {
		skipped(r, "service.parity", "no parity configured");
		return;
	}
	if (!strcmp(r->svc->protocol, "none")) {
		skipped(r, "service.parity", "parity needs a protocol (kserve-v2 or tfserving-v1) to send rows with");
		return;
	}
	if (dead(r, "service.parity"))
		return;
	begin(r, "service.parity");
	memset(&po, 0, sizeof(po));
	po.base_url = r->s.base_url;
	po.protocol = r->svc->protocol;
	po.model = r->ctx->model_name;
	po.data_path = r->ctx->parity_data_path;
	po.predictions_path = r->ctx->parity_predictions_path;
	po.tolerance = r->svc->parity_present ? r->svc->parity_tolerance : 1e-6;
	po.timeout_ms = r->timeout_ms > 30000 ? r->timeout_ms : 30000;
	parity_report_init(&rep);
	d = cJSON_CreateObject();
	cJSON_AddNumberToObject(d, "tolerance", po.tolerance);
	if (parity_run(&po, &rep, &e) < 0) {
		buf_addf(&sum, "could not compare: %s", err_msg(&e));
		verdict(r, "service.parity", VERDICT_FAIL, d, sum.ptr);
		goto done;
	}
	{
		cJSON *cols = cJSON_AddArrayToObject(d, "columns"), *diffs;
		for (size_t i = 0; i < rep.columns.n; i++)
			cJSON_AddItemToArray(cols, cJSON_CreateString(rep.columns.v[i]));
		cJSON_AddNumberToObject(d, "rows", (double)rep.rows);
		cJSON_AddNumberToObject(d, "values", (double)rep.values);
		cJSON_AddNumberToObject(d, "differing_rows", (double)rep.differing);
		cJSON_AddNumberToObject(d, "max_abs_diff", rep.max_abs_diff);
		diffs = cJSON_AddArrayToObject(d, "differences");
		for (size_t i = 0; i < rep.diffs.n; i++)
			cJSON_AddItemToArray(diffs, cJSON_CreateString(rep.diffs.v[i]));
	}
	if (rep.problem) {
		cJSON_AddStringToObject(d, "problem", rep.problem);
		buf_addf(&sum, "could not compare: %s", rep.problem);
		verdict(r, "service.parity", VERDICT_FAIL, d, sum.ptr);
	} else if (rep.differing) {
		buf_addf(&sum, "%llu of %llu rows differ from the offline predictions (tolerance %g): %s",
			 (unsigned long long)rep.differing, (unsigned long long)rep.rows, po.tolerance, rep.diffs.v[0]);
		verdict(r, "service.parity", VERDICT_FAIL, d, sum.ptr);
	} else {
		buf_addf(&sum, "%llu rows match the offline predictions (%llu values, max difference %.3g <= %g)",
			 (unsigned long long)rep.rows, (unsigned long long)rep.values, rep.max_abs_diff, po.tolerance);
		verdict(r, "service.parity", VERDICT_PASS, d, sum.ptr);
	}
done:
	parity_report_release(&rep);
	err_release(&e);
	buf_release(&sum);
}

/* The request the load test sends: for kserve-v2 an infer request (a real row when parity data is
 * there, else zeros shaped by the metadata); for tfserving-v1 a predict of one instance; else GET of
 * the ready path. */
static void load_request(struct run *r, const cJSON *instances, struct buf *url, char **body)
{
	*body = NULL;
	if (!strcmp(r->svc->protocol, "kserve-v2")) {
		struct http_req q;
		struct http_resp resp;
		cJSON *meta = NULL, *req = NULL;
		char why[256];
		buf_addf(url, "%s/v2/models/%s", r->s.base_url, r->ctx->model_name);
		memset(&q, 0, sizeof(q));
		q.url = url->ptr;
		q.timeout_ms = r->timeout_ms;
		http_resp_init(&resp);
		if (http_do(&q, &resp) == 0 && resp.status == 200)
			meta = cJSON_ParseWithLength(resp.body.ptr, resp.body.len);
		http_resp_release(&resp);
		if (meta && (req = protocol_kserve_request(meta, why, sizeof(why))) != NULL &&
		    cJSON_IsArray(instances) && instances->child) {
			/* one real row instead of zeros, when the first input takes [N, F] */
			cJSON *t = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(req, "inputs"), 0);
			cJSON *shape = cJSON_GetObjectItemCaseSensitive(t, "shape");
			const cJSON *row = instances->child;
			if (cJSON_GetArraySize(shape) == 2 && cJSON_GetArraySize(req->child) == 1 &&
			    cJSON_GetArrayItem(shape, 1)->valuedouble == cJSON_GetArraySize(row)) {
				cJSON_SetNumberValue(cJSON_GetArrayItem(shape, 0), 1);
				cJSON_ReplaceItemInObjectCaseSensitive(t, "data", cJSON_Duplicate(row, 1));
			}
		}
		buf_addstr(url, "/infer");
		if (req)
			*body = cJSON_PrintUnformatted(req);
		cJSON_Delete(meta);
		cJSON_Delete(req);
	} else if (!strcmp(r->svc->protocol, "tfserving-v1") && cJSON_IsArray(instances) && instances->child) {
		cJSON *req = cJSON_CreateObject(), *a = cJSON_AddArrayToObject(req, "instances");
		cJSON_AddItemToArray(a, cJSON_Duplicate(instances->child, 1));
		buf_addf(url, "%s/v1/models/%s:predict", r->s.base_url, r->ctx->model_name);
		*body = cJSON_PrintUnformatted(req);
		cJSON_Delete(req);
	} else {
		buf_addf(url, "%s%s", r->s.base_url, r->svc->ready);
	}
}

static void run_load(struct run *r, const cJSON *instances)
{
	static const char *const jh[] = { "Content-Type: application/json", NULL };
	struct check_load_opts lo;
	struct check_load_result res;
	struct check_load_thresholds th;
	struct err e = ERR_INIT;
	struct buf url = BUF_INIT, sum = BUF_INIT, msg = BUF_INIT;
	char *body = NULL;
	cJSON *d;
	if (!r->svc->load_present) {
		skipped(r, "service.load", "no load test configured");
		return;
	}
	if (dead(r, "service.load"))
		return;
	begin(r, "service.load");
	load_request(r, instances, &url, &body);
	memset(&lo, 0, sizeof(lo));
	memset(&res, 0, sizeof(res));
	lo.url = url.ptr;
	lo.method = body ? "POST" : "GET";
	lo.body = body;
	lo.body_len = body ? strlen(body) : 0;
	lo.headers = body ? jh : NULL;
	lo.rate = r->svc->load_rate;
	lo.duration_ms = r->svc->load_duration_ms;
	lo.connections = (int)r->svc->load_connections;
	lo.threads = 1;
	lo.timeout_ms = r->timeout_ms;
	d = cJSON_CreateObject();
	cJSON_AddStringToObject(d, "url", url.ptr);
	cJSON_AddStringToObject(d, "method", lo.method);
	if (check_load_run(&lo, &res, &e) < 0) {
		buf_addf(&sum, "could not run the load test: %s", err_msg(&e));
		verdict(r, "service.load", VERDICT_FAIL, d, sum.ptr);
	} else {
		double p50 = (double)check_hist_percentile(&res.latency, 50) / 1e6;
		double p90 = (double)check_hist_percentile(&res.latency, 90) / 1e6;
		double p99 = (double)check_hist_percentile(&res.latency, 99) / 1e6;
		double mx = (double)check_hist_percentile(&res.latency, 100) / 1e6;
		int bad;
		cJSON *errs = cJSON_AddObjectToObject(d, "errors");
		cJSON_AddNumberToObject(d, "requests", (double)res.requests);
		cJSON_AddNumberToObject(d, "ok", (double)res.ok);
		cJSON_AddNumberToObject(d, "unsent", (double)res.unsent);
		cJSON_AddNumberToObject(d, "qps", res.qps);
		cJSON_AddNumberToObject(d, "target_qps", res.target_qps);
		cJSON_AddNumberToObject(d, "duration_s", res.duration_s);
		cJSON_AddNumberToObject(d, "p50_ms", p50);
		cJSON_AddNumberToObject(d, "p90_ms", p90);
		cJSON_AddNumberToObject(d, "p99_ms", p99);
		cJSON_AddNumberToObject(d, "max_ms", mx);
		cJSON_AddNumberToObject(d, "error_rate", check_load_error_rate(&res));
		for (int k = 0; k < CHECK_LOAD_NERR; k++)
			cJSON_AddNumberToObject(errs, check_load_error_name(k), (double)res.errors[k]);
		check_load_thresholds_from_spec(r->svc, &th);
		bad = check_load_evaluate(&res, &th, &msg);
		/* an open loop that could not send what it was asked to: the service did not keep up */
		if (res.target_qps > 0 && res.unsent * 100 > res.requests + res.unsent) {
			bad = 1;
			buf_addf(&msg,
				 "%s%llu of %llu requests never sent: the service could not keep up with %g req/s",
				 msg.len ? "; " : "", (unsigned long long)res.unsent,
				 (unsigned long long)(res.requests + res.unsent), res.target_qps);
		}
		if (!res.ok) {
			bad = 1;
			buf_addstr(&msg, msg.len ? "; no request succeeded" : "no request succeeded");
		}
		buf_addf(&sum, "%llu requests, %.1f req/s", (unsigned long long)res.requests, res.qps);
		if (res.target_qps > 0)
			buf_addf(&sum, " (target %g)", res.target_qps);
		buf_addf(&sum, ", p50 %.2f ms, p99 %.2f ms, %llu errors", p50, p99,
			 (unsigned long long)check_load_errors(&res));
		if (msg.len)
			buf_addf(&sum, ": %s", msg.ptr);
		verdict(r, "service.load", bad ? VERDICT_FAIL : VERDICT_PASS, d, sum.ptr);
	}
	check_load_result_release(&res);
	if (body)
		cJSON_free(body);
	err_release(&e);
	buf_release(&url);
	buf_release(&sum);
	buf_release(&msg);
}

int service_checks_run(const struct service_ctx *ctx, struct verdicts *out, struct err *e)
{
	struct service_start_opts so;
	struct run r;
	struct buf why = BUF_INIT;
	cJSON *instances = NULL;
	int ready;

	memset(&r, 0, sizeof(r));
	r.ctx = ctx;
	r.svc = ctx->svc;
	r.out = out;
	r.timeout_ms = ctx->request_timeout_ms > 0 ? ctx->request_timeout_ms : 10000;
	if (!ctx->svc || !ctx->svc->present || !ctx->svc->start || !ctx->svc->ready || !ctx->log_path)
		return err_set(e, MLCI_EUSAGE,
			       "service check: no service configured (start, ready and a log are needed)");
	if (!ctx->model_name)
		return err_set(e, MLCI_EUSAGE, "service check: no model name for the protocol URLs");

	begin(&r, "service.start");
	memset(&so, 0, sizeof(so));
	so.cmd = r.svc->start;
	so.cwd = ctx->cwd;
	so.env = ctx->env;
	so.log_path = ctx->log_path;
	so.mask = ctx->mask;
	if (service_start(&r.s, &so, e) < 0)
		return -1;
	ready = service_wait_ready(&r.s, r.svc->ready, r.svc->ready_timeout_ms, &why) == 0;
	if (!ready) {
		cJSON *d = cJSON_CreateObject();
		int code;
		cJSON_AddNumberToObject(d, "port", r.s.port);
		code = service_stop(&r.s, ctx->stop_grace_ms);
		cJSON_AddNumberToObject(d, "exit_code", code);
		cJSON_AddItemToObject(d, "log_tail", log_tail_json(ctx->log_path));
		{
			const cJSON *tail = cJSON_GetObjectItemCaseSensitive(d, "log_tail");
			const cJSON *lastl = cJSON_GetArrayItem(tail, cJSON_GetArraySize(tail) - 1);
			if (cJSON_IsString(lastl) && *lastl->valuestring)
				buf_addf(&why, "; last log line: %.200s", lastl->valuestring);
		}
		verdict(&r, "service.start", VERDICT_FAIL, d, why.ptr);
		skipped(&r, "service.protocol", "the service did not start");
		skipped(&r, "service.contract", "the service did not start");
		skipped(&r, "service.parity", "the service did not start");
		skipped(&r, "service.load", "the service did not start");
		buf_release(&why);
		return 0;
	}
	{
		cJSON *d = cJSON_CreateObject();
		struct buf m = BUF_INIT;
		cJSON_AddNumberToObject(d, "port", r.s.port);
		cJSON_AddNumberToObject(d, "ready_ms", (double)(r.s.ready_ms - r.t_mono));
		buf_addf(&m, "ready in %.2f s on 127.0.0.1:%d", (double)(r.s.ready_ms - r.t_mono) / 1000.0, r.s.port);
		verdict(&r, "service.start", VERDICT_PASS, d, m.ptr);
		buf_release(&m);
	}
	if (ctx->parity_data_path) {
		struct err pe = ERR_INIT;
		instances = parity_sample_rows(ctx->parity_data_path, 2, &pe);
		err_release(&pe); /* the parity check reports an unreadable file itself */
	}
	run_protocol(&r, instances);
	run_contract(&r);
	run_parity(&r);
	run_load(&r, instances);
	service_stop(&r.s, ctx->stop_grace_ms);
	cJSON_Delete(instances);
	buf_release(&why);
	return 0;
}
