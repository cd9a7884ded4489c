/* template.c - `mlci init`: write an embedded template into a directory and make its first commit.
 * Uses libgit2 for the repository (never the git CLI); it must not run the pipeline or print. */
#include "git/template.h"

#include <dirent.h>
#include <git2.h>
#include <stdlib.h>
#include <string.h>

#include "common/alloc.h"
#include "common/buf.h"
#include "common/fs.h"
#include "common/path.h"
#include "common/banned.h"

static int git_fail(struct err *e, const char *what)
{
	const git_error *ge = git_error_last();
	return err_set(e, MLCI_EINFRA, "%s: %s", what, ge && ge->message ? ge->message : "unknown libgit2 error");
}

void template_names(struct strvec *out)
{
	for (const struct template_file *f = template_files; f->path; f++) {
		const char *slash = strchr(f->path, '/');
		char *name;
		if (!slash)
			continue;
		name = xstrndup(f->path, (size_t)(slash - f->path));
		if (!strvec_contains(out, name))
			strvec_push_owned(out, name);
		else
			free(name);
	}
}

static int dir_is_empty_or_absent(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	int empty = 1;
	if (!d)
		return !fs_exists(dir);
	while ((de = readdir(d)))
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, "..")) {
			empty = 0;
			break;
		}
	closedir(d);
	return empty;
}

/* Write every file of template "name" under "dir". Returns the number written, or -1. */
static int write_files(const char *name, const char *dir, struct err *e)
{
	size_t nl = strlen(name);
	int count = 0;
	for (const struct template_file *f = template_files; f->path; f++) {
		char *dst, *slash;
		if (strncmp(f->path, name, nl) || f->path[nl] != '/')
			continue;
		dst = path_join(dir, f->path + nl + 1);
		slash = strrchr(dst, '/');
		*slash = '\0';
		if (fs_mkdir_p(dst, 0755, e) < 0) {
			free(dst);
			return -1;
		}
		*slash = '/';
		if (fs_write_atomic(dst, f->data, f->len, (mode_t)f->mode, e) < 0) {
			free(dst);
			return -1;
		}
		free(dst);
		count++;
	}
	return count;
}

static int first_commit(const char *dir, char commit_out[41], struct err *e)
{
	git_repository *repo = NULL;
	git_repository_init_options io;
	git_index *index = NULL;
	git_oid tree_id, commit_id;
	git_tree *tree = NULL;
	git_signature *sig = NULL;
	int ret = -1;

	git_repository_init_options_init(&io, GIT_REPOSITORY_INIT_OPTIONS_VERSION);
	io.flags = GIT_REPOSITORY_INIT_MKPATH;
	io.initial_head = "main";
	if (git_repository_init_ext(&repo, dir, &io) < 0)
		return git_fail(e, "could not create the git repository");
	if (git_repository_index(&index, repo) < 0 || git_index_add_all(index, NULL, 0, NULL, NULL) < 0 ||
	    git_index_write(index) < 0 || git_index_write_tree(&tree_id, index) < 0) {
		git_fail(e, "could not stage the template files");
		goto done;
	}
	if (git_tree_lookup(&tree, repo, &tree_id) < 0) {
		git_fail(e, "could not read the new tree");
		goto done;
	}
	/* the user's identity from git config when there is one, else mlci's own */
	if (git_signature_default(&sig, repo) < 0 && git_signature_now(&sig, "mlci", "mlci@localhost") < 0) {
		git_fail(e, "could not make a commit signature");
		goto done;
	}
	if (git_commit_create_v(&commit_id, repo, "HEAD", sig, sig, NULL, "Initial pipeline from mlci init\n", tree,
				0) < 0) {
		git_fail(e, "could not commit");
		goto done;
	}
	git_oid_tostr(commit_out, 41, &commit_id);
	ret = 0;
done:
	git_signature_free(sig);
	git_tree_free(tree);
	git_index_free(index);
	git_repository_free(repo);
	return ret;
}

int template_init(const char *name, const char *dir, char commit_out[41], struct err *e)
{
	struct strvec names = STRVEC_INIT;
	int known, ret;

	template_names(&names);
	known = strvec_contains(&names, name);
	if (!known) {
		struct buf list = BUF_INIT;
		for (size_t i = 0; i < names.n; i++)
			buf_addf(&list, "%s%s", i ? ", " : "", names.v[i]);
		err_set(e, MLCI_EUSAGE, "unknown template '%s' (available: %s)", name, list.ptr);
		buf_release(&list);
		strvec_clear(&names);
		return -1;
	}
	strvec_clear(&names);
	if (!dir_is_empty_or_absent(dir))
		return err_set(e, MLCI_EUSAGE, "'%s' exists and is not empty", dir);
	if (fs_mkdir_p(dir, 0755, e) < 0)
		return -1;
	if (write_files(name, dir, e) < 0)
		return -1;
	git_libgit2_init();
	ret = first_commit(dir, commit_out, e);
	git_libgit2_shutdown();
	return ret;
}
