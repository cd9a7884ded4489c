/* stats_file.c - statistics of CSV or JSON Lines files: one pass of the CSV reader into checks/stats.c,
 * two files on two threads. It must not interpret values itself (stats_add does) nor print. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "checks/csv.h"
#include "checks/stats.h"
#include "common/alloc.h"
#include "common/banned.h"

/* One file being read: the reader, the statistics and which file column feeds each statistics column. */
struct scan {
	struct csv_reader r;
	struct stats *s;
	size_t *map, n_map;
	struct err e;
	int rc;
	int threads; /* for csv_columns */
};

/* Open "path" and set up "sc" (on the calling thread: csv_open initialises the reader's shared tables). */
static int scan_open(struct scan *sc, struct stats *s, const char *path, const char *const *columns, size_t n_columns)
{
	memset(sc, 0, sizeof(*sc));
	memset(s, 0, sizeof(*s));
	sc->s = s;
	sc->e = (struct err)ERR_INIT;
	if (csv_open(&sc->r, path, &sc->e) < 0)
		return -1;
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
	s->source = xstrdup(path);
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
	for (size_t i = 0; i < b->n_rows; i++) { /* CSV fields: CSV_PAD bytes readable after each */
		const struct csv_field *f = b->f + i * b->n_cols;
		for (size_t j = from; j < to; j++)
			stats_add_padded(&cols[j], f[j].ptr, f[j].len);
	}
}

static void *scan_run(void *arg)
{
	struct scan *sc = arg;
	sc->rc = csv_columns(&sc->r, sc->map, sc->n_map, scan_keep, scan_column, sc, sc->threads, &sc->e);
	return NULL;
}

/* Close "sc"; on failure release its statistics and move its error to "e" (unless "e" is already set). */
static int scan_close(struct scan *sc, int failed, struct err *e)
{
	free(sc->map);
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
	/* one thread per file, and the other CPUs (if any) shared between the two files' columns */
	sa.threads = sb.threads = csv_default_threads() / 2 > 1 ? csv_default_threads() / 2 : 1;
	threaded = pthread_create(&t, NULL, scan_run, &sb) == 0;
	scan_run(&sa);
	if (threaded)
		pthread_join(t, NULL);
	else
		scan_run(&sb);
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
