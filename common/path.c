/* path.c - path helpers that refuse to leave a root directory.
 * Must not create or delete files (common/fs.c does). */
#include "common/path.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include "common/alloc.h"
#include "common/banned.h"

char *path_join(const char *a, const char *b)
{
	struct buf out = BUF_INIT;
	size_t al = strlen(a);
	while (al > 1 && a[al - 1] == '/')
		al--;
	buf_add(&out, a, al);
	while (*b == '/')
		b++;
	if (*b) {
		if (al && a[al - 1] != '/')
			buf_addch(&out, '/');
		buf_addstr(&out, b);
	}
	return buf_detach(&out, NULL);
}

int path_normalise(const char *rel, struct buf *out)
{
	/* stack of segment start offsets in "out" */
	size_t starts[256];
	size_t depth = 0;
	const char *p = rel;
	buf_reset(out);
	while (*p) {
		const char *seg = p;
		size_t n;
		while (*p && *p != '/')
			p++;
		n = (size_t)(p - seg);
		if (*p == '/')
			p++;
		if (n == 0 || (n == 1 && seg[0] == '.'))
			continue;
		if (n == 2 && seg[0] == '.' && seg[1] == '.') {
			if (depth == 0)
				return -1; /* climbs above the start */
			depth--;
			buf_setlen(out, starts[depth] ? starts[depth] - 1 : 0);
			continue;
		}
		if (depth == sizeof(starts) / sizeof(starts[0]))
			return -1;
		if (out->len)
			buf_addch(out, '/');
		starts[depth++] = out->len;
		buf_add(out, seg, n);
	}
	return 0;
}

char *path_absolute(const char *p)
{
	struct buf joined = BUF_INIT, out = BUF_INIT;
	char cwd[PATH_MAX];
	const char *q;
	if (p[0] == '/') {
		buf_addstr(&joined, p);
	} else {
		if (!getcwd(cwd, sizeof(cwd)))
			return NULL;
		buf_addf(&joined, "%s/%s", cwd, p);
	}
	/* segment by segment; ".." pops one (and stays at "/" at the root, as the kernel does) */
	for (q = joined.ptr; *q;) {
		const char *seg = q;
		size_t n;
		while (*q && *q != '/')
			q++;
		n = (size_t)(q - seg);
		if (*q == '/')
			q++;
		if (n == 0 || (n == 1 && seg[0] == '.'))
			continue;
		if (n == 2 && seg[0] == '.' && seg[1] == '.') {
			while (out.len && out.ptr[out.len - 1] != '/')
				out.len--;
			if (out.len)
				out.len--; /* the slash before the popped segment */
			buf_setlen(&out, out.len);
			continue;
		}
		buf_addch(&out, '/');
		buf_add(&out, seg, n);
	}
	buf_release(&joined);
	if (!out.len)
		buf_addch(&out, '/');
	return buf_detach(&out, NULL);
}

int path_check_relative(const char *rel, const char **why)
{
	struct buf tmp = BUF_INIT;
	int r;
	if (!rel || !*rel) {
		*why = "is empty";
		return -1;
	}
	if (rel[0] == '/') {
		*why = "is absolute; paths are relative to the repository root";
		return -1;
	}
	r = path_normalise(rel, &tmp);
	buf_release(&tmp);
	if (r < 0) {
		*why = "leaves the repository";
		return -1;
	}
	return 0;
}

int path_resolve_under(const char *root, const char *rel, struct buf *out, struct err *e)
{
	char rroot[PATH_MAX], cur[PATH_MAX];
	struct buf norm = BUF_INIT;
	struct buf probe = BUF_INIT;
	const char *why;
	struct stat st;
	size_t rl, cut;
	int ret = -1;

	if (path_check_relative(rel, &why) < 0)
		return err_set(e, MLCI_EUSAGE, "path '%s' %s", rel, why);
	if (!realpath(root, rroot))
		return err_errno(e, MLCI_EINFRA, "could not resolve '%s'", root);
	path_normalise(rel, &norm);

	/* find the longest existing prefix of rel, resolve it, then re-append the rest */
	buf_addf(&probe, "%s/%s", rroot, norm.ptr);
	cut = probe.len;
	for (;;) {
		char saved = probe.ptr[cut];
		probe.ptr[cut] = '\0';
		if (realpath(probe.ptr, cur)) {
			probe.ptr[cut] = saved;
			break;
		}
		if (errno != ENOENT && errno != ENOTDIR) {
			probe.ptr[cut] = saved;
			err_errno(e, MLCI_EINFRA, "could not resolve '%s'", rel);
			goto done;
		}
		/* A dangling symlink cannot be checked (its target may be outside, and writing
		 * through it would create the file there), so it is refused. */
		if (lstat(probe.ptr, &st) == 0 && S_ISLNK(st.st_mode)) {
			err_set(e, MLCI_EUSAGE, "path '%s' goes through a dangling symlink '%s'", rel,
				probe.ptr + strlen(rroot) + 1);
			probe.ptr[cut] = saved;
			goto done;
		}
		probe.ptr[cut] = saved;
		while (cut > 0 && probe.ptr[cut - 1] != '/')
			cut--;
		if (cut <= 1) {
			err_set(e, MLCI_EINFRA, "could not resolve '%s'", rel);
			goto done;
		}
		cut--; /* drop the slash */
	}
	rl = strlen(rroot);
	/* inside means rroot itself or below it; every path is below "/" */
	if (strncmp(cur, rroot, rl) || (rl > 1 && cur[rl] != '/' && cur[rl] != '\0')) {
		err_set(e, MLCI_EUSAGE, "path '%s' leaves the repository (resolves to '%s')", rel, cur);
		goto done;
	}
	buf_reset(out);
	buf_addstr(out, cur);
	if (cur[strlen(cur) - 1] == '/' && probe.ptr[cut] == '/')
		cut++; /* cur is "/": no "//" */
	buf_addstr(out, probe.ptr + cut);
	ret = 0;
done:
	buf_release(&norm);
	buf_release(&probe);
	return ret;
}
