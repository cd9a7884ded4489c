/* csv.c - the streaming CSV (RFC 4180) and JSON Lines tokeniser behind checks/csv.h.
 * It parses CSV in place in 1 MiB read blocks (no per-field copy or malloc); it must not interpret values. */
#include "checks/csv.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <pthread.h>
#include <unistd.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif
#include <stdlib.h>
#include <string.h>

#include "common/alloc.h"
#include "common/banned.h"

#define NO_FIELD ((size_t)-1) /* offset of a JSON Lines field whose key is missing */

size_t csv_io_size = CSV_IO_SIZE;

/* Bytes that end a run of plain data in an unquoted CSV field. */
static unsigned char unquoted_stop[256];
static int tables_ready;

static void init_tables(void)
{
	if (tables_ready)
		return;
	unquoted_stop[(unsigned char)','] = 1;
	unquoted_stop[(unsigned char)'\n'] = 1;
	unquoted_stop[(unsigned char)'\r'] = 1;
	tables_ready = 1;
}

static int malformed(struct csv_reader *r, struct err *e, uint64_t line, const char *what)
{
	return err_set(e, MLCI_EFAILED, "%s:%llu: %s", r->path, (unsigned long long)line, what);
}

/* Make sure unread bytes are in iobuf: 1 when there are, 0 at end of file, -1 on a read error. Bytes
 * before io_pos may be overwritten, which is fine: fields are copied into "rec" as they are scanned. */
static int refill(struct csv_reader *r, struct err *e)
{
	size_t n;
	if (r->io_pos < r->io_len)
		return 1;
	if (r->eof)
		return 0;
	n = fread(r->iobuf, 1, r->io_cap, r->f);
	r->io_pos = 0;
	r->io_len = n;
	if (n == 0) {
		r->eof = 1;
		if (ferror(r->f))
			return err_set(e, MLCI_EINFRA, "%s: read error", r->path);
		return 0;
	}
	r->bytes += n;
	if (!r->started) {
		r->started = 1;
		if (n >= 3 && !memcmp(r->iobuf, "\xef\xbb\xbf", 3))
			r->io_pos = 3;
		if (r->io_pos == r->io_len)
			return refill(r, e);
	}
	return 1;
}

/* ---------- CSV ---------- */

/* Move the unread bytes from "from" to the start of iobuf and read more after them; grow iobuf (up to
 * max_record) when they fill it. Returns the number of bytes read (0 at end of file), -1 on error. */
static long fill(struct csv_reader *r, size_t from, struct err *e)
{
	size_t keep = r->io_len - from, n;
	if (r->alt) {
		/* double buffering: the records before "from" stay where they are until the next swap */
		char *t = r->iobuf;
		size_t c = r->io_cap;
		if (r->before_swap)
			r->before_swap(r->swap_arg);
		if (r->alt_cap < r->io_cap) {
			free(r->alt);
			r->alt = xcalloc(r->io_cap + 1 + CSV_PAD, 1);
			r->alt_cap = r->io_cap;
		}
		if (keep)
			memcpy(r->alt, r->iobuf + from, keep);
		r->iobuf = r->alt;
		r->io_cap = r->alt_cap;
		r->alt = t;
		r->alt_cap = c;
		r->swaps++;
	} else if (from && keep) {
		memmove(r->iobuf, r->iobuf + from, keep);
	}
	r->io_len = keep;
	r->io_pos = 0;
	if (keep == r->io_cap) {
		if (r->io_cap >= r->max_record)
			return err_set(e, MLCI_EFAILED, "%s:%llu: record longer than %zu bytes", r->path,
				       (unsigned long long)r->next_line, r->max_record);
		size_t old = r->io_cap;
		r->io_cap = r->io_cap * 2 > r->max_record ? r->max_record : r->io_cap * 2;
		/* +1: room for the NUL after the last field; CSV_PAD: readable bytes after it */
		r->iobuf = xrealloc(r->iobuf, r->io_cap + 1 + CSV_PAD);
		memset(r->iobuf + old, 0, r->io_cap + 1 + CSV_PAD - old);
	}
	n = fread(r->iobuf + keep, 1, r->io_cap - keep, r->f);
	if (n == 0) {
		r->eof = 1;
		if (ferror(r->f))
			return err_set(e, MLCI_EINFRA, "%s: read error", r->path);
		return 0;
	}
	r->bytes += n;
	r->io_len += n;
	if (!r->started) {
		r->started = 1;
		if (r->io_len >= 3 && !memcmp(r->iobuf, "\xef\xbb\xbf", 3)) {
			memmove(r->iobuf, r->iobuf + 3, r->io_len - 3);
			r->io_len -= 3;
		}
	}
	return (long)n;
}

static void grow_fields(struct csv_reader *r, size_t need)
{
	if (need > r->alloc_offsets) {
		ALLOC_GROW(r->offsets, need, r->alloc_offsets);
		r->quoted = xrealloc(r->quoted, r->alloc_offsets);
		r->ends = xrealloc(r->ends, r->alloc_offsets * sizeof(*r->ends));
	}
}

static int too_long(struct csv_reader *r, struct err *e, uint64_t line, size_t field)
{
	return err_set(e, MLCI_EFAILED, "%s:%llu: field %zu is longer than %zu bytes", r->path,
		       (unsigned long long)line, field, r->max_field);
}

#ifdef __SSE2__
/*
 * The common record, 16 bytes at a time (SSE2): unquoted fields, no CR except in a final CRLF, the whole
 * record at least 16 bytes before the end of the buffer. Returns 1 with the record published exactly as
 * csv_read_record would, 0 (having changed nothing but scratch arrays) to let the general path take it.
 */
static int csv_fast_record(struct csv_reader *r)
{
	unsigned char *buf = (unsigned char *)r->iobuf;
	size_t p = r->io_pos, end = r->io_len, fs = p, nf = 0, next;
	const __m128i vc = _mm_set1_epi8(','), vn = _mm_set1_epi8('\n'), vr = _mm_set1_epi8('\r'),
		      vq = _mm_set1_epi8('"');
	for (;; p += 16) {
		__m128i v;
		unsigned m;
		if (p + 16 > end)
			return 0;
		v = _mm_loadu_si128((const __m128i *)(const void *)(buf + p));
		m = (unsigned)_mm_movemask_epi8(
			_mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(v, vc), _mm_cmpeq_epi8(v, vn)),
				     _mm_or_si128(_mm_cmpeq_epi8(v, vr), _mm_cmpeq_epi8(v, vq))));
		while (m) {
			size_t q = p + (size_t)__builtin_ctz(m);
			unsigned char ch = buf[q];
			m &= m - 1;
			if (ch == '"')
				return 0;
			if (ch == '\r' && !(q + 1 < end && buf[q + 1] == '\n'))
				return 0;
			if (nf >= CSV_MAX_COLUMNS || q - fs > r->max_field)
				return 0;
			if (nf >= r->alloc_offsets)
				grow_fields(r, nf + 1);
			r->offsets[nf] = fs;
			r->ends[nf++] = q;
			fs = q + 1;
			if (ch == ',')
				continue;
			next = ch == '\r' ? q + 2 : q + 1;
			goto done;
		}
	}
done:
	ALLOC_GROW(r->fields, nf, r->alloc_fields);
	for (size_t i = 0; i < nf; i++) {
		size_t a = r->offsets[i], b = r->ends[i];
		buf[b] = '\0';
		r->fields[i].ptr = (const char *)buf + a;
		r->fields[i].len = b - a;
		r->fields[i].quoted = 0;
	}
	r->n_fields = nf;
	r->io_pos = next;
	r->next_line = r->line + 1;
	return 1;
}
#endif

/*
 * One CSV record, parsed in place in iobuf: 1 read, 0 end of file, -1 error. A first scan finds the
 * fields (start, end, quoted) without writing; when the record is incomplete at the end of the buffer,
 * the record is moved to the front, more is read and the scan restarts. Only a complete record is
 * rewritten: a NUL after each field, quoted fields unescaped ("" -> ") in place. Fields then point into
 * iobuf, so nothing is copied or allocated per field.
 */
static int csv_read_record(struct csv_reader *r, struct err *e)
{
	unsigned char *buf;
	size_t p, end, nf;
	uint64_t lines;
	long k;
	for (;;) { /* skip blank lines */
		if (r->io_pos >= r->io_len) {
			if (r->eof)
				return 0;
			if ((k = fill(r, r->io_pos, e)) < 0)
				return -1;
			continue;
		}
		buf = (unsigned char *)r->iobuf;
		if (buf[r->io_pos] == '\n') {
			r->io_pos++;
			r->next_line++;
			continue;
		}
		if (buf[r->io_pos] == '\r') {
			if (r->io_pos + 1 >= r->io_len && !r->eof) {
				if (fill(r, r->io_pos, e) < 0)
					return -1;
				continue;
			}
			if (r->io_pos + 1 < r->io_len && buf[r->io_pos + 1] == '\n') {
				r->io_pos++;
				r->next_line++;
			}
			r->io_pos++; /* a lone CR at a record start is skipped too */
			continue;
		}
		break;
	}
	r->line = r->next_line;
#ifdef __SSE2__
	if (csv_fast_record(r))
		return 1;
#endif
restart:
	buf = (unsigned char *)r->iobuf;
	p = r->io_pos;
	end = r->io_len;
	nf = 0;
	lines = 0;
	for (;;) { /* one field per iteration; p is its first byte */
		size_t fs = p, q;
		if (nf >= CSV_MAX_COLUMNS)
			return malformed(r, e, r->line, "too many fields in one record");
		grow_fields(r, nf + 1);
		if (p < end && buf[p] == '"') {
			uint64_t qline = r->line + lines;
			q = p + 1;
			for (;;) {
				while (q < end && buf[q] != '"') {
					if (buf[q] == '\n')
						lines++;
					q++;
				}
				if (q + 1 >= end && !r->eof)
					goto need_more;
				if (q >= end)
					return malformed(r, e, qline, "unterminated quoted field");
				if (q + 1 < end && buf[q + 1] == '"') {
					q += 2;
					continue;
				}
				break;
			}
			if (q - p - 1 > r->max_field)
				return too_long(r, e, r->line, nf + 1);
			r->offsets[nf] = fs;
			r->ends[nf] = q; /* the closing quote */
			r->quoted[nf++] = 1;
			q++;
			if (q >= end) {
				p = q;
				break; /* end of file */
			}
			if (buf[q] == ',') {
				p = q + 1;
				continue;
			}
			if (buf[q] == '\n') {
				p = q + 1;
				lines++;
				break;
			}
			if (buf[q] == '\r') {
				if (q + 1 >= end && !r->eof)
					goto need_more;
				if (q + 1 < end && buf[q + 1] == '\n') {
					p = q + 2;
					lines++;
					break;
				}
			}
			return malformed(r, e, r->line + lines, "text after the closing quote of a quoted field");
		}
		q = p;
		for (;;) {
			while (q < end && !unquoted_stop[buf[q]])
				q++;
			if (q >= end) {
				if (!r->eof)
					goto need_more;
				break;
			}
			if (buf[q] == '\r') {
				if (q + 1 >= end && !r->eof)
					goto need_more;
				if (q + 1 < end && buf[q + 1] == '\n')
					break;
				q++; /* a lone CR is data */
				continue;
			}
			break;
		}
		if (q - fs > r->max_field)
			return too_long(r, e, r->line + lines, nf + 1);
		r->offsets[nf] = fs;
		r->ends[nf] = q;
		r->quoted[nf++] = 0;
		if (q >= end) {
			p = q;
			break;
		}
		if (buf[q] == ',') {
			p = q + 1;
			continue;
		}
		p = q + (buf[q] == '\r' ? 2 : 1);
		lines++;
		break;
	need_more:
		if (end - fs > r->max_field + 2)
			return too_long(r, e, r->line + lines, nf + 1);
		if ((k = fill(r, r->io_pos, e)) < 0)
			return -1;
		goto restart;
	}
	/* the record is complete: terminate and unescape its fields in place */
	ALLOC_GROW(r->fields, nf, r->alloc_fields);
	for (size_t i = 0; i < nf; i++) {
		size_t s = r->offsets[i], t = r->ends[i];
		if (r->quoted[i]) {
			size_t d = s;
			for (size_t j = s + 1; j < t; j++) {
				buf[d++] = buf[j];
				if (buf[j] == '"')
					j++; /* the second quote of "" */
			}
			buf[d] = '\0';
			r->fields[i].len = d - s;
		} else {
			buf[t] = '\0';
			r->fields[i].len = t - s;
		}
		r->fields[i].ptr = (const char *)buf + s;
		r->fields[i].quoted = r->quoted[i];
	}
	r->n_fields = nf;
	r->io_pos = p;
	r->next_line = r->line + lines;
	return 1;
}

/* ---------- JSON Lines ---------- */

/* JSON Lines: point r->fields at the fields assembled in "rec" (which may have moved while growing). */
static void publish(struct csv_reader *r)
{
	ALLOC_GROW(r->fields, r->n_fields, r->alloc_fields);
	for (size_t i = 0; i < r->n_fields; i++) {
		size_t start = r->offsets[i];
		if (start == NO_FIELD) {
			r->fields[i].ptr = NULL;
			r->fields[i].len = 0;
			r->fields[i].quoted = 0;
			continue;
		}
		r->fields[i].ptr = r->rec.ptr + start;
		r->fields[i].len = strlen(r->rec.ptr + start);
		r->fields[i].quoted = r->quoted[i];
	}
}

/* The next non-blank line into rec (without its line break): 1, 0 at end of file, -1 error. */
static int read_line(struct csv_reader *r, struct err *e)
{
	size_t limit = r->max_field * 16;
	int k;
	for (;;) {
		int blank = 1;
		buf_reset(&r->rec);
		r->line = r->next_line;
		for (;;) {
			const char *s, *nl;
			k = refill(r, e);
			if (k < 0)
				return -1;
			if (k == 0) {
				if (!r->rec.len)
					return 0;
				break;
			}
			s = r->iobuf + r->io_pos;
			nl = memchr(s, '\n', r->io_len - r->io_pos);
			size_t n = nl ? (size_t)(nl - s) : r->io_len - r->io_pos;
			if (r->rec.len + n > limit)
				return err_set(e, MLCI_EFAILED, "%s:%llu: line is longer than %zu bytes", r->path,
					       (unsigned long long)r->line, limit);
			buf_add(&r->rec, s, n);
			r->io_pos += n;
			if (nl) {
				r->io_pos++;
				r->next_line++;
				break;
			}
		}
		for (size_t i = 0; i < r->rec.len; i++)
			if (!strchr(" \t\r", r->rec.ptr[i])) {
				blank = 0;
				break;
			}
		if (!blank)
			return 1;
	}
}

static int parse_object(struct csv_reader *r, struct err *e)
{
	cJSON *o = cJSON_ParseWithLength(r->rec.ptr, r->rec.len);
	if (!o || !cJSON_IsObject(o)) {
		cJSON_Delete(o);
		return malformed(r, e, r->line, o ? "not a JSON object" : "invalid JSON");
	}
	r->json = o;
	return 0;
}

static void add_number(struct buf *b, double d)
{
	char s[64];
	for (int prec = 1; prec <= 17; prec++) {
		snprintf(s, sizeof(s), "%.*g", prec, d);
		if (strtod(s, NULL) == d)
			break;
	}
	buf_addstr(b, s);
}

/* Turn the pending object into fields in header order. */
static int json_fields(struct csv_reader *r, struct err *e)
{
	cJSON *o = r->json;
	(void)e;
	buf_reset(&r->rec);
	r->n_fields = 0;
	if (r->n_names > r->alloc_offsets) {
		ALLOC_GROW(r->offsets, r->n_names, r->alloc_offsets);
		r->quoted = xrealloc(r->quoted, r->alloc_offsets);
	}
	for (size_t i = 0; i < r->n_names; i++) {
		cJSON *v = cJSON_GetObjectItemCaseSensitive(o, r->names[i]);
		r->quoted[i] = 0;
		if (!v) {
			r->offsets[r->n_fields++] = NO_FIELD;
			continue;
		}
		r->offsets[r->n_fields++] = r->rec.len;
		if (cJSON_IsString(v)) {
			buf_addstr(&r->rec, v->valuestring ? v->valuestring : "");
			r->quoted[i] = 1;
		} else if (cJSON_IsNumber(v)) {
			add_number(&r->rec, v->valuedouble);
		} else if (cJSON_IsBool(v)) {
			buf_addstr(&r->rec, cJSON_IsTrue(v) ? "true" : "false");
		} else if (!cJSON_IsNull(v)) {
			char *t = cJSON_PrintUnformatted(v);
			buf_addstr(&r->rec, t ? t : "");
			free(t);
			r->quoted[i] = 1;
		}
		buf_addch(&r->rec, '\0');
	}
	cJSON_Delete(o);
	r->json = NULL;
	return 0;
}

/* ---------- public ---------- */

int csv_open_stream(struct csv_reader *r, FILE *f, const char *name, enum csv_format format, struct err *e)
{
	int k;
	init_tables();
	memset(r, 0, sizeof(*r));
	r->format = format;
	r->f = f;
	r->path = xstrdup(name ? name : "-");
	r->max_field = CSV_MAX_FIELD_DEFAULT;
	buf_init(&r->rec, 0);
	r->io_cap = csv_io_size ? csv_io_size : CSV_IO_SIZE;
	r->max_record = CSV_MAX_RECORD;
	r->iobuf = xcalloc(r->io_cap + 1 + CSV_PAD, 1);
	r->next_line = 1;
	if (format == CSV_FORMAT_JSONL) {
		cJSON *it;
		k = read_line(r, e);
		if (k > 0)
			k = parse_object(r, e) ? -1 : 1;
		if (k <= 0)
			goto fail;
		cJSON_ArrayForEach(it, (cJSON *)r->json)
			r->n_names++;
		r->names = xcalloc(r->n_names ? r->n_names : 1, sizeof(char *));
		r->n_names = 0;
		cJSON_ArrayForEach(it, (cJSON *)r->json) {
			int dup = 0;
			for (size_t i = 0; i < r->n_names; i++)
				dup |= !strcmp(r->names[i], it->string ? it->string : "");
			if (!dup) /* cJSON keeps duplicate keys; the first one wins, as in lookups */
				r->names[r->n_names++] = xstrdup(it->string ? it->string : "");
		}
		return 0;
	}
	k = csv_read_record(r, e);
	if (k <= 0)
		goto fail;
	r->names = xcalloc(r->n_fields, sizeof(char *));
	for (size_t i = 0; i < r->n_fields; i++)
		r->names[i] = xstrdup(r->fields[i].ptr);
	r->n_names = r->n_fields;
	r->n_fields = 0;
	return 0;
fail:
	if (k == 0)
		err_set(e, MLCI_EFAILED, "%s: empty file: no header", r->path);
	r->f = NULL; /* the caller still owns the stream */
	csv_close(r);
	return -1;
}

enum csv_format csv_path_format(const char *path)
{
	size_t n = strlen(path);
	if ((n > 6 && !strcmp(path + n - 6, ".jsonl")) || (n > 7 && !strcmp(path + n - 7, ".ndjson")))
		return CSV_FORMAT_JSONL;
	return CSV_FORMAT_CSV;
}

int csv_open(struct csv_reader *r, const char *path, struct err *e)
{
	enum csv_format fmt = csv_path_format(path);
	FILE *f = fopen(path, "rb");
	if (!f)
		return err_errno(e, MLCI_EINFRA, "could not open '%s' for reading", path);
	if (csv_open_stream(r, f, path, fmt, e)) {
		fclose(f);
		return -1;
	}
	r->own_file = 1;
	return 0;
}

int csv_next(struct csv_reader *r, struct err *e)
{
	int k;
	if (r->format == CSV_FORMAT_JSONL) {
		if (!r->json) {
			k = read_line(r, e);
			if (k <= 0)
				return k;
			if (parse_object(r, e))
				return -1;
		}
		json_fields(r, e);
	} else {
		k = csv_read_record(r, e);
		if (k <= 0)
			return k;
		r->records++;
		return 1;
	}
	publish(r);
	r->records++;
	return 1;
}

uint64_t csv_offset(const struct csv_reader *r)
{
	/* the unread bytes are the last ones read (a skipped byte-order mark is counted in r->bytes) */
	return r->bytes - (r->io_len - r->io_pos);
}

int csv_resume(struct csv_reader *r, uint64_t offset, uint64_t line, uint64_t records, struct err *e)
{
	if (offset > (uint64_t)INT64_MAX || fseeko(r->f, (off_t)offset, SEEK_SET))
		return err_errno(e, MLCI_EINFRA, "%s: could not seek", r->path);
	r->bytes = offset;
	r->io_len = r->io_pos = 0;
	r->eof = 0;
	r->started = 1;
	r->next_line = line;
	r->records = records;
	return 0;
}

void csv_close(struct csv_reader *r)
{
	if (r->f && r->own_file)
		fclose(r->f);
	r->f = NULL;
	for (size_t i = 0; i < r->n_names; i++)
		free(r->names[i]);
	free(r->names);
	free(r->fields);
	free(r->offsets);
	free(r->quoted);
	free(r->ends);
	free(r->iobuf);
	free(r->alt);
	free(r->path);
	buf_release(&r->rec);
	cJSON_Delete(r->json);
	memset(r, 0, sizeof(*r));
}

/* ---------- column-parallel batches ---------- */

/* A batch ends at each read-buffer swap, or when it holds this many fields (a few MiB, cache-sized). */
#define BATCH_FIELDS ((size_t)1 << 14)

struct cbatch {
	struct csv_field *f;
	uint64_t *lines;
	size_t n_rows, alloc_f, alloc_lines;
	struct csv_batch view;
};

/* Shared between the calling thread and the helpers; everything below "mu" is guarded by it. */
struct cpool {
	pthread_mutex_t mu;
	pthread_cond_t cv_work, cv_done;
	const struct csv_batch *cur; /* the published batch, NULL when none */
	uint64_t gen;                /* incremented at each publication */
	size_t next_col;             /* next chunk of columns of "cur" to take */
	size_t done_cols;            /* chunks of "cur" finished */
	size_t n_cols, n_chunks, max_rows;
	int stop;
	csv_column_fn column;
	void *arg;
	/* the calling thread's own state */
	struct cbatch b[2];
	int building;  /* index in b of the batch being filled */
	int swap_seen; /* a buffer swap happened while filling it */
	int published; /* cur is set and not yet waited for */
};

/* Take columns of batch "gen" until none is left. Called with p->mu held; returns with it held. */
static void take_columns(struct cpool *p, uint64_t gen)
{
	const struct csv_batch *b = p->cur;
	while (p->gen == gen && p->cur && p->next_col < p->n_chunks) {
		size_t c = p->next_col++;
		pthread_mutex_unlock(&p->mu);
		/* a chunk is a run of neighbouring columns: each thread reads a contiguous part of each row */
		p->column(p->arg, c * p->n_cols / p->n_chunks, (c + 1) * p->n_cols / p->n_chunks, b);
		pthread_mutex_lock(&p->mu);
		if (++p->done_cols == p->n_chunks)
			pthread_cond_broadcast(&p->cv_done);
	}
}

static void *helper_main(void *arg)
{
	struct cpool *p = arg;
	uint64_t seen = 0;
	pthread_mutex_lock(&p->mu);
	for (;;) {
		while (!p->stop && p->gen == seen)
			pthread_cond_wait(&p->cv_work, &p->mu);
		if (p->stop)
			break;
		seen = p->gen;
		take_columns(p, seen);
	}
	pthread_mutex_unlock(&p->mu);
	return NULL;
}

/* Help with the published batch and wait until all its columns are done. */
static void wait_published(struct cpool *p)
{
	if (!p->published)
		return;
	pthread_mutex_lock(&p->mu);
	take_columns(p, p->gen);
	while (p->done_cols < p->n_chunks)
		pthread_cond_wait(&p->cv_done, &p->mu);
	p->cur = NULL;
	pthread_mutex_unlock(&p->mu);
	p->published = 0;
}

/* Publish the batch being built (after the previous one is done) and start building the other one. */
static void publish_batch(struct cpool *p)
{
	struct cbatch *b = &p->b[p->building];
	wait_published(p);
	p->swap_seen = 0;
	if (!b->n_rows)
		return;
	b->view.n_rows = b->n_rows;
	b->view.n_cols = p->n_cols;
	b->view.f = b->f;
	b->view.lines = b->lines;
	pthread_mutex_lock(&p->mu);
	p->cur = &b->view;
	p->next_col = 0;
	p->done_cols = 0;
	p->gen++;
	pthread_cond_broadcast(&p->cv_work);
	pthread_mutex_unlock(&p->mu);
	p->published = 1;
	p->building = !p->building;
	p->b[p->building].n_rows = 0;
}

/* Called by fill() before the read buffer is swapped: the other buffer is about to be overwritten, so
 * every batch with rows in it must be done first. */
static void on_swap(void *arg)
{
	struct cpool *p = arg;
	wait_published(p);
	if (p->swap_seen && p->b[p->building].n_rows) {
		publish_batch(p);
		wait_published(p);
	}
	p->swap_seen = 1;
}

static void batch_add(struct cbatch *b, const struct csv_reader *r, const size_t *map, size_t n_cols)
{
	struct csv_field *f;
	ALLOC_GROW(b->f, (b->n_rows + 1) * n_cols + 1, b->alloc_f); /* never NULL, even with no column */
	ALLOC_GROW(b->lines, b->n_rows + 1, b->alloc_lines);
	f = b->f + b->n_rows * n_cols;
	for (size_t j = 0; j < n_cols; j++) {
		if (map[j] < r->n_fields) {
			f[j] = r->fields[map[j]];
		} else {
			f[j].ptr = NULL;
			f[j].len = 0;
			f[j].quoted = 0;
		}
	}
	b->lines[b->n_rows++] = r->line;
}

int csv_default_threads(void)
{
	const char *env = getenv("MLCI_THREADS");
	long n = env && *env ? strtol(env, NULL, 10) : sysconf(_SC_NPROCESSORS_ONLN);
	return n < 1 ? 1 : n > 4 ? 4 : (int)n;
}

int csv_columns(struct csv_reader *r, const size_t *map, size_t n_cols, csv_keep_fn keep, csv_column_fn column,
		void *arg, int threads, struct err *e)
{
	struct cpool p;
	pthread_t tid[8];
	int n_helpers = 0, k;
	/* CSV fields point into the read buffer and stay valid until the second swap after them; JSON
	 * Lines fields are rebuilt for each record, so each record is its own batch there */
	int batched = r->format == CSV_FORMAT_CSV;
	memset(&p, 0, sizeof(p));
	p.n_cols = n_cols;
	p.max_rows = n_cols ? BATCH_FIELDS / n_cols : 1;
	if (p.max_rows < 16)
		p.max_rows = 16;
	p.column = column;
	p.arg = arg;
	pthread_mutex_init(&p.mu, NULL);
	pthread_cond_init(&p.cv_work, NULL);
	pthread_cond_init(&p.cv_done, NULL);
	p.n_chunks = 1;
	if (batched && n_cols > 1 && threads > 1) {
		/* up to 8 chunks per thread for balance, but at least 4 columns in each: a thread takes a
		 * chunk row by row, and the per-column work (a running mean, a sketch...) of 4 or more
		 * columns interleaves, where a single column would wait on its own dependency chain */
		p.n_chunks = (size_t)threads * 8 < n_cols / 4 ? (size_t)threads * 8 : n_cols / 4;
		if (p.n_chunks < (size_t)threads)
			p.n_chunks = (size_t)threads < n_cols ? (size_t)threads : n_cols;
		while (n_helpers < threads - 1 && n_helpers < 8 &&
		       !pthread_create(&tid[n_helpers], NULL, helper_main, &p))
			n_helpers++;
	}
	if (batched) {
		r->alt = xcalloc(r->io_cap + 1 + CSV_PAD, 1);
		r->alt_cap = r->io_cap;
		r->before_swap = on_swap;
		r->swap_arg = &p;
	}
	while ((k = csv_next(r, e)) > 0) {
		if (!keep(arg, r))
			continue;
		batch_add(&p.b[p.building], r, map, n_cols);
		if (!batched || p.swap_seen || p.b[p.building].n_rows >= p.max_rows)
			publish_batch(&p);
		if (!batched)
			wait_published(&p);
	}
	/* on an error too: the complete records before it are processed */
	publish_batch(&p);
	wait_published(&p);
	pthread_mutex_lock(&p.mu);
	p.stop = 1;
	pthread_cond_broadcast(&p.cv_work);
	pthread_mutex_unlock(&p.mu);
	for (int i = 0; i < n_helpers; i++)
		pthread_join(tid[i], NULL);
	pthread_mutex_destroy(&p.mu);
	pthread_cond_destroy(&p.cv_work);
	pthread_cond_destroy(&p.cv_done);
	r->before_swap = NULL;
	r->swap_arg = NULL;
	free(r->alt);
	r->alt = NULL;
	r->alt_cap = 0;
	for (int i = 0; i < 2; i++) {
		free(p.b[i].f);
		free(p.b[i].lines);
	}
	return k < 0 ? -1 : 0;
}
