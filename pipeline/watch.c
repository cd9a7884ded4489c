/* watch.c - `mlci watch`: poll remote branch heads (ls-remote style, no object transfer when nothing
 * changed), fetch into the mirror, and start one `mlci run` child per new head, oldest first, at most
 * -j at once. It never prints and never runs git; runs are separate processes. */
#include "pipeline/watch.h"

#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <time.h>
#include <unistd.h>

#include "common/alloc.h"
#include "common/buf.h"
#include "common/clock.h"
#include "common/fs.h"
#include "common/path.h"
#include "common/proc.h"
#include "common/sha256.h"
#include "registry/store.h"
#include "registry/store_heads.h"
#include "common/banned.h"

extern char **environ;

#define WATCH_MAX_BACKOFF_MS (5LL * 60 * 1000)
#define WATCH_MAX_SLEEP_MS   250 /* bounds how late a stop request is noticed */

struct wrepo {
	char *key;            /* branch_heads.repo: the URL, or the absolute path of a local repo; owned */
	struct ws_source src; /* the bare mirror */
	int failures;         /* consecutive failed polls */
	int64_t next_poll_ms; /* monotonic */
	int polled;           /* --once: polled already */
	int lock_fd;          /* flock'd $home/locks/watch-<hash>.lock, held while watching; -1 = none */
};

struct job {
	size_t repo;
	char *branch; /* owned */
	char commit[41];
	long long time;       /* committer time: oldest first */
	struct proc p;        /* running when started */
	int64_t started_wall; /* ms since the epoch, to find its run row */
	char *cmd;            /* owned; proc borrows it */
};

struct watcher {
	const struct watch_opts *o;
	struct watch_result *res;
	struct store st;
	struct wrepo *repos;
	struct job **queue; /* not started, sorted by time at dispatch */
	size_t nq, aq;
	struct job **running;
	size_t nr, ar;
	char **env; /* environ, borrowed */
	char *log_path;
};

static void report(struct watcher *w, enum watch_what what, size_t repo, const char *branch, const char *commit,
		   const char *run, const char *detail, int code, int count, int64_t retry)
{
	struct watch_report r;
	if (!w->o->report)
		return;
	memset(&r, 0, sizeof(r));
	r.what = what;
	r.repo = w->repos[repo].key;
	r.branch = branch;
	r.commit = commit;
	r.run = run;
	r.detail = detail;
	r.exit_code = code;
	r.count = count;
	r.retry_ms = retry;
	w->o->report(w->o->payload, &r);
}

static void job_free(struct job *j)
{
	if (!j)
		return;
	if (j->p.state != PROC_IDLE)
		proc_release(&j->p);
	free(j->branch);
	free(j->cmd);
	free(j);
}

static int watched(const struct watch_opts *o, const char *branch)
{
	if (!o->branches || !o->branches->n)
		return 1;
	for (size_t i = 0; i < o->branches->n; i++)
		if (fnmatch(o->branches->v[i], branch, 0) == 0)
			return 1;
	return 0;
}

/* The job (queued or running) of "repo" and "branch" in "list", newest last; NULL when none. */
static struct job *find_job(struct job **list, size_t n, size_t repo, const char *branch, const char *commit)
{
	for (size_t i = n; i-- > 0;)
		if (list[i]->repo == repo && !strcmp(list[i]->branch, branch) &&
		    (!commit || !strcmp(list[i]->commit, commit)))
			return list[i];
	return NULL;
}

/* Stored heads of one repository, copied out of SQLite's buffers. */
struct stored {
	char *branch, *commit, *status;
	int seen_remote;
};
struct stored_list {
	struct stored *v;
	size_t n, alloc;
};

static int collect_stored(void *payload, const struct store_head *h)
{
	struct stored_list *l = payload;
	ALLOC_GROW(l->v, l->n + 1, l->alloc);
	l->v[l->n].branch = xstrdup(h->branch);
	l->v[l->n].commit = xstrdup(h->commit_id);
	l->v[l->n].status = xstrdup(h->status);
	l->v[l->n].seen_remote = 0;
	l->n++;
	return 0;
}

static void stored_release(struct stored_list *l)
{
	for (size_t i = 0; i < l->n; i++) {
		free(l->v[i].branch);
		free(l->v[i].commit);
		free(l->v[i].status);
	}
	free(l->v);
}

static void poll_failed(struct watcher *w, size_t i, const char *why)
{
	struct wrepo *r = &w->repos[i];
	int64_t backoff = w->o->interval_ms;
	r->failures++;
	w->res->fetch_failures++;
	for (int k = 1; k < r->failures && backoff < WATCH_MAX_BACKOFF_MS; k++)
		backoff *= 2;
	if (backoff > WATCH_MAX_BACKOFF_MS)
		backoff = WATCH_MAX_BACKOFF_MS;
	r->next_poll_ms = clock_mono_ms() + backoff;
	report(w, WATCH_FETCH_FAILED, i, NULL, NULL, NULL, why, 0, r->failures, w->o->once ? 0 : backoff);
}

/* Queue a run of "commit" on "branch"; a queued, not yet started run of the same branch is replaced. */
static void enqueue(struct watcher *w, size_t repo, const char *branch, const char *commit, long long time)
{
	struct job *j = find_job(w->queue, w->nq, repo, branch, NULL);
	if (!j) {
		j = xcalloc(1, sizeof(*j));
		j->repo = repo;
		j->branch = xstrdup(branch);
		ALLOC_GROW(w->queue, w->nq + 1, w->aq);
		w->queue[w->nq++] = j;
	}
	memcpy(j->commit, commit, sizeof(j->commit));
	j->time = time;
}

static void dequeue_branch(struct watcher *w, size_t repo, const char *branch)
{
	size_t k = 0;
	for (size_t i = 0; i < w->nq; i++) {
		if (w->queue[i]->repo == repo && !strcmp(w->queue[i]->branch, branch))
			job_free(w->queue[i]);
		else
			w->queue[k++] = w->queue[i];
	}
	w->nq = k;
}

/*
 * One poll of repository "i": list the remote's branches, compare them with the stored heads, fetch
 * only when something changed, then queue the new heads and handle deleted branches. A failure is
 * reported and the repository is polled again after a backoff.
 */
static void poll_repo(struct watcher *w, size_t i)
{
	struct wrepo *r = &w->repos[i];
	struct ws_heads heads;
	struct stored_list stored;
	struct err e = ERR_INIT;
	int *need = NULL, changed = 0;

	memset(&stored, 0, sizeof(stored));
	r->next_poll_ms = clock_mono_ms() + w->o->interval_ms;
	r->polled = 1;
	if (ws_remote_heads(&r->src, &w->o->transport, &heads, &e) < 0) {
		poll_failed(w, i, err_msg(&e));
		err_release(&e);
		return;
	}
	if (store_heads_each(&w->st, r->key, collect_stored, &stored, &e) < 0) {
		poll_failed(w, i, err_msg(&e));
		goto done;
	}
	need = xcalloc(heads.n ? heads.n : 1, sizeof(*need));
	for (size_t h = 0; h < heads.n; h++) {
		struct stored *s = NULL;
		const char *branch = heads.v[h].branch, *id = heads.v[h].id;
		if (!watched(w->o, branch))
			continue;
		for (size_t k = 0; k < stored.n; k++)
			if (!strcmp(stored.v[k].branch, branch)) {
				s = &stored.v[k];
				s->seen_remote = 1;
			}
		/* already queued or running for exactly this commit: nothing to do */
		if (find_job(w->queue, w->nq, i, branch, id) || find_job(w->running, w->nr, i, branch, id))
			continue;
		/* new branch, moved head, or a head whose run never finished (the watcher was stopped) */
		if (!s || strcmp(s->commit, id) || strcmp(s->status, "done")) {
			need[h] = !s ? 1 : !strcmp(s->status, "deleted") ? 1 : strcmp(s->commit, id) ? 2 : 3;
			changed = 1;
		}
	}
	for (size_t k = 0; k < stored.n; k++)
		if (!stored.v[k].seen_remote && strcmp(stored.v[k].status, "deleted") &&
		    watched(w->o, stored.v[k].branch))
			changed = 1;
	if (!changed)
		goto ok; /* the idle path: one ref listing, no fetch */

	if (ws_mirror_fetch(&r->src, &w->o->transport, &e) < 0) {
		poll_failed(w, i, err_msg(&e));
		goto done;
	}
	for (size_t h = 0; h < heads.n; h++) {
		long long t = 0;
		static const char *const kinds[] = { "", "new branch", "new head", "unfinished run" };
		const char *kind = kinds[need[h]];
		struct buf why = BUF_INIT;
		if (!need[h])
			continue;
		if (ws_commit_time(&r->src, heads.v[h].id, &t) < 0)
			continue; /* moved again between listing and fetch: the next poll sees it */
		if (need[h] == 2) {
			/* fast-forward when the handled head is an ancestor of the new one, else a force-push */
			for (size_t k = 0; k < stored.n; k++)
				if (!strcmp(stored.v[k].branch, heads.v[h].branch))
					kind = ws_is_ancestor(&r->src, stored.v[k].commit, heads.v[h].id) == 1
						       ? "fast-forward"
						       : "force-push";
		}
		buf_addstr(&why, kind);
		report(w, WATCH_HEAD, i, heads.v[h].branch, heads.v[h].id, NULL, why.ptr, 0, 0, 0);
		buf_release(&why);
		enqueue(w, i, heads.v[h].branch, heads.v[h].id, t);
	}
	for (size_t k = 0; k < stored.n; k++) {
		int n = 0;
		struct stored *s = &stored.v[k];
		if (s->seen_remote || !strcmp(s->status, "deleted") || !watched(w->o, s->branch))
			continue;
		dequeue_branch(w, i, s->branch);
		if (store_head_put(&w->st, r->key, s->branch, s->commit, NULL, "deleted", &e) < 0 ||
		    store_promotions_cancel_branch(&w->st, r->src.git_dir, s->branch, &n, &e) < 0) {
			poll_failed(w, i, err_msg(&e));
			goto done;
		}
		report(w, WATCH_DELETED, i, s->branch, s->commit, NULL, NULL, 0, n, 0);
	}
ok:
	if (r->failures)
		report(w, WATCH_FETCH_OK, i, NULL, NULL, NULL, NULL, 0, r->failures, 0);
	r->failures = 0;
done:
	free(need);
	stored_release(&stored);
	ws_heads_release(&heads);
	err_release(&e);
}

static int by_time(const void *a, const void *b)
{
	const struct job *x = *(struct job *const *)a, *y = *(struct job *const *)b;
	return x->time < y->time ? -1 : x->time > y->time ? 1 : 0;
}

/* Start queued runs, oldest commit first, while fewer than -j run. */
static void dispatch(struct watcher *w)
{
	if (w->nq > 1)
		qsort(w->queue, w->nq, sizeof(*w->queue), by_time);
	while (w->nq && w->nr < (size_t)w->o->jobs) {
		struct job *j = w->queue[0];
		struct wrepo *r = &w->repos[j->repo];
		struct buf cmd = BUF_INIT;
		struct proc_opts po;
		struct err e = ERR_INIT;

		memmove(w->queue, w->queue + 1, (w->nq - 1) * sizeof(*w->queue));
		w->nq--;
		buf_addstr(&cmd, "exec ");
		buf_add_shquote(&cmd, w->o->exe);
		buf_addstr(&cmd, " --home ");
		buf_add_shquote(&cmd, w->o->home);
		buf_addstr(&cmd, " -q run --trigger push --repo ");
		buf_add_shquote(&cmd, r->src.git_dir);
		buf_addf(&cmd, " --rev %s --branch ", j->commit);
		buf_add_shquote(&cmd, j->branch);
		j->cmd = buf_detach(&cmd, NULL);
		memset(&po, 0, sizeof(po));
		po.cmd = j->cmd;
		po.env = w->env;
		po.log_path = w->log_path;
		po.stream_fd = -1;
		j->started_wall = clock_wall_ms();
		if (store_head_put(&w->st, r->key, j->branch, j->commit, NULL, "running", &e) < 0 ||
		    proc_start(&j->p, &po, &e) < 0) {
			/* the head stays unhandled: the next poll queues it again */
			report(w, WATCH_RUN_END, j->repo, j->branch, j->commit, NULL, err_msg(&e), 3, 0, 0);
			store_head_finish(&w->st, r->key, j->branch, j->commit, NULL, "seen", NULL);
			err_release(&e);
			job_free(j);
			continue;
		}
		w->res->runs++;
		ALLOC_GROW(w->running, w->nr + 1, w->ar);
		w->running[w->nr++] = j;
		report(w, WATCH_RUN_START, j->repo, j->branch, j->commit, NULL, NULL, 0, 0, 0);
	}
}

/* A run ended: record its run id and status on the head, and report it. A run cancelled by our stop
 * leaves the head "seen", so that the next watcher runs it again (its completed steps are cached). */
static void finish(struct watcher *w, size_t idx, int stopping)
{
	struct job *j = w->running[idx];
	struct wrepo *r = &w->repos[j->repo];
	struct err e = ERR_INIT;
	char run[64] = "";
	int code = j->p.exit_code;
	int cancelled = stopping && code > 128;
	int found = store_head_find_run(&w->st, r->src.git_dir, j->commit, j->branch, j->started_wall - 1000, run,
					sizeof(run), &e);

	if (found < 0) {
		report(w, WATCH_FETCH_FAILED, j->repo, j->branch, j->commit, NULL, err_msg(&e), 0, 0, 0);
		err_release(&e);
	}
	if (store_head_finish(&w->st, r->key, j->branch, j->commit, found == 1 ? run : NULL,
			      cancelled ? "seen" : "done", &e) < 0) {
		report(w, WATCH_FETCH_FAILED, j->repo, j->branch, j->commit, NULL, err_msg(&e), 0, 0, 0);
		err_release(&e);
	}
	if (cancelled)
		w->res->cancelled++;
	else if (code == 0)
		w->res->passed++;
	else
		w->res->failed++;
	report(w, WATCH_RUN_END, j->repo, j->branch, j->commit, found == 1 ? run : NULL, NULL, code, 0, 0);
	memmove(w->running + idx, w->running + idx + 1, (w->nr - idx - 1) * sizeof(*w->running));
	w->nr--;
	job_free(j);
}

/* Wait up to "ms" for a run to end (ms < 0: until one does), handling the ones that do. */
static void wait_some(struct watcher *w, int64_t ms, int stopping)
{
	if (!w->nr) {
		if (ms > 0)
			poll(NULL, 0, (int)ms); /* EINTR on a signal: the caller checks the stop flag */
		return;
	}
	struct proc **ps = xcalloc(w->nr, sizeof(*ps));
	for (size_t i = 0; i < w->nr; i++)
		ps[i] = &w->running[i]->p;
	int k = proc_wait_any(ps, w->nr, ms < 0 ? -1 : (int)ms);
	free(ps);
	if (k >= 0)
		finish(w, (size_t)k, stopping);
}

/*
 * Take the watcher lock of repository "i": flock on $home/locks/watch-<sha256(key), 16 hex>.lock, held
 * (fd kept open, close-on-exec so runs do not inherit it) until the watcher returns, released by the
 * kernel if it dies. The file says "pid N" and the repository; it is never unlinked, so that two
 * watchers always lock the same inode. Another holder: -1 with MLCI_EINFRA naming its pid.
 */
static int lock_repo(struct watcher *w, size_t i, const char *home, struct err *e)
{
	struct wrepo *r = &w->repos[i];
	struct buf path = BUF_INIT, text = BUF_INIT;
	char hex[SHA256_HEX_LEN + 1];
	int fd, ret = -1;

	sha256_hex(r->key, strlen(r->key), hex);
	buf_addf(&path, "%s/locks", home);
	if (fs_mkdir_p(path.ptr, 0755, e) < 0)
		goto done;
	buf_addf(&path, "/watch-%.16s.lock", hex);
	fd = open(path.ptr, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	if (fd < 0) {
		err_errno(e, MLCI_EINFRA, "could not open '%s'", path.ptr);
		goto done;
	}
	if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		int saved = errno;
		char held[256] = "";
		ssize_t n = pread(fd, held, sizeof(held) - 1, 0);
		long pid = 0;
		close(fd);
		if (saved != EWOULDBLOCK) {
			errno = saved;
			err_errno(e, MLCI_EINFRA, "could not lock '%s'", path.ptr);
			goto done;
		}
		if (n > 0)
			held[n] = 0;
		if (sscanf(held, "pid %ld", &pid) == 1 && pid == (long)getpid())
			err_set(e, MLCI_EUSAGE, "'%s' is given twice", r->key);
		else if (sscanf(held, "pid %ld", &pid) == 1 && pid > 0)
			err_set(e, MLCI_EINFRA,
				"'%s' is already watched with this MLCI_HOME by another mlci watch (pid %ld; lock %s)",
				r->key, pid, path.ptr);
		else
			err_set(e, MLCI_EINFRA,
				"'%s' is already watched with this MLCI_HOME by another mlci watch (lock %s)", r->key,
				path.ptr);
		goto done;
	}
	buf_addf(&text, "pid %ld\nrepo %s\n", (long)getpid(), r->key);
	if (ftruncate(fd, 0) < 0 || pwrite(fd, text.ptr, text.len, 0) != (ssize_t)text.len) {
		err_errno(e, MLCI_EINFRA, "could not write '%s'", path.ptr);
		close(fd);
		goto done;
	}
	r->lock_fd = fd;
	ret = 0;
done:
	buf_release(&path);
	buf_release(&text);
	return ret;
}

int watch_run(const struct watch_opts *o, struct watch_result *res, struct err *e)
{
	struct watcher w;
	struct buf lp = BUF_INIT;
	int ret = -1;

	memset(&w, 0, sizeof(w));
	memset(res, 0, sizeof(*res));
	w.o = o;
	w.res = res;
	w.env = environ;
	if (store_open(&w.st, o->home, e) < 0)
		return -1;
	buf_addf(&lp, "%s/logs", o->home);
	if (fs_mkdir_p(lp.ptr, 0755, e) < 0)
		goto done;
	buf_addstr(&lp, "/watch.log");
	w.log_path = buf_detach(&lp, NULL);
	w.repos = xcalloc(o->n_repos, sizeof(*w.repos));
	for (size_t i = 0; i < o->n_repos; i++)
		w.repos[i].lock_fd = -1;
	for (size_t i = 0; i < o->n_repos; i++) {
		const char *loc = o->repos[i];
		w.repos[i].key = ws_is_url(loc) ? xstrdup(loc) : path_absolute(loc);
		if (lock_repo(&w, i, o->home, e) < 0)
			goto done;
		if (ws_mirror_open(&w.repos[i].src, o->home, w.repos[i].key, e) < 0) {
			err_prefix(e, "'%s'", loc);
			goto done;
		}
	}

	while (!*o->stop) {
		int64_t now = clock_mono_ms(), next = -1;
		for (size_t i = 0; i < o->n_repos && !*o->stop; i++) {
			struct wrepo *r = &w.repos[i];
			if (o->once && r->polled)
				continue;
			if (r->next_poll_ms <= now)
				poll_repo(&w, i);
			if (!o->once && (next < 0 || r->next_poll_ms < next))
				next = r->next_poll_ms;
		}
		if (*o->stop)
			break;
		dispatch(&w);
		if (o->once && !w.nq && !w.nr)
			break;
		now = clock_mono_ms();
		{
			int64_t ms = next < 0 ? WATCH_MAX_SLEEP_MS : next - now;
			if (ms > WATCH_MAX_SLEEP_MS)
				ms = WATCH_MAX_SLEEP_MS;
			if (ms < 0)
				ms = 0;
			wait_some(&w, ms, 0);
		}
	}
	/* stop: the runs cancel themselves cleanly on SIGTERM and record that; wait for every one */
	for (size_t i = 0; i < w.nr; i++)
		proc_signal(&w.running[i]->p, SIGTERM);
	while (w.nr)
		wait_some(&w, -1, 1);
	ret = 0;
done:
	for (size_t i = 0; i < w.nq; i++)
		job_free(w.queue[i]);
	for (size_t i = 0; i < w.nr; i++)
		job_free(w.running[i]);
	free(w.queue);
	free(w.running);
	for (size_t i = 0; w.repos && i < o->n_repos; i++) {
		ws_source_release(&w.repos[i].src);
		free(w.repos[i].key);
		if (w.repos[i].lock_fd >= 0)
			close(w.repos[i].lock_fd); /* releases the lock */
	}
	free(w.repos);
	free(w.log_path);
	buf_release(&lp);
	store_close(&w.st);
	return ret;
}
