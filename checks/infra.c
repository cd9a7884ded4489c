/* infra.c - probes of this machine (PATH, /proc/meminfo, CPU affinity, statvfs, NVIDIA driver) and the
 * infra verdict: one row per requirement, required vs found. It never prints. */
#include "checks/infra.h"

#include <cjson/cJSON.h>
#include <ctype.h>
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
#include "common/proc.h"
#include "common/strvec.h"
#include "common/banned.h"

static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

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

void infra_probe(struct infra_found *f, const char *disk_path, const char *path_env)
{
	cpu_set_t set;
	struct statvfs vfs;
	struct stat st;
	char tmp[4096];
	f->mem_available = mem_available();
	if (sched_getaffinity(0, sizeof(set), &set) == 0)
		f->cpus = CPU_COUNT(&set);
	else
		f->cpus = sysconf(_SC_NPROCESSORS_ONLN);
	f->disk_free = disk_path && statvfs(disk_path, &vfs) == 0 ? (int64_t)vfs.f_bavail * (int64_t)vfs.f_frsize : -1;
	f->nvidia = stat("/proc/driver/nvidia", &st) == 0 || infra_which("nvidia-smi", path_env, tmp, sizeof(tmp));
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

void infra_check(struct verdicts *out, const struct spec_check_infra *req, const struct infra_found *f,
		 const char *disk_path, const char *path_env)
{
	int64_t t0 = now_ms();
	cJSON *d = cJSON_CreateObject(), *arr = cJSON_AddArrayToObject(d, "requirements");
	struct buf sum = BUF_INIT;
	size_t n_fail = 0;
	char need[64], got[4200];

	for (size_t i = 0; i < req->commands.n; i++) {
		char what[300], path[4096], ver[64];
		char *name = NULL, *minv = NULL;
		int ok;
		if (infra_parse_command(req->commands.items[i], &name, &minv) < 0) {
			snprintf(what, sizeof(what), "command %s", req->commands.items[i]);
			row(arr, what, "NAME or NAME >= VERSION", "malformed", 0, &sum, &n_fail);
			continue;
		}
		ok = infra_which(name, path_env, path, sizeof(path));
		snprintf(what, sizeof(what), "command %s", name);
		if (!ok) {
			row(arr, what, minv ? "on PATH, version check" : "on PATH", "not found", 0, &sum, &n_fail);
		} else if (!minv) {
			row(arr, what, "on PATH", path, 1, &sum, &n_fail);
		} else {
			char need_v[128];
			snprintf(need_v, sizeof(need_v), ">= %s", minv);
			if (!command_version(path, ver, sizeof(ver))) {
				snprintf(got, sizeof(got), "%s, no version in --version output", path);
				row(arr, what, need_v, got, 0, &sum, &n_fail);
			} else {
				snprintf(got, sizeof(got), "%s %s", path, ver);
				row(arr, what, need_v, got, infra_version_cmp(ver, minv) >= 0, &sum, &n_fail);
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
		snprintf(got, sizeof(got), "%lld", (long long)f->cpus);
		row(arr, "cpus", need, got, (double)f->cpus >= req->cpus, &sum, &n_fail);
	}
	if (req->disk_bytes > 0) {
		char what[300];
		snprintf(what, sizeof(what), "disk");
		fmt_bytes(need, sizeof(need), req->disk_bytes);
		fmt_bytes(got, sizeof(got), f->disk_free);
		row(arr, what, need, got, f->disk_free >= req->disk_bytes, &sum, &n_fail);
		cJSON_AddStringToObject(d, "disk_path", disk_path ? disk_path : "");
	}
	if (req->accelerator) {
		int want = !strcmp(req->accelerator, "nvidia");
		row(arr, "accelerator", req->accelerator, f->nvidia ? "nvidia" : "none", !want || f->nvidia, &sum,
		    &n_fail);
	}
	if (n_fail)
		verdicts_add(out, "infra.requires", "infra", VERDICT_FAIL, d, t0, now_ms() - t0, "%zu of %d unmet: %s",
			     n_fail, cJSON_GetArraySize(arr), sum.ptr);
	else
		verdicts_add(out, "infra.requires", "infra", VERDICT_PASS, d, t0, now_ms() - t0, "%s",
			     sum.len ? sum.ptr : "nothing required");
	buf_release(&sum);
}
