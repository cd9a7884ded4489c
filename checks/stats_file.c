/* stats_file.c - statistics of CSV or JSON Lines files in one pass into checks/stats.c: the plain records
 * of a regular CSV file in parallel spans (checks/csv_spans.h), each span into statistics of its own
 * merged in file order, the rest through the CSV reader; two such files one after the other, other
 * pairs on two threads. It must not interpret values itself (checks/stats.c does) nor print. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "checks/csv.h"
#include "checks/csv_spans.h"
#include "checks/stats.h"
#include "common/alloc.h"
#include "common/banned.h"

/* One file being read: the reader, the statistics and which file column feeds each statistics column. */
struct scan {
	struct csv_reader r;
	const char *data; /* the file's bytes (CSV only) for the spans, NULL when the reader reads it alone */
	size_t len;
	int own_map; /* data is our private mapping of the file: unmapped at the end, pages dropped as read */
	struct stats *s;
	size_t *map, n_map;
	struct err e;
	int rc;
	int threads; /* for the spans and csv_columns */
};

static void scan_init(struct scan *sc, struct stats *s)
{
	memset(sc, 0, sizeof(*sc));
	memset(s, 0, sizeof(*s));
	sc->s = s;
	sc->e = (struct err)ERR_INIT;
}

/* Set up "sc" once its reader is open on "name": which columns, and their empty statistics. */
static void scan_setup(struct scan *sc, const char *name, const char *const *columns, size_t n_columns)
{
	struct stats *s = sc->s;
	sc->map = xcalloc(sc->r.n_names + n_columns + 1, sizeof(*sc->map));
	for (size_t i = 0; i < sc->r.n_names; i++) {
		size_t k = 0;
		if (columns)
			for (k = 0; k < n_columns && strcmp(sc->r.names[i], columns[k]) != 0; k++)
				;
		if (!columns || k < n_columns)
			sc->map[sc->n_map++] = i;
	}
	stats_init(s, NULL, 0);
	free(s->cols);
	s->cols = xcalloc(sc->n_map ? sc->n_map : 1, sizeof(*s->cols));
	s->n_cols = sc->n_map;
	for (size_t i = 0; i < sc->n_map; i++) {
		s->cols[i].name = xstrdup(sc->r.names[sc->map[i]]);
		s->cols[i].cats.tracking = 1;
	}
	s->source = xstrdup(name);
}

/* Open "path" (a CSV file mapped when it can be) and set up "sc" (on the calling thread: csv_open
 * initialises the reader's shared tables). */
static int scan_open(struct scan *sc, struct stats *s, const char *path, const char *const *columns, size_t n_columns)
{
	scan_init(sc, s);
	if (csv_open(&sc->r, path, &sc->e) < 0)
		return -1;
	if (sc->r.format == CSV_FORMAT_CSV) {
		sc->data = csv_map_file(sc->r.f, &sc->len);
		sc->own_map = sc->data != NULL;
	}
	scan_setup(sc, path, columns, n_columns);
	return 0;
}

static int scan_keep(void *arg, const struct csv_reader *r)
{
	(void)r;
	((struct scan *)arg)->s->rows++;
	return 1;
}

/* Columns [from, to) of a batch into their statistics (on any thread; a column is never shared). */
static void scan_column(void *arg, size_t from, size_t to, const struct csv_batch *b)
{
	struct scan *sc = arg;
	struct stats_col *cols = sc->s->cols;
	if (sc->r.format != CSV_FORMAT_CSV) {
		for (size_t i = 0; i < b->n_rows; i++) {
			const struct csv_field *f = b->f + i * b->n_cols;
			for (size_t j = from; j < to; j++)
				stats_add(&cols[j], f[j].ptr, f[j].len);
		}
		return;
	}
	for (size_t j = from; j < to; j++) /* CSV fields: CSV_PAD bytes readable after each */
		stats_add_fields(&cols[j], b->f + j, b->n_cols, b->n_rows);
}

/* ---------- spans ---------- */

/* One span's statistics: its own columns (as the scan's) and a run of numbers per column. */
struct sspan {
	const struct scan *sc;
	struct stats s;
	struct stats_run *runs;
};

static void *sspan_open(void *arg, size_t index)
{
	const struct scan *sc = arg;
	struct sspan *sp = xcalloc(1, sizeof(*sp));
	size_t n = sc->n_map ? sc->n_map : 1;
	(void)index;
	sp->sc = sc;
	sp->s.cols = xcalloc(n, sizeof(*sp->s.cols));
	sp->s.n_cols = sc->n_map;
	sp->runs = xcalloc(n, sizeof(*sp->runs));
	for (size_t j = 0; j < sc->n_map; j++)
		sp->s.cols[j].cats.tracking = 1;
	return sp;
}

/* A plain record: as batch_add in checks/csv.c, a field the record lacks is a null. */
static void sspan_record(void *state, const char *const *fp, const size_t *fl, size_t nf, uint64_t line,
			 const char *limit)
{
	struct sspan *sp = state;
	(void)line;
	sp->s.rows++;
	stats_run_add_record(sp->s.cols, sp->runs, sp->s.n_cols, sp->sc->map, fp, fl, nf, limit);
}

static void sspan_merge(void *arg, void *state, uint64_t line_base)
{
	struct scan *sc = arg;
	struct sspan *sp = state;
	(void)line_base;
	for (size_t j = 0; j < sp->s.n_cols; j++) {
		stats_run_flush(&sp->s.cols[j], &sp->runs[j]);
		stats_col_merge(&sc->s->cols[j], &sp->s.cols[j]);
	}
	sc->s->rows += sp->s.rows;
}

static void sspan_close(void *state)
{
	struct sspan *sp = state;
	stats_release(&sp->s);
	free(sp->runs);
	free(sp);
}

static const struct csv_span_ops sspan_ops = { sspan_open, sspan_record, sspan_merge, sspan_close };

static void *scan_run(void *arg)
{
	struct scan *sc = arg;
	sc->rc = 0;
	if (sc->data)
		sc->rc = csv_spans_run(&sc->r, sc->data, sc->len, sc->threads, sc->r.n_names, sc->own_map, &sspan_ops,
				       sc, &sc->e);
	if (sc->rc == 0)
		sc->rc = csv_columns(&sc->r, sc->map, sc->n_map, scan_keep, scan_column, sc, sc->threads, &sc->e);
	return NULL;
}

/* Close "sc"; on failure release its statistics and move its error to "e" (unless "e" is already set). */
static int scan_close(struct scan *sc, int failed, struct err *e)
{
	free(sc->map);
	if (sc->own_map)
		munmap((void *)sc->data, sc->len);
	csv_close(&sc->r);
	if (failed) {
		stats_release(sc->s);
		if (e->code == MLCI_OK)
			err_set(e, sc->e.code ? sc->e.code : MLCI_EINFRA, "%s", err_msg(&sc->e));
	}
	err_release(&sc->e);
	return failed ? -1 : 0;
}

int stats_from_data_file(struct stats *s, const char *path, const char *const *columns, size_t n_columns, struct err *e)
{
	struct scan sc;
	if (scan_open(&sc, s, path, columns, n_columns) < 0)
		return scan_close(&sc, 1, e);
	sc.threads = csv_default_threads();
	scan_run(&sc);
	return scan_close(&sc, sc.rc < 0, e);
}

int stats_from_data_stream(struct stats *s, FILE *f, const char *name, const char *data, size_t len, int threads,
			   const char *const *columns, size_t n_columns, struct err *e)
{
	struct scan sc;
	scan_init(&sc, s);
	if (csv_open_stream(&sc.r, f, name, csv_path_format(name), &sc.e) < 0)
		return scan_close(&sc, 1, e);
	if (sc.r.format == CSV_FORMAT_CSV) {
		sc.data = data;
		sc.len = len;
	}
	scan_setup(&sc, name, columns, n_columns);
	sc.threads = threads;
	scan_run(&sc);
	return scan_close(&sc, sc.rc < 0, e);
}

int stats_from_data_files(struct stats *a, const char *path_a, struct stats *b, const char *path_b,
			  const char *const *columns, size_t n_columns, struct err *e)
{
	struct scan sa, sb;
	pthread_t t;
	int threaded;
	if (scan_open(&sa, a, path_a, columns, n_columns) < 0)
		return scan_close(&sa, 1, e);
	if (scan_open(&sb, b, path_b, columns, n_columns) < 0) {
		scan_close(&sb, 1, e); /* its error first */
		return scan_close(&sa, 1, e);
	}
	if (sa.data && sb.data) {
		/* both in spans: one after the other, each on every thread (however different their sizes) */
		sa.threads = sb.threads = csv_default_threads();
		scan_run(&sa);
		scan_run(&sb);
	} else {
		/* one thread per file, and the other CPUs (if any) shared between the two files' columns */
		sa.threads = sb.threads = csv_default_threads() / 2 > 1 ? csv_default_threads() / 2 : 1;
		threaded = pthread_create(&t, NULL, scan_run, &sb) == 0;
		scan_run(&sa);
		if (threaded)
			pthread_join(t, NULL);
		else
			scan_run(&sb);
	}
	scan_close(&sa, sa.rc < 0, e);
	if (scan_close(&sb, sb.rc < 0, e) < 0 || sa.rc < 0) {
		if (sa.rc >= 0)
			stats_release(a);
		if (sb.rc >= 0)
			stats_release(b);
		return -1;
	}
	return 0;
}
