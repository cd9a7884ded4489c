/* contract_load.c - reading case files (checks/contract.h): one file, or every *.yaml / *.yml of a
 * directory in name order, each parsed by contract_parse_buffer. I/O problems are diagnostics too; it
 * reads only, and sends nothing. */
#include "checks/contract.h"

#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "common/diag.h"
#include "common/fs.h"
#include "common/path.h"
#include "common/banned.h"

static int is_case_file(const char *name)
{
	size_t n = strlen(name);
	if (name[0] == '.')
		return 0;
	return (n > 5 && !strcmp(name + n - 5, ".yaml")) || (n > 4 && !strcmp(name + n - 4, ".yml"));
}

/* One problem of "file" as a line of "out", worded and formatted as every contract diagnostic. */
static void file_diag(struct strvec *out, const char *file, struct diag_pos pos, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static void file_diag(struct strvec *out, const char *file, struct diag_pos pos, const char *fmt, ...)
{
	struct diags d;
	va_list ap;
	diags_init(&d);
	d.verbatim = 1;
	diags_set_file(&d, file);
	va_start(ap, fmt);
	diags_vadd(&d, pos, "", fmt, ap);
	va_end(ap);
	diags_to_strvec(&d, out);
	diags_release(&d);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int load_file(struct contract_cases *out, const char *path, const char *display, struct strvec *diags)
{
	struct buf b = BUF_INIT;
	int r;
	b.max = CONTRACT_MAX_BYTES;
	if (buf_read_file(&b, path) < 0) {
		if (errno == EFBIG)
			file_diag(diags, display, (struct diag_pos){ 1, 1 },
				  "case file is too large (the limit is %d bytes)", CONTRACT_MAX_BYTES);
		else
			file_diag(diags, display, (struct diag_pos){ 0, 0 }, "could not read: %s", strerror(errno));
		buf_release(&b);
		return -1;
	}
	r = contract_parse_buffer(out, b.ptr, b.len, display, diags);
	buf_release(&b);
	return r;
}

int contract_load(struct contract_cases *out, const char *path, const char *display, struct strvec *diags)
{
	struct strvec names = STRVEC_INIT;
	DIR *d;
	struct dirent *de;
	int ret = 0;
	if (!display)
		display = path;
	if (!fs_is_dir(path))
		return load_file(out, path, display, diags);
	d = opendir(path);
	if (!d) {
		file_diag(diags, display, (struct diag_pos){ 0, 0 }, "could not open directory: %s", strerror(errno));
		return -1;
	}
	while ((de = readdir(d)) != NULL) {
		if (!is_case_file(de->d_name))
			continue;
		if (names.n >= CONTRACT_MAX_FILES) {
			file_diag(diags, display, (struct diag_pos){ 0, 0 }, "more than %d case files",
				  CONTRACT_MAX_FILES);
			ret = -1;
			break;
		}
		strvec_push(&names, de->d_name);
	}
	closedir(d);
	if (ret == 0) {
		qsort(names.v, names.n, sizeof(*names.v), cmp_str);
		if (!names.n) {
			file_diag(diags, display, (struct diag_pos){ 0, 0 },
				  "no case files (*.yaml, *.yml) in this directory");
			ret = -1;
		}
		for (size_t i = 0; i < names.n; i++) {
			char *full = path_join(path, names.v[i]);
			char *disp = path_join(display, names.v[i]);
			if (load_file(out, full, disp, diags) < 0)
				ret = -1;
			free(full);
			free(disp);
		}
	}
	strvec_clear(&names);
	return ret;
}
