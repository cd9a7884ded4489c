/* infra.c - probes of this machine (PATH, /proc/meminfo, CPU affinity, statvfs, NVIDIA driver) or of the
 * deploy target over ssh (one shell script), and the infra verdict: one row per requirement. Never prints. */
#include "checks/infra.h"

#include <cjson/cJSON.h>
#include <ctype.h>
#include <inttypes.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <time.h>
#include <unistd.h>

#include "common/alloc.h"
#include "common/buf.h"
#include "common/clock.h"
#include "common/proc.h"
#include "common/ssh.h"
#include "common/strvec.h"
#include "common/banned.h"

int infra_which(const char *cmd, const char *path_env, char *out, size_t n)
{
	const char *p = path_env ? path_env : "/usr/local/bin:/usr/bin:/bin";
	if (!*cmd)
		return 0;
	if (strchr(cmd, '/')) {
		snprintf(out, n, "%s", cmd);
		return access(cmd, X_OK) == 0;
	}
	while (*p) {
		size_t len = strcspn(p, ":");
		struct stat st;
		snprintf(out, n, "%.*s/%s", (int)len, len ? p : ".", cmd);
		if (stat(out, &st) == 0 && S_ISREG(st.st_mode) && access(out, X_OK) == 0)
			return 1;
		p += len;
		if (*p == ':')
			p++;
	}
	return 0;
}

static int64_t mem_available(void)
{
	FILE *f = fopen("/proc/meminfo", "r");
	char line[256];
	int64_t v = -1;
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		long long kb;
		if (sscanf(line, "MemAvailable: %lld kB", &kb) == 1) {
			v = (int64_t)kb * 1024;
			break;
		}
	}
	fclose(f);
	return v;
}

int infra_parse_command(const char *item, char **name, char **min_version)
{
	const char *ge = strstr(item, ">=");
	const char *e = ge ? ge : item + strlen(item), *v;
	while (e > item && isspace((unsigned char)e[-1]))
		e--;
	*name = NULL;
	*min_version = NULL;
	if (e == item)
		return -1;
	for (const char *p = item; p < e; p++)
		if (isspace((unsigned char)*p))
			return -1;
	if (ge) {
		v = ge + 2;
		while (isspace((unsigned char)*v))
			v++;
		if (!isdigit((unsigned char)*v))
			return -1;
		for (const char *p = v; *p; p++)
			if (!isdigit((unsigned char)*p) && *p != '.')
				return -1;
		*min_version = xstrdup(v);
	}
	*name = xstrndup(item, (size_t)(e - item));
	return 0;
}

int infra_find_version(const char *text, char *out, size_t n)
{
	for (const char *p = text; *p; p++) {
		size_t len = 0;
		int dots = 0;
		if (!isdigit((unsigned char)*p) || (p > text && (isalnum((unsigned char)p[-1]) || p[-1] == '.')))
			continue;
		while (isdigit((unsigned char)p[len]) || (p[len] == '.' && isdigit((unsigned char)p[len + 1]))) {
			dots += p[len] == '.';
			len++;
		}
		if (dots) {
			snprintf(out, n, "%.*s", (int)len, p);
			return 1;
		}
		p += len - 1;
	}
	return 0;
}

int infra_version_cmp(const char *a, const char *b)
{
	while (*a || *b) {
		char *ea, *eb;
		unsigned long long x = strtoull(a, &ea, 10), y = strtoull(b, &eb, 10);
		if (x != y)
			return x < y ? -1 : 1;
		if (ea == a && eb == b)
			break; /* neither has a number here */
		a = *ea == '.' ? ea + 1 : ea;
		b = *eb == '.' ? eb + 1 : eb;
	}
	return 0;
}

/* Run "path --version" and find the version it prints; 1 found, 0 not. */
static int command_version(const char *path, char *out, size_t n)
{
	struct proc p;
	struct proc_opts o;
	struct buf cap = BUF_INIT, cmd = BUF_INIT;
	struct strvec env = STRVEC_INIT;
	struct err e = ERR_INIT;
	const char *pe = getenv("PATH");
	int found = 0;
	buf_addf(&cmd, "'%s' --version </dev/null", path);
	strvec_setenv(&env, "PATH", pe ? pe : "/usr/bin:/bin");
	memset(&o, 0, sizeof(o));
	o.cmd = cmd.ptr;
	o.env = env.v;
	o.stream_fd = -1;
	o.timeout_ms = 10000;
	cap.max = 64 * 1024;
	o.capture = &cap;
	if (!strchr(path, '\'') && proc_run(&p, &o, &e) == 0) {
		found = infra_find_version(cap.ptr ? cap.ptr : "", out, n);
		proc_release(&p);
	}
	err_release(&e);
	strvec_clear(&env);
	buf_release(&cap);
	buf_release(&cmd);
	return found;
}

void infra_found_init(struct infra_found *f)
{
	memset(f, 0, sizeof(*f));
	f->mem_available = f->cpus = f->disk_free = -1;
}

void infra_found_release(struct infra_found *f)
{
	for (size_t i = 0; i < f->n_cmds; i++) {
		free(f->cmds[i].path);
		free(f->cmds[i].version);
	}
	free(f->cmds);
	free(f->machine);
	free(f->disk_path);
	infra_found_init(f);
}

void infra_probe(struct infra_found *f, const struct spec_check_infra *req, const char *disk_path, const char *path_env)
{
	cpu_set_t set;
	struct statvfs vfs;
	struct stat st;
	char tmp[4096];
	infra_found_init(f);
	f->machine = xstrdup(INFRA_THIS_MACHINE);
	f->mem_available = mem_available();
	if (sched_getaffinity(0, sizeof(set), &set) == 0)
		f->cpus = CPU_COUNT(&set);
	else
		f->cpus = sysconf(_SC_NPROCESSORS_ONLN);
	f->disk_free = disk_path && statvfs(disk_path, &vfs) == 0 ? (int64_t)vfs.f_bavail * (int64_t)vfs.f_frsize : -1;
	f->disk_path = disk_path ? xstrdup(disk_path) : NULL;
	f->nvidia = stat("/proc/driver/nvidia", &st) == 0 || infra_which("nvidia-smi", path_env, tmp, sizeof(tmp));
	f->n_cmds = req->commands.n;
	f->cmds = xcalloc(f->n_cmds ? f->n_cmds : 1, sizeof(*f->cmds));
	for (size_t i = 0; i < req->commands.n; i++) {
		char *name = NULL, *minv = NULL, ver[64];
		if (infra_parse_command(req->commands.items[i], &name, &minv) == 0 &&
		    infra_which(name, path_env, tmp, sizeof(tmp))) {
			f->cmds[i].path = xstrdup(tmp);
			if (minv && command_version(tmp, ver, sizeof(ver)))
				f->cmds[i].version = xstrdup(ver);
		}
		free(name);
		free(minv);
	}
}

/* ---------- over ssh ---------- */

#define INFRA_SSH_TIMEOUT_MS 60000L

void infra_remote_script(const struct spec_check_infra *req, const char *dir, struct buf *out)
{
	buf_addstr(out, "LC_ALL=C; export LC_ALL\n"
			"while read k v u; do [ \"$k\" = MemAvailable: ] && echo \"mem_kb $v\"; done </proc/meminfo\n"
			"echo \"cpus $(nproc 2>/dev/null || getconf _NPROCESSORS_ONLN)\"\n"
			"d=");
	buf_add_shquote(out, dir && *dir ? dir : ".");
	buf_addstr(out,
		   "\n"
		   "while [ -n \"$d\" ] && [ ! -d \"$d\" ]; do case $d in */*) d=${d%/*} ;; *) d=. ;; esac; done\n"
		   "[ -n \"$d\" ] || d=/\n"
		   "echo \"disk_path $(cd \"$d\" && pwd)\"\n"
		   "df -Pk \"$d\" | { read h; read fs total used avail rest; echo \"disk_kb $avail\"; }\n"
		   "if [ -e /proc/driver/nvidia ] || command -v nvidia-smi >/dev/null 2>&1; then echo \"nvidia 1\"; "
		   "else echo \"nvidia 0\"; fi\n"
		   "t=; command -v timeout >/dev/null 2>&1 && t=\"timeout 10\"\n");
	for (size_t i = 0; i < req->commands.n; i++) {
		char *name = NULL, *minv = NULL;
		if (infra_parse_command(req->commands.items[i], &name, &minv) == 0) {
			buf_addstr(out, "p=$(command -v ");
			buf_add_shquote(out, name);
			buf_addf(out, " 2>/dev/null) || p=; echo \"cmd %zu $p\"\n", i);
			if (minv)
				buf_addf(out,
					 "[ -z \"$p\" ] || echo \"ver %zu $($t \"$p\" --version </dev/null 2>&1 | head "
					 "-n 5 "
					 "| tr '\\n\\r' '  ')\"\n",
					 i);
		}
		free(name);
		free(minv);
	}
	buf_addstr(out, "echo end\n");
}

static int64_t parse_i64(const char *v)
{
	char *end;
	long long x;
	if (!isdigit((unsigned char)*v))
		return -1;
	x = strtoll(v, &end, 10);
	return *end ? -1 : (int64_t)x;
}

int infra_parse_remote(struct infra_found *f, const struct spec_check_infra *req, const char *text, struct err *e)
{
	int ended = 0;
	f->n_cmds = req->commands.n;
	f->cmds = xcalloc(f->n_cmds ? f->n_cmds : 1, sizeof(*f->cmds));
	while (*text) {
		size_t len = strcspn(text, "\n"), klen;
		char *line = xstrndup(text, len);
		const char *v;
		klen = strcspn(line, " ");
		v = line[klen] ? line + klen + 1 : line + klen;
		if (!strncmp(line, "mem_kb", klen) && klen == 6 && parse_i64(v) >= 0)
			f->mem_available = parse_i64(v) * 1024;
		else if (!strncmp(line, "cpus", klen) && klen == 4)
			f->cpus = parse_i64(v);
		else if (!strncmp(line, "disk_kb", klen) && klen == 7 && parse_i64(v) >= 0)
			f->disk_free = parse_i64(v) * 1024;
		else if (!strncmp(line, "disk_path", klen) && klen == 9 && *v) {
			free(f->disk_path);
			f->disk_path = xstrdup(v);
		} else if (!strncmp(line, "nvidia", klen) && klen == 6)
			f->nvidia = !strcmp(v, "1");
		else if ((klen == 3 && (!strncmp(line, "cmd", 3) || !strncmp(line, "ver", 3))) &&
			 isdigit((unsigned char)*v)) {
			char *rest;
			unsigned long long idx = strtoull(v, &rest, 10);
			if (idx < f->n_cmds && (*rest == ' ' || !*rest)) {
				rest += *rest == ' ';
				if (line[0] == 'c' && *rest) {
					free(f->cmds[idx].path);
					f->cmds[idx].path = xstrdup(rest);
				} else if (line[0] == 'v') {
					char ver[64];
					free(f->cmds[idx].version);
					f->cmds[idx].version =
						infra_find_version(rest, ver, sizeof(ver)) ? xstrdup(ver) : NULL;
				}
			}
		} else if (!strcmp(line, "end"))
			ended = 1;
		free(line);
		text += len;
		if (*text == '\n')
			text++;
	}
	if (!ended)
		return err_set(e, MLCI_EFAILED, "the probe script on %s did not finish", f->machine ? f->machine : "?");
	return 0;
}

int infra_probe_remote(struct infra_found *f, const struct spec_check_infra *req, const char *target, const char *dir,
		       struct err *e)
{
	struct ssh_conn c;
	struct buf script = BUF_INIT, cmd = BUF_INIT, outb = BUF_INIT;
	int status = 0, ret = -1;
	infra_found_init(f);
	f->machine = xstrdup(target);
	if (ssh_conn_open(&c, target, e) < 0)
		goto done;
	free(f->machine);
	{
		struct buf m = BUF_INIT;
		buf_addf(&m, "%s@%s:%d", c.user, c.host, c.port);
		f->machine = buf_detach(&m, NULL);
	}
	infra_remote_script(req, dir, &script);
	buf_addstr(&cmd, "/bin/sh -c ");
	buf_add_shquote(&cmd, script.ptr);
	outb.max = 1024 * 1024;
	if (ssh_conn_exec(&c, cmd.ptr, INFRA_SSH_TIMEOUT_MS, -1, &outb, &status, e) < 0)
		goto done;
	if (status != 0) {
		err_set(e, MLCI_EFAILED, "the probe script exited with status %d: %.200s", status,
			outb.ptr ? outb.ptr : "");
		goto done;
	}
	ret = infra_parse_remote(f, req, outb.ptr ? outb.ptr : "", e);
done:
	ssh_conn_close(&c);
	buf_release(&script);
	buf_release(&cmd);
	buf_release(&outb);
	return ret;
}

static void fmt_bytes(char *out, size_t n, int64_t b)
{
	if (b < 0)
		snprintf(out, n, "unknown");
	else if (b >= (int64_t)1 << 40)
		snprintf(out, n, "%.1fTi", (double)b / (double)((int64_t)1 << 40));
	else if (b >= (int64_t)1 << 30)
		snprintf(out, n, "%.1fGi", (double)b / (double)((int64_t)1 << 30));
	else if (b >= (int64_t)1 << 20)
		snprintf(out, n, "%.0fMi", (double)b / (double)((int64_t)1 << 20));
	else
		snprintf(out, n, "%lldB", (long long)b);
}

static void row(cJSON *arr, const char *what, const char *required, const char *found, int ok, struct buf *sum,
		size_t *n_fail)
{
	cJSON *o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "requirement", what);
	cJSON_AddStringToObject(o, "required", required);
	cJSON_AddStringToObject(o, "found", found);
	cJSON_AddBoolToObject(o, "ok", ok);
	cJSON_AddItemToArray(arr, o);
	buf_addf(sum, "%s%s: required %s, found %s%s", sum->len ? "; " : "", what, required, found,
		 ok ? "" : " (unmet)");
	*n_fail += !ok;
}

void infra_check(struct verdicts *out, const struct spec_check_infra *req, const struct infra_found *f)
{
	int64_t t0 = clock_wall_ms();
	cJSON *d = cJSON_CreateObject(), *arr;
	struct buf sum = BUF_INIT;
	size_t n_fail = 0;
	char need[64], got[4200];
	const char *machine = f->machine ? f->machine : INFRA_THIS_MACHINE;

	cJSON_AddStringToObject(d, "machine", machine);
	arr = cJSON_AddArrayToObject(d, "requirements");
	for (size_t i = 0; i < req->commands.n; i++) {
		const struct infra_command *c = i < f->n_cmds ? &f->cmds[i] : NULL;
		char what[300];
		char *name = NULL, *minv = NULL;
		if (infra_parse_command(req->commands.items[i], &name, &minv) < 0) {
			snprintf(what, sizeof(what), "command %s", req->commands.items[i]);
			row(arr, what, "NAME or NAME >= VERSION", "malformed", 0, &sum, &n_fail);
			continue;
		}
		snprintf(what, sizeof(what), "command %s", name);
		if (!c || !c->path) {
			row(arr, what, minv ? "on PATH, version check" : "on PATH", "not found", 0, &sum, &n_fail);
		} else if (!minv) {
			row(arr, what, "on PATH", c->path, 1, &sum, &n_fail);
		} else {
			char need_v[128];
			snprintf(need_v, sizeof(need_v), ">= %s", minv);
			if (!c->version) {
				snprintf(got, sizeof(got), "%s, no version in --version output", c->path);
				row(arr, what, need_v, got, 0, &sum, &n_fail);
			} else {
				snprintf(got, sizeof(got), "%s %s", c->path, c->version);
				row(arr, what, need_v, got, infra_version_cmp(c->version, minv) >= 0, &sum, &n_fail);
			}
		}
		free(name);
		free(minv);
	}
	if (req->memory_bytes > 0) {
		fmt_bytes(need, sizeof(need), req->memory_bytes);
		fmt_bytes(got, sizeof(got), f->mem_available);
		row(arr, "memory", need, got, f->mem_available >= req->memory_bytes, &sum, &n_fail);
	}
	if (req->cpus > 0) {
		snprintf(need, sizeof(need), "%g", req->cpus);
		if (f->cpus < 0)
			snprintf(got, sizeof(got), "unknown");
		else
			snprintf(got, sizeof(got), "%lld", (long long)f->cpus);
		row(arr, "cpus", need, got, f->cpus >= 0 && (double)f->cpus >= req->cpus, &sum, &n_fail);
	}
	if (req->disk_bytes > 0) {
		fmt_bytes(need, sizeof(need), req->disk_bytes);
		fmt_bytes(got, sizeof(got), f->disk_free);
		row(arr, "disk", need, got, f->disk_free >= req->disk_bytes, &sum, &n_fail);
		cJSON_AddStringToObject(d, "disk_path", f->disk_path ? f->disk_path : "");
	}
	if (req->accelerator) {
		int want = !strcmp(req->accelerator, "nvidia");
		row(arr, "accelerator", req->accelerator, f->nvidia ? "nvidia" : "none", !want || f->nvidia, &sum,
		    &n_fail);
	}
	if (n_fail)
		verdicts_add(out, "infra.requires", "infra", VERDICT_FAIL, d, t0, clock_wall_ms() - t0,
			     "on %s: %zu of %d unmet: %s", machine, n_fail, cJSON_GetArraySize(arr), sum.ptr);
	else
		verdicts_add(out, "infra.requires", "infra", VERDICT_PASS, d, t0, clock_wall_ms() - t0, "on %s: %s",
			     machine, sum.len ? sum.ptr : "nothing required");
	buf_release(&sum);
}

void infra_check_unreachable(struct verdicts *out, const char *machine, const char *why)
{
	int64_t t0 = clock_wall_ms();
	cJSON *d = cJSON_CreateObject();
	cJSON_AddStringToObject(d, "machine", machine);
	cJSON_AddStringToObject(d, "error", why);
	verdicts_add(out, "infra.requires", "infra", VERDICT_FAIL, d, t0, 0, "on %s: could not probe the machine: %s",
		     machine, why);
}
