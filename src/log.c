/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Logging through the memory's callback, or to stderr (or a file) with a
 * "libswiotlb: " prefix; filtered by level and rate-limited per memory.
 *
 * SWIOTLB_LOG="key:value;key:value", read at swiotlb_mem_create():
 *   level:off|error|warn|info      lines up to this severity (default info)
 *   output:stderr|file:PATH        the default logger's sink (no callback)
 *   ratelimit:BURST/MS|off         at most BURST lines per MS milliseconds
 *                                  per memory (default 10/5000)
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

static const struct {
	const char *name;
	int level;
} log_levels[] = {
	{ "off", LOG_LEVEL_OFF },     { "error", SWIOTLB_LOG_ERR },    { "err", SWIOTLB_LOG_ERR },
	{ "warn", SWIOTLB_LOG_WARN }, { "warning", SWIOTLB_LOG_WARN }, { "info", SWIOTLB_LOG_INFO },
};

static void log_state_defaults(struct log_state *ls)
{
	memset(ls, 0, sizeof(*ls));
	ls->level = SWIOTLB_LOG_INFO;
	ls->out = stderr;
	ls->burst = LOG_DEFAULT_BURST;
	ls->interval_ns = (uint64_t)LOG_DEFAULT_INTERVAL_MS * 1000000;
}

static int parse_level(struct log_state *ls, const char *v)
{
	for (size_t i = 0; i < sizeof(log_levels) / sizeof(log_levels[0]); i++) {
		if (!strcmp(v, log_levels[i].name)) {
			ls->level = log_levels[i].level;
			return 0;
		}
	}
	return -1;
}

static int parse_ratelimit(struct log_state *ls, const char *v)
{
	unsigned long burst, ms;
	char *end;

	if (!strcmp(v, "off")) {
		ls->burst = 0;
		return 0;
	}
	burst = strtoul(v, &end, 10);
	if (end == v || *end != '/' || burst == 0 || burst > 1000000)
		return -1;
	v = end + 1;
	ms = strtoul(v, &end, 10);
	if (end == v || *end || ms == 0 || ms > 86400000)
		return -1;
	ls->burst = (unsigned)burst;
	ls->interval_ns = (uint64_t)ms * 1000000;
	return 0;
}

static int parse_output(struct log_state *ls, const char *v)
{
	FILE *f;

	if (!strcmp(v, "stderr"))
		return 0;
	if (strncmp(v, "file:", 5) || !v[5])
		return -1;
	f = fopen(v + 5, "ae");
	if (!f) {
		fprintf(stderr,
			"libswiotlb: SWIOTLB_LOG: cannot open '%s' (%s); logging to stderr\n",
			v + 5, strerror(errno));
		return 0;
	}
	setvbuf(f, NULL, _IOLBF, 0);
	if (ls->own_out)
		fclose(ls->out);
	ls->out = f;
	ls->own_out = true;
	return 0;
}

/* One "key:value" item; complains on stderr about what it cannot use. */
static void parse_item(struct log_state *ls, char *item)
{
	char *v = strchr(item, ':');
	int rc = -1;

	if (!*item)
		return;
	if (v) {
		*v++ = '\0';
		if (!strcmp(item, "level"))
			rc = parse_level(ls, v);
		else if (!strcmp(item, "output"))
			rc = parse_output(ls, v);
		else if (!strcmp(item, "ratelimit"))
			rc = parse_ratelimit(ls, v);
	}
	if (rc)
		fprintf(stderr,
			"libswiotlb: SWIOTLB_LOG: ignoring '%s%s%s' (use level:off|error|"
			"warn|info; output:stderr|file:PATH; ratelimit:BURST/MS|off)\n",
			item, v ? ":" : "", v ? v : "");
}

static void log_state_parse_env(struct log_state *ls)
{
	const char *env = getenv("SWIOTLB_LOG");
	char *copy, *item, *save = NULL;

	log_state_defaults(ls);
	if (!env || !*env)
		return;
	copy = strdup(env);
	if (!copy)
		return;
	for (item = strtok_r(copy, ";", &save); item; item = strtok_r(NULL, ";", &save))
		parse_item(ls, item);
	free(copy);
}

void _swiotlb_log_init(struct log_state *ls)
{
	log_state_parse_env(ls);
	atomic_store_explicit(&ls->window_start, now_ns(), memory_order_relaxed);
	ls->ready = true;
}

static void log_emit(const struct swiotlb_mem *mem, FILE *out, enum swiotlb_log_level lvl,
		     const char *msg)
{
	if (mem && mem->cfg.log)
		mem->cfg.log(mem->cfg.log_ctx, lvl, msg);
	else
		fprintf(out, "libswiotlb: %s\n", msg);
}

static void log_report_suppressed(const struct swiotlb_mem *mem, struct log_state *ls, uint64_t n)
{
	char msg[128];

	snprintf(msg, sizeof(msg), "%llu log messages suppressed (rate limit %u per %llu ms)",
		 (unsigned long long)n, ls->burst, (unsigned long long)(ls->interval_ns / 1000000));
	log_emit(mem, ls->out, SWIOTLB_LOG_WARN, msg);
}

/*
 * Whether a line may go out now.  Lock-free: the thread that moves the
 * window forward (compare-and-swap on its start) reports the lines dropped
 * in the previous one and reopens the burst.  Under a race a few lines
 * more or less than 'burst' may pass in one window; every dropped line is
 * counted exactly once.
 */
static bool log_ratelimit_pass(const struct swiotlb_mem *mem, struct log_state *ls)
{
	uint64_t now, start;

	if (!ls->burst)
		return true;
	now = now_ns();
	start = atomic_load_explicit(&ls->window_start, memory_order_relaxed);
	if (now - start >= ls->interval_ns &&
	    atomic_compare_exchange_strong_explicit(&ls->window_start, &start, now,
						    memory_order_relaxed, memory_order_relaxed)) {
		uint64_t n = atomic_exchange_explicit(&ls->suppressed, 0, memory_order_relaxed);

		atomic_store_explicit(&ls->printed, 0, memory_order_relaxed);
		if (n)
			log_report_suppressed(mem, ls, n);
	}
	if (atomic_fetch_add_explicit(&ls->printed, 1, memory_order_relaxed) < ls->burst)
		return true;
	atomic_fetch_add_explicit(&ls->suppressed, 1, memory_order_relaxed);
	return false;
}

void _swiotlb_log_fini(struct swiotlb_mem *mem)
{
	struct log_state *ls = &mem->log;
	uint64_t n;

	if (!ls->ready)
		return;
	n = atomic_exchange_explicit(&ls->suppressed, 0, memory_order_relaxed);
	if (n && ls->level >= SWIOTLB_LOG_WARN)
		log_report_suppressed(mem, ls, n);
	if (ls->own_out)
		fclose(ls->out);
	ls->out = stderr;
	ls->own_out = false;
	ls->ready = false;
}

void _swiotlb_log(const struct swiotlb_mem *mem, enum swiotlb_log_level lvl, const char *fmt, ...)
{
	/* the state is the memory's own, mutable; only the API is const */
	struct log_state *ls = mem ? (struct log_state *)&mem->log : NULL;
	struct log_state tmp;
	char msg[512];
	va_list ap;

	if (!ls || !ls->ready) {
		/* before or without a memory (refused create): the
		 * environment's level and sink, no rate limit */
		log_state_parse_env(&tmp);
		tmp.burst = 0;
		ls = &tmp;
	}
	if ((int)lvl > ls->level || !log_ratelimit_pass(mem, ls))
		goto out;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	log_emit(mem, ls->out, lvl, msg);
out:
	if (ls == &tmp && tmp.own_out)
		fclose(tmp.out);
}
