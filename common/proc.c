/* proc.c - the one process runner (see proc.h): fork + /bin/sh -c in a new process group, output
 * pumped through poll() into a masked log and stream. Must not print to stdout or exit the caller. */
#include "common/proc.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common/alloc.h"
#include "common/clock.h"
#include "common/banned.h"

/* After SIGTERM at the deadline, the group gets SIGKILL this much later. */
#define PROC_KILL_GRACE_MS 2000
/* After the shell is reaped, how long processes that escaped its group may keep the pipe open. */
#define PROC_DRAIN_MS 2000
/* A line longer than this is written out in pieces (masking stays correct across the cut). */
#define PROC_LINE_MAX 65536
/* While the shell has not been reaped, re-check it this often: a grandchild holding the pipe
 * open would otherwise keep poll() asleep after the shell itself has exited. */
#define PROC_REAP_POLL_MS 50
/* The pipe is at EOF but the shell is not reaped yet: it is exiting, look again soon. */
#define PROC_REAP_EOF_POLL_MS 5
/* Reads per process per wake-up, so one chatty process cannot starve the others. */
#define PROC_READS_PER_WAKE 16

/* ---------------------------------------------------------------- child side (fork → exec) */

/* Only async-signal-safe calls below this line until execve: the parent may have threads. */

static void child_write(const char *s)
{
	size_t len = strlen(s);
	while (len) {
		ssize_t n = write(2, s, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return;
		s += n;
		len -= (size_t)n;
	}
}

/* strerror() is not async-signal-safe; name the usual suspects and number the rest. */
static void child_write_errno(int err)
{
	char num[24];
	size_t i = sizeof(num) - 1;
	unsigned v = err < 0 ? 0u : (unsigned)err;
	switch (err) {
	case ENOENT:
		child_write("No such file or directory");
		return;
	case ENOTDIR:
		child_write("Not a directory");
		return;
	case EACCES:
		child_write("Permission denied");
		return;
	case ELOOP:
		child_write("Too many levels of symbolic links");
		return;
	case ENAMETOOLONG:
		child_write("File name too long");
		return;
	case ENOMEM:
		child_write("Cannot allocate memory");
		return;
	case ENOEXEC:
		child_write("Exec format error");
		return;
	default:
		break;
	}
	num[i] = '\0';
	do {
		num[--i] = (char)('0' + v % 10);
		v /= 10;
	} while (v && i);
	child_write("error ");
	child_write(num + i);
}

static void child_fail(const char *what, const char *arg, int err)
{
	child_write("mlci: ");
	child_write(what);
	if (arg) {
		child_write(" '");
		child_write(arg);
		child_write("'");
	}
	child_write(": ");
	child_write_errno(err);
	child_write("\n");
	_exit(127);
}

static void child_exec(const struct proc_opts *o, int wfd, char *const argv[], char *const envp[])
{
	struct sigaction dfl;
	sigset_t none;
	int fd;

	setpgid(0, 0);

	/* Handlers and ignored signals (SIGPIPE!) must not leak into the step; signals are still
	 * blocked here (the parent blocked them around fork), so no parent handler can run. */
	memset(&dfl, 0, sizeof(dfl));
	dfl.sa_handler = SIG_DFL;
	sigemptyset(&dfl.sa_mask);
	for (int sig = 1; sig < NSIG; sig++) {
		struct sigaction old;
		if (sig == SIGKILL || sig == SIGSTOP)
			continue;
		if (sigaction(sig, NULL, &old) == 0 && old.sa_handler != SIG_DFL)
			sigaction(sig, &dfl, NULL);
	}

	/* dup2(fd, fd) would keep O_CLOEXEC: move the pipe above 2 first if it landed there. */
	if (wfd <= 2) {
		int moved = fcntl(wfd, F_DUPFD_CLOEXEC, 3);
		if (moved < 0)
			_exit(127);
		wfd = moved;
	}
	fd = open("/dev/null", O_RDONLY);
	if (fd < 0) {
		close(0);
	} else if (fd != 0) {
		dup2(fd, 0);
		close(fd);
	}
	if (dup2(wfd, 1) < 0 || dup2(wfd, 2) < 0)
		_exit(127);
		/* Descriptors opened elsewhere in mlci without O_CLOEXEC must not reach the step either. */
#ifdef CLOSE_RANGE_CLOEXEC
	close_range(3, ~0u, CLOSE_RANGE_CLOEXEC);
#endif
	if (o->cwd && chdir(o->cwd) < 0)
		child_fail("could not change directory to", o->cwd, errno);

	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	execve("/bin/sh", argv, envp);
	child_fail("could not execute", "/bin/sh", errno);
}

/* ---------------------------------------------------------------- start */

int proc_start(struct proc *p, const struct proc_opts *o, struct err *e)
{
	static char *const empty_env[] = { NULL };
	char *argv[4];
	sigset_t all, old;
	int fds[2];
	int saved;
	pid_t pid;

	memset(p, 0, sizeof(*p));
	p->state = PROC_IDLE;
	p->out_fd = -1;
	p->log_fd = -1;
	buf_init(&p->linebuf, 0);
	if (!o || !o->cmd)
		return err_set(e, MLCI_EINFRA, "no command to run");
	p->opts = *o;

	if (o->log_path) {
		p->log_fd = open(o->log_path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
		if (p->log_fd < 0)
			return err_errno(e, MLCI_EINFRA, "could not open log '%s'", o->log_path);
	}
	if (pipe2(fds, O_CLOEXEC) < 0) {
		err_errno(e, MLCI_EINFRA, "could not create a pipe");
		goto fail;
	}
	if (fcntl(fds[0], F_SETFL, O_NONBLOCK) < 0) {
		err_errno(e, MLCI_EINFRA, "could not make the pipe non-blocking");
		close(fds[0]);
		close(fds[1]);
		goto fail;
	}

	argv[0] = (char *)"sh";
	argv[1] = (char *)"-c";
	argv[2] = (char *)o->cmd;
	argv[3] = NULL;

	/* Block every signal across fork so the child cannot run one of our handlers before it
	 * has reset them; the child unblocks right before execve. */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	pid = fork();
	if (pid == 0)
		child_exec(o, fds[1], argv, o->env ? o->env : empty_env);
	saved = errno;
	if (pid > 0)
		setpgid(pid, pid); /* also here, so kill(-pid) works whoever runs first */
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	close(fds[1]);
	if (pid < 0) {
		errno = saved;
		err_errno(e, MLCI_EINFRA, "could not start '%s'", o->cmd);
		close(fds[0]);
		goto fail;
	}
	p->pid = pid;
	p->out_fd = fds[0];
	p->started_ms = clock_mono_ms();
	p->deadline_ms = o->timeout_ms > 0 ? p->started_ms + o->timeout_ms : 0;
	p->state = PROC_RUNNING;
	return 0;
fail:
	if (p->log_fd >= 0)
		close(p->log_fd);
	p->log_fd = -1;
	return -1;
}

/* ---------------------------------------------------------------- output: mask, log, stream */

static void write_all(int fd, const char *data, size_t len)
{
	while (len) {
		ssize_t n = write(fd, data, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return; /* a full disk or a gone reader must not stop the step; drop the rest */
		data += n;
		len -= (size_t)n;
	}
}

/* The secrets to mask, split at newlines: output is masked one line at a time, so a multi-line
 * secret (a key file, say) is matched line by line. "first" marks the bytes a piece starts with,
 * so most output bytes are passed over with one table look-up. */
struct mask_piece {
	const char *s;
	size_t len;
};

struct mask_set {
	struct mask_piece *v;
	size_t n, alloc;
	size_t longest;
	unsigned char first[256];
};

static void mask_set_init(struct mask_set *m, const char *const *mask)
{
	memset(m, 0, sizeof(*m));
	for (; mask && *mask; mask++) {
		const char *piece = *mask;
		while (*piece) {
			const char *nl = strchr(piece, '\n');
			size_t pl = nl ? (size_t)(nl - piece) : strlen(piece);
			if (pl) {
				ALLOC_GROW(m->v, m->n + 1, m->alloc);
				m->v[m->n].s = piece;
				m->v[m->n].len = pl;
				m->n++;
				m->first[(unsigned char)piece[0]] = 1;
				if (pl > m->longest)
					m->longest = pl;
			}
			piece += pl;
			if (*piece == '\n')
				piece++;
		}
	}
}

static void mask_set_release(struct mask_set *m)
{
	free(m->v);
	m->v = NULL;
	m->n = m->alloc = 0;
}

/* Length of the longest piece matching at "s" (at most "len" bytes there), or 0. */
static size_t mask_match(const struct mask_set *m, const char *s, size_t len)
{
	size_t best = 0;
	if (!m->first[(unsigned char)s[0]])
		return 0;
	for (size_t i = 0; i < m->n; i++)
		if (m->v[i].len <= len && m->v[i].len > best && !memcmp(s, m->v[i].s, m->v[i].len))
			best = m->v[i].len;
	return best;
}

/* Append "s" to "out" with secrets replaced, stopping before offset "stop" (a secret starting
 * before "stop" is still replaced whole). Returns how many input bytes were consumed. */
static size_t mask_copy(const struct mask_set *m, const char *s, size_t len, size_t stop, struct buf *out)
{
	size_t i = 0, run = 0;
	while (i < len && i < stop) {
		size_t k = m->n ? mask_match(m, s + i, len - i) : 0;
		if (!k) {
			i++;
			continue;
		}
		buf_add(out, s + run, i - run);
		buf_add(out, "***", 3);
		i += k;
		run = i;
	}
	buf_add(out, s + run, i - run);
	return i;
}

/* Append one masked line (or piece of one) to the stream buffer, prefixed and newline-ended. */
static void add_stream_line(struct proc *p, struct buf *sb, const char *masked, size_t len)
{
	if (p->opts.stream_prefix)
		buf_addstr(sb, p->opts.stream_prefix);
	buf_add(sb, masked, len);
	if (!len || masked[len - 1] != '\n')
		buf_addch(sb, '\n');
}

/* Write out the complete lines in "linebuf" (masked to the log; masked and prefixed to the
 * stream); with "final", also the partial rest; when the pending partial line has grown past
 * PROC_LINE_MAX, as much of it as no secret can straddle. */
static void flush_lines(struct proc *p, int final)
{
	struct buf *lb = &p->linebuf;
	struct buf logb = BUF_INIT, sb = BUF_INIT;
	struct mask_set m;
	size_t start = 0;

	mask_set_init(&m, p->opts.mask);
	for (;;) {
		char *nl = memchr(lb->ptr + start, '\n', lb->len - start);
		size_t end, from = logb.len;
		if (!nl)
			break;
		end = (size_t)(nl - lb->ptr) + 1;
		mask_copy(&m, lb->ptr + start, end - start, end - start, &logb);
		if (p->opts.stream_fd >= 0)
			add_stream_line(p, &sb, logb.ptr + from, logb.len - from);
		start = end;
	}
	if (start < lb->len && (final || lb->len - start > PROC_LINE_MAX)) {
		size_t rest = lb->len - start, from = logb.len;
		/* a piece starting before "stop" lies wholly inside "rest" */
		size_t stop = final || !m.longest ? rest : m.longest - 1 >= rest ? 0 : rest - (m.longest - 1);
		start += mask_copy(&m, lb->ptr + start, rest, stop, &logb);
		if (p->opts.stream_fd >= 0)
			add_stream_line(p, &sb, logb.ptr + from, logb.len - from);
	}
	if (p->log_fd >= 0 && logb.len)
		write_all(p->log_fd, logb.ptr, logb.len);
	if (p->opts.stream_fd >= 0 && sb.len)
		write_all(p->opts.stream_fd, sb.ptr, sb.len);
	buf_release(&logb);
	buf_release(&sb);
	mask_set_release(&m);
	if (start) {
		memmove(lb->ptr, lb->ptr + start, lb->len - start);
		buf_setlen(lb, lb->len - start);
	}
}

static void consume(struct proc *p, const char *data, size_t len)
{
	struct buf *cap = p->opts.capture;
	if (cap) {
		size_t room = len;
		if (cap->max)
			room = cap->len >= cap->max ? 0 : cap->max - cap->len;
		buf_add(cap, data, room < len ? room : len);
	}
	if (p->opts.stream_fd < 0 && !(p->opts.mask && p->opts.mask[0])) {
		/* nothing to mask or prefix: straight to the log, no line buffering */
		if (p->log_fd >= 0)
			write_all(p->log_fd, data, len);
		return;
	}
	buf_add(&p->linebuf, data, len);
	flush_lines(p, 0);
}

static void close_output(struct proc *p)
{
	if (p->out_fd < 0)
		return;
	flush_lines(p, 1);
	close(p->out_fd);
	p->out_fd = -1;
}

/* Read what is available (bounded), closing the pipe at EOF. */
static void pump(struct proc *p)
{
	char tmp[16384];
	for (int k = 0; k < PROC_READS_PER_WAKE && p->out_fd >= 0; k++) {
		ssize_t n = read(p->out_fd, tmp, sizeof(tmp));
		if (n > 0) {
			consume(p, tmp, (size_t)n);
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return;
		close_output(p); /* EOF, or an error that will not go away */
	}
}

/* ---------------------------------------------------------------- reaping and timeouts */

static void record_status(struct proc *p, int status, int64_t now)
{
	p->exited = 1;
	p->duration_ms = now - p->started_ms;
	if (WIFSIGNALED(status)) {
		p->term_signal = WTERMSIG(status);
		p->exit_code = 128 + p->term_signal;
	} else {
		p->term_signal = 0;
		p->exit_code = WEXITSTATUS(status);
	}
}

/* The shell is gone: kill whatever it left in its group (background jobs), and give processes
 * that escaped the group PROC_DRAIN_MS to let go of the pipe. kill_at_ms is reused as that limit. */
static void after_reap(struct proc *p, int64_t now)
{
	kill(-p->pid, SIGKILL);
	p->kill_at_ms = now + PROC_DRAIN_MS;
}

static void try_reap(struct proc *p, int64_t now)
{
	int status;
	pid_t r;
	if (p->exited)
		return;
	do
		r = waitpid(p->pid, &status, WNOHANG);
	while (r < 0 && errno == EINTR);
	if (r == p->pid) {
		record_status(p, status, now);
		after_reap(p, now);
	} else if (r < 0) {
		/* ECHILD: someone else reaped it (SIGCHLD ignored?); the status is lost */
		p->exited = 1;
		p->duration_ms = now - p->started_ms;
		p->exit_code = -1;
		p->kill_at_ms = now + PROC_DRAIN_MS;
	}
}

/* Signal the group of an unreaped process; should the group not exist (the child has not made
 * it yet and our setpgid lost to its exec), at least the shell itself. */
static void signal_group(struct proc *p, int sig)
{
	if (kill(-p->pid, sig) < 0 && errno == ESRCH)
		kill(p->pid, sig);
}

static void enforce_timers(struct proc *p, int64_t now)
{
	if (!p->exited) {
		if (p->deadline_ms && !p->timed_out && now >= p->deadline_ms) {
			signal_group(p, SIGTERM);
			p->timed_out = 1;
			p->kill_at_ms = now + PROC_KILL_GRACE_MS;
		} else if (p->kill_at_ms && now >= p->kill_at_ms) {
			signal_group(p, SIGKILL);
			p->kill_at_ms = 0;
		}
	} else if (p->out_fd >= 0 && now >= p->kill_at_ms) {
		close_output(p); /* something outside the group still holds the pipe */
	}
}

static void finish(struct proc *p)
{
	if (p->log_fd >= 0)
		close(p->log_fd);
	p->log_fd = -1;
	buf_release(&p->linebuf);
	p->state = PROC_DONE;
}

/* Milliseconds poll() may sleep for "p" before one of its timers needs attention. */
static int64_t next_wake(const struct proc *p, int64_t now)
{
	int64_t t;
	if (p->exited)
		return p->out_fd >= 0 ? p->kill_at_ms - now : 0;
	t = p->out_fd >= 0 ? PROC_REAP_POLL_MS : PROC_REAP_EOF_POLL_MS;
	if (p->deadline_ms && !p->timed_out && p->deadline_ms - now < t)
		t = p->deadline_ms - now;
	if (p->kill_at_ms && p->kill_at_ms - now < t)
		t = p->kill_at_ms - now;
	return t;
}

int proc_wait_any(struct proc **ps, size_t n, int wait_ms)
{
	int64_t end = wait_ms >= 0 ? clock_mono_ms() + wait_ms : 0;
	struct pollfd *pf = xcalloc(n ? n : 1, sizeof(*pf));
	sigset_t all, old;
	int polled = 0, ret = -1;

	/* Signals stay blocked except inside ppoll(), so one that arrives while we work is still
	 * seen as EINTR there instead of being lost until the next process ends. */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	for (;;) {
		int64_t now = clock_mono_ms();
		int64_t timeout = wait_ms >= 0 ? end - now : -1;
		struct timespec ts;
		int running = 0, r;

		for (size_t i = 0; i < n; i++) {
			struct proc *p = ps[i];
			if (!p || p->state != PROC_RUNNING)
				continue;
			enforce_timers(p, now);
			if (p->exited && p->out_fd < 0) {
				finish(p);
				ret = (int)i;
				goto out;
			}
			running = 1;
		}
		if (!running || (wait_ms >= 0 && polled && timeout <= 0))
			goto out;

		for (size_t i = 0; i < n; i++) {
			struct proc *p = ps[i];
			pf[i].fd = -1;
			pf[i].events = POLLIN;
			pf[i].revents = 0;
			if (!p || p->state != PROC_RUNNING)
				continue;
			pf[i].fd = p->out_fd;
			int64_t w = next_wake(p, now);
			if (timeout < 0 || w < timeout)
				timeout = w;
		}
		if (timeout < 0)
			timeout = 0;
		ts.tv_sec = (time_t)(timeout / 1000);
		ts.tv_nsec = (long)(timeout % 1000) * 1000000L;
		r = ppoll(pf, n, &ts, &old);
		polled = 1;
		if (r < 0 && errno == EINTR) {
			ret = -2;
			goto out;
		}
		now = clock_mono_ms();
		for (size_t i = 0; i < n; i++) {
			struct proc *p = ps[i];
			if (!p || p->state != PROC_RUNNING)
				continue;
			if (r > 0 && p->out_fd >= 0 && pf[i].revents)
				pump(p);
			try_reap(p, now);
		}
	}
out:
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	free(pf);
	return ret;
}

/* ---------------------------------------------------------------- control */

void proc_signal(struct proc *p, int sig)
{
	/* once reaped, the group was already killed and "pid" may belong to someone else */
	if (p->state == PROC_RUNNING && !p->exited)
		signal_group(p, sig);
}

int proc_run(struct proc *p, const struct proc_opts *o, struct err *e)
{
	struct proc *one[1];
	if (proc_start(p, o, e) < 0)
		return -1;
	one[0] = p;
	while (proc_wait_any(one, 1, -1) != 0)
		;
	return 0;
}

void proc_release(struct proc *p)
{
	if (p->state == PROC_IDLE)
		return;
	if (p->state == PROC_RUNNING) {
		if (!p->exited) {
			int status;
			pid_t r;
			signal_group(p, SIGKILL);
			do
				r = waitpid(p->pid, &status, 0);
			while (r < 0 && errno == EINTR);
			if (r == p->pid)
				record_status(p, status, clock_mono_ms());
			else
				p->exited = 1;
		}
		/* keep what is already in the pipe, then let go of it */
		if (p->out_fd >= 0)
			pump(p);
		close_output(p);
		finish(p);
	}
	if (p->out_fd >= 0)
		close(p->out_fd);
	p->out_fd = -1;
	if (p->log_fd >= 0)
		close(p->log_fd);
	p->log_fd = -1;
	buf_release(&p->linebuf);
}
