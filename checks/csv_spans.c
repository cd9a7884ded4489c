/* csv_spans.c - parallel spans over a mapped CSV file (see csv_spans.h): cutting the data at line
 * starts, tokenising plain records straight from the mapping, the queue of spans, merging in file order
 * and handing the rest to the reader. What a record means is the caller's (csv_span_ops). */
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

#include "checks/csv_spans.h"
#include "checks/map_guard.h"
#include "common/alloc.h"
#include "common/banned.h"

size_t csv_span_min = (size_t)1 << 20;

struct span {
	const struct csv_span_ops *ops;
	void *state;
	const char *from, *to; /* to is just after a '\n' */
	const char *limit;     /* the end of the mapping */
	int drop;              /* a file mapping: pages read are given back (madvise) as the span goes */
	const char *stop;      /* where the span stopped: "to", or a record left to the reader */
	uint64_t lines;        /* line breaks between "from" and "stop" */
	uint64_t records;
	size_t index, cap;
	_Atomic size_t *first_stop; /* the lowest index of a span that stopped early */
	size_t max_field;
	int shrunk; /* the file shrank under the mapping while the span read it (SIGBUS, map_guard.h) */
	int done;   /* finished or skipped (guarded by the queue's mutex) */
};

enum { DELIM_NOT_PLAIN, DELIM_COMMA, DELIM_PLAIN_END };

/* The delimiter at q (',', '\n', '\r' or '"') ends the field that started at *fs: keep it as field *n
 * (the first "cap" are kept, all counted) and start the next after it. DELIM_COMMA: more fields follow;
 * DELIM_PLAIN_END: the record ends at q; DELIM_NOT_PLAIN: a quote, a lone CR, a field longer than
 * max_field or too many columns, for the reader to handle. */
static inline int span_delim(const char *q, const char **fs, const char **fp, size_t *fl, size_t cap, size_t *n,
			     size_t max_field)
{
	unsigned char ch = (unsigned char)*q;
	if (ch == '"' || (ch == '\r' && q[1] != '\n'))
		return DELIM_NOT_PLAIN;
	if ((size_t)(q - *fs) > max_field || *n >= CSV_MAX_COLUMNS)
		return DELIM_NOT_PLAIN;
	if (*n < cap) {
		fp[*n] = *fs;
		fl[*n] = (size_t)(q - *fs);
	}
	(*n)++;
	*fs = q + 1;
	return ch == ',' ? DELIM_COMMA : DELIM_PLAIN_END;
}

/* The plain record at p (not a blank line) in a span ending with '\n': its fields' starts and lengths
 * into fp/fl (the first "cap" kept, all counted in *nf). Returns the byte after its line break, NULL
 * when the record is not plain (see above). */
static const char *span_record(const char *p, const char *end, const char **fp, size_t *fl, size_t cap, size_t *nf,
			       size_t max_field)
{
	const char *fs = p, *q;
	size_t n = 0;
	unsigned char ch;
#ifdef __SSE2__
	const __m128i vc = _mm_set1_epi8(','), vn = _mm_set1_epi8('\n'), vr = _mm_set1_epi8('\r'),
		      vq = _mm_set1_epi8('"');
	for (; p + 16 <= end; p += 16) {
		__m128i x = _mm_loadu_si128((const __m128i *)(const void *)p);
		unsigned m = (unsigned)_mm_movemask_epi8(
			_mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(x, vc), _mm_cmpeq_epi8(x, vn)),
				     _mm_or_si128(_mm_cmpeq_epi8(x, vr), _mm_cmpeq_epi8(x, vq))));
		while (m) {
			int d;
			q = p + __builtin_ctz(m);
			m &= m - 1;
			d = span_delim(q, &fs, fp, fl, cap, &n, max_field);
			if (d != DELIM_COMMA) {
				*nf = n;
				return d == DELIM_PLAIN_END ? q + (*q == '\r' ? 2 : 1) : NULL;
			}
		}
	}
#endif
	for (q = p;; q++) { /* the end of the span is a '\n': the loop stops there at the latest */
		int d;
		ch = (unsigned char)*q;
		if (ch != ',' && ch != '\n' && ch != '\r' && ch != '"')
			continue;
		d = span_delim(q, &fs, fp, fl, cap, &n, max_field);
		if (d != DELIM_COMMA) {
			*nf = n;
			return d == DELIM_PLAIN_END ? q + (ch == '\r' ? 2 : 1) : NULL;
		}
	}
}

/* Resident memory stays bounded on big files: every SPAN_DROP bytes a span gives back the whole pages it
 * has read (they are clean file pages: touching them again would read them back from the page cache). */
#define SPAN_DROP ((size_t)4 << 20)

static const char *drop_pages(const char *from, const char *to)
{
	uintptr_t page = (uintptr_t)sysconf(_SC_PAGESIZE), a = ((uintptr_t)from + page - 1) & ~(page - 1),
		  b = (uintptr_t)to & ~(page - 1);
	if (b > a)
		(void)madvise((void *)a, b - a, MADV_DONTNEED);
	return to;
}

/* Mark span "sp" as stopped early (at sp->stop < sp->to): the spans after it are not needed. */
static void span_stopped(struct span *sp)
{
	size_t cur = atomic_load(sp->first_stop);
	while (sp->index < cur && !atomic_compare_exchange_weak(sp->first_stop, &cur, sp->index))
		;
}

static void span_scan(struct span *sp, const char **fp, size_t *fl)
{
	const char *p = sp->from, *end = sp->to, *next;
	size_t nf;
	uint64_t line = 0, recs = 0;
	const char *dropped = sp->from;
	while (p < end) {
		if (*p == '\n') { /* a blank line */
			p++;
			line++;
			continue;
		}
		if (*p == '\r') {
			if (p[1] != '\n')
				break; /* a lone CR: the reader's */
			p += 2;
			line++;
			continue;
		}
		if (!(recs & 1023) && atomic_load(sp->first_stop) < sp->index)
			break; /* a span before this one stopped: this one's state will not be used */
		next = span_record(p, end, fp, fl, sp->cap, &nf, sp->max_field);
		if (!next)
			break;
		recs++;
		sp->ops->record(sp->state, fp, fl, nf, line, sp->limit);
		p = next;
		line++;
		if (sp->drop && (size_t)(p - dropped) >= SPAN_DROP)
			dropped = drop_pages(dropped, p);
	}
	if (sp->drop)
		drop_pages(dropped, p);
	sp->stop = p;
	sp->lines = line;
	sp->records = recs;
	if (p < end)
		span_stopped(sp);
}

/* One span, guarded: a SIGBUS while it reads the mapping (the file shrank) marks it "shrunk". What the
 * record callback had allocated at that moment is lost with the jump. */
static void span_run(struct span *sp)
{
	const char **fp = xcalloc(sp->cap + 1, sizeof(*fp));
	size_t *fl = xcalloc(sp->cap + 1, sizeof(*fl));
	sigjmp_buf jb;
	if (sigsetjmp(jb, 1)) {
		sp->shrunk = 1;
		sp->stop = sp->from;
		sp->lines = sp->records = 0;
		span_stopped(sp);
	} else {
		map_guard_arm(&jb);
		span_scan(sp, fp, fl);
		map_guard_arm(NULL);
	}
	free(fp);
	free(fl);
}

/* The ends of the spans of data[from, len) into ends[] (room for threads*8): each just after a '\n', the
 * last at the last '\n'. Returns how many (0: no complete line). */
static long span_ends_scan(const char *data, size_t from, size_t len, int threads, const char **ends)
{
	const char *last = memrchr(data + from, '\n', len - from), *at = data + from;
	size_t n = 1, bytes;
	if (!last)
		return 0;
	last++;
	bytes = (size_t)(last - (data + from));
	if (threads > 1 && bytes / csv_span_min > 1) {
		n = bytes / csv_span_min;
		if (n > (size_t)threads * 8)
			n = (size_t)threads * 8;
	}
	for (size_t i = 0; i < n; i++) {
		const char *to = last;
		if (i + 1 < n) {
			to = data + from + bytes / n * (i + 1);
			to = to < at ? at : to;
			to = to < last ? (const char *)memchr(to, '\n', (size_t)(last - to)) + 1 : last;
		}
		ends[i] = at = to;
	}
	return (long)n;
}

/* span_ends_scan, guarded: -1 when the file shrank under the mapping. */
static long span_ends(const char *data, size_t from, size_t len, int threads, const char **ends)
{
	sigjmp_buf jb;
	long n;
	if (sigsetjmp(jb, 1))
		return -1;
	map_guard_arm(&jb);
	n = span_ends_scan(data, from, len, threads, ends);
	map_guard_arm(NULL);
	return n;
}

static int shrank(const struct csv_reader *r, struct err *e)
{
	return err_set(e, MLCI_EINFRA,
		       "'%s' became shorter while it was read (was it rewritten meanwhile?); check it again", r->path);
}

/* The spans waiting for a thread: each thread takes the next one until none is left. A finished span
 * is merged as soon as every span before it is, so that only the states of the spans running or waiting
 * for an earlier one are alive (memory stays a few states, whatever the number of spans). */
struct queue {
	struct span *sp;
	size_t n;
	_Atomic size_t next;
	_Atomic size_t *first_stop;
	const struct csv_span_ops *ops;
	void *arg;
	pthread_mutex_t mu; /* guards what follows, and the merges */
	size_t merged;      /* spans [0, merged) are merged or dropped */
	int go;             /* every span merged so far ran to its end: the next one starts at a record */
	uint64_t line, records;
	const char *at; /* where the merged spans end */
	int shrunk;
};

/* Merge or drop, in order, the spans done after the last merged one; "i" has just finished. */
static void queue_done(struct queue *q, size_t i)
{
	pthread_mutex_lock(&q->mu);
	q->sp[i].done = 1;
	while (q->merged < q->n && q->sp[q->merged].done) {
		struct span *sp = &q->sp[q->merged++];
		q->shrunk |= sp->shrunk;
		if (q->go && !sp->shrunk && sp->state) {
			q->ops->merge(q->arg, sp->state, q->line);
			q->line += sp->lines;
			q->records += sp->records;
			q->at = sp->stop;
			q->go = sp->stop == sp->to;
		} else {
			q->go = 0;
		}
		if (sp->state)
			q->ops->close(sp->state);
		sp->state = NULL;
	}
	pthread_mutex_unlock(&q->mu);
}

static void *queue_run(void *arg)
{
	struct queue *q = arg;
	size_t i;
	while ((i = atomic_fetch_add(&q->next, 1)) < q->n) {
		if (i <= atomic_load(q->first_stop)) { /* else a span before it stopped: not needed */
			q->sp[i].state = q->ops->open(q->arg, i);
			span_run(&q->sp[i]);
		}
		queue_done(q, i);
	}
	return NULL;
}

/* Spans are several per thread, taken in order from a queue, so that a thread slowed down by other work
 * on the machine takes fewer of them. */
int csv_spans_run(struct csv_reader *r, const char *data, size_t len, int threads, size_t cap, int drop,
		  const struct csv_span_ops *ops, void *arg, struct err *e)
{
	uint64_t from = csv_offset(r);
	const char *at, **ends;
	size_t n, n_helpers = 0;
	long k;
	struct span *sp;
	struct queue q;
	pthread_t *tid;
	struct sigaction old;
	_Atomic size_t first_stop;
	if (from >= len)
		return 0;
	ends = xcalloc((size_t)(threads > 1 ? threads : 1) * 8, sizeof(*ends));
	map_guard_install(&old);
	k = span_ends(data, from, len, threads, ends);
	if (k <= 0) {
		map_guard_restore(&old);
		free(ends);
		return k < 0 ? shrank(r, e) : 0;
	}
	n = (size_t)k;
	atomic_init(&first_stop, n);
	sp = xcalloc(n, sizeof(*sp));
	tid = xcalloc((size_t)(threads > 1 ? threads : 1), sizeof(*tid));
	at = data + from;
	for (size_t i = 0; i < n; i++) {
		sp[i].ops = ops;
		sp[i].from = at;
		sp[i].to = ends[i];
		sp[i].stop = at;
		sp[i].index = i;
		sp[i].cap = cap;
		sp[i].first_stop = &first_stop;
		sp[i].max_field = r->max_field;
		sp[i].limit = data + len;
		sp[i].drop = drop;
		at = ends[i];
	}
	free(ends);
	memset(&q, 0, sizeof(q));
	q.sp = sp;
	q.n = n;
	q.first_stop = &first_stop;
	q.ops = ops;
	q.arg = arg;
	q.go = 1;
	q.line = r->next_line;
	q.records = r->records;
	q.at = data + from;
	pthread_mutex_init(&q.mu, NULL);
	atomic_init(&q.next, 0);
	while (n > 1 && n_helpers + 1 < (size_t)threads && !pthread_create(&tid[n_helpers], NULL, queue_run, &q))
		n_helpers++;
	queue_run(&q);
	for (size_t i = 0; i < n_helpers; i++)
		pthread_join(tid[i], NULL);
	map_guard_restore(&old);
	pthread_mutex_destroy(&q.mu);
	free(tid);
	free(sp);
	if (q.shrunk)
		return shrank(r, e);
	return csv_resume(r, (uint64_t)(q.at - data), q.line, q.records, e);
}

const char *csv_map_file(FILE *f, size_t *len)
{
	struct stat st;
	void *map;
	*len = 0;
	if (fstat(fileno(f), &st) || !S_ISREG(st.st_mode) || st.st_size <= 0 || (uint64_t)st.st_size > SIZE_MAX)
		return NULL;
	map = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fileno(f), 0);
	if (map == MAP_FAILED)
		return NULL;
	(void)madvise(map, (size_t)st.st_size, MADV_SEQUENTIAL);
	*len = (size_t)st.st_size;
	return map;
}
