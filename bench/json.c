// SPDX-License-Identifier: LGPL-2.1-or-later
/* swiotlb-bench: a small streaming JSON writer, and the machine description
 * that heads every results file. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include "driver.h"

static void jw_sep(struct jw *w, const char *key)
{
	int i;

	if (w->count[w->depth]++)
		fputc(',', w->f);
	fputc('\n', w->f);
	for (i = 0; i < w->depth; i++)
		fputs("  ", w->f);
	if (key)
		fprintf(w->f, "\"%s\": ", key);
}

void jw_open(struct jw *w, const char *key, char c)
{
	jw_sep(w, key);
	fputc(c, w->f);
	w->count[++w->depth] = 0;
}

void jw_close(struct jw *w, char c)
{
	int i;

	w->depth--;
	fputc('\n', w->f);
	for (i = 0; i < w->depth; i++)
		fputs("  ", w->f);
	fputc(c, w->f);
}

void jw_num(struct jw *w, const char *key, double v)
{
	jw_sep(w, key);
	if (isfinite(v))
		fprintf(w->f, "%.6g", v);
	else
		fputs("null", w->f);
}

void jw_u64(struct jw *w, const char *key, uint64_t v)
{
	jw_sep(w, key);
	fprintf(w->f, "%llu", (unsigned long long)v);
}

void jw_bool(struct jw *w, const char *key, bool v)
{
	jw_sep(w, key);
	fputs(v ? "true" : "false", w->f);
}

void jw_str(struct jw *w, const char *key, const char *s)
{
	jw_sep(w, key);
	fputc('"', w->f);
	for (; s && *s; s++) {
		if (*s == '"' || *s == '\\')
			fprintf(w->f, "\\%c", *s);
		else if ((unsigned char)*s < 0x20)
			fprintf(w->f, "\\u%04x", *s);
		else
			fputc(*s, w->f);
	}
	fputc('"', w->f);
}

void jw_lat(struct jw *w, const char *key, const struct lat *l)
{
	jw_open(w, key, '{');
	if (l->n) {
		jw_num(w, "avg_ns", l->avg);
		jw_num(w, "stddev_ns", l->sd);
		jw_num(w, "p50_ns", l->p50);
		jw_num(w, "p99_ns", l->p99);
		jw_num(w, "p999_ns", l->p999);
	}
	jw_u64(w, "samples", l->n);
	jw_close(w, '}');
}

/* The "model name" of /proc/cpuinfo, or "unknown". */
static void cpu_model(char *model, size_t len)
{
	FILE *f = fopen("/proc/cpuinfo", "r");
	char line[512];

	snprintf(model, len, "unknown");
	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		char *c = strchr(line, ':');

		if (!strncmp(line, "model name", 10) && c) {
			snprintf(model, len, "%s", c + 2);
			model[strcspn(model, "\n")] = 0;
			break;
		}
	}
	fclose(f);
}

void jw_machine(struct jw *w)
{
	char model[256], date[64];
	time_t t = time(NULL);
	struct utsname u;
	double la[3];

	cpu_model(model, sizeof(model));
	strftime(date, sizeof(date), "%Y-%m-%dT%H:%M:%SZ", gmtime(&t));
	jw_str(w, "date", date);
	jw_open(w, "machine", '{');
	jw_str(w, "cpu", model);
	jw_u64(w, "cpus", (uint64_t)sysconf(_SC_NPROCESSORS_ONLN));
	if (uname(&u) == 0) {
		jw_str(w, "kernel", u.release);
		jw_str(w, "arch", u.machine);
	}
	jw_str(w, "compiler", __VERSION__);
	jw_num(w, "tsc_ns_per_cycle", tsc_ns_per_cycle);
	if (getloadavg(la, 3) == 3)
		jw_num(w, "loadavg_1min_at_start", la[0]);
	jw_close(w, '}');
}
