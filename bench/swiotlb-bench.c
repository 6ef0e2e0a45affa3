/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * swiotlb-bench: measure libswiotlb side by side with its peers.
 *
 * Options follow the kernel's dma_map_benchmark (-t -s -g -d -x); see
 * --help.  Throughput is timed with clock_gettime(CLOCK_MONOTONIC) around
 * batches of 64 operations; per-call latency is sampled with the TSC on one
 * call in 16 (every call in the growth run), so timing does not dominate.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>
#if defined(__x86_64__) || defined(__i386__)
#include <x86intrin.h>
#define HAVE_TSC 1
#endif

#include <swiotlb.h>

#include "backend_swiotlb.h"
#include "bench.h"

#define BATCH 64
#define SAMPLE_MASK 15          /* sample one call in 16 */
#define MAX_SAMPLES (1u << 19)  /* per thread and kind */
#define RING 64                 /* --cross ring entries */
#define MAX_LIST 16

/* ------------------------------------------------------------------ */
/* options */

struct opts {
	int threads[MAX_LIST];
	int nthreads;
	size_t sizes[MAX_LIST];
	int nsizes;
	unsigned lpools[MAX_LIST];
	int nlpools;
	double seconds;
	double warmup;
	int dir;
	uint64_t delay_ns;
	int runs;
	size_t pool_size;
	bool pool_size_set;
	unsigned pools;
	bool dynamic, cross, compare, lookup, growth, quiet, strict;
	const char *json;
	const char *peers;
};

static struct opts o = {
	.seconds = 1.0,
	.warmup = 0.05,
	.dir = BENCH_BIDIRECTIONAL,
	.runs = 1,
	.pool_size = 64u << 20,
	.pools = 1,
};

static void usage(FILE *f)
{
	fprintf(f,
"usage: swiotlb-bench [options]\n"
"  -t LIST      threads (default 1); a comma list runs each (e.g. 1,2)\n"
"  -s SECONDS   measured time per run (default 1; fractions allowed)\n"
"  -g LIST      granule: pages (1 = 4 KiB) or a byte size with b/k/m suffix\n"
"               (2k, 64k, 1m); a comma list runs each (default 1 page)\n"
"  -d DIR       0 bidirectional (default), 1 to device, 2 from device\n"
"  -x NS        simulated transfer delay between map and unmap (ns)\n"
"  -r RUNS      runs per configuration; medians are reported (default 1)\n"
"  -p SIZE      pool (region) size (default 64m; growth run: 4m)\n"
"  -w SECONDS   warm-up per run, not measured (default 0.05)\n"
"  --pools N    libswiotlb memory made of N pools of SIZE/N bytes\n"
"  --dynamic    dynamic libswiotlb memory\n"
"  --strict-cursor  libswiotlb places mappings exactly like the kernel\n"
"               (forward-only cursor, no hot reuse of freed slots)\n"
"  --cross      unmap on another thread than the map: pairs of mapper and\n"
"               unmapper threads joined by a relaxed-atomics ring\n"
"  --compare    run the peers too (interleaved, same placement):\n"
"               swiotlb, memcpy, memcpy-hot, jemalloc, jemalloc-notcache,\n"
"               firstfit\n"
"  --peers LIST run only these backends (comma list of the names above)\n"
"  --lookup     address lookup benchmark (pool counts: --lookup-pools)\n"
"  --lookup-pools LIST  pool counts (default 1,64,512,4096)\n"
"  --growth     growth run: ramp the live mappings to 4x the initial pool\n"
"  --json FILE  write all results as JSON\n"
"  -q           print only the medians\n"
"  -h, --help   this text\n");
}

static size_t parse_size(const char *s, bool pages_default)
{
	char *end;
	double v = strtod(s, &end);
	size_t mult = pages_default ? 4096 : 1;

	if (end == s || v <= 0)
		return 0;
	switch (*end) {
	case 'b': case 'B': mult = 1; end++; break;
	case 'k': case 'K': mult = 1024; end++; break;
	case 'm': case 'M': mult = 1024 * 1024; end++; break;
	case 'g': case 'G': mult = 1024ul * 1024 * 1024; end++; break;
	case 'p': case 'P': mult = 4096; end++; break;
	default: break;
	}
	if (*end == 'i' || *end == 'I')
		end++;
	if (*end == 'b' || *end == 'B')
		end++;
	if (*end)
		return 0;
	return (size_t)(v * (double)mult);
}

static int parse_list(const char *arg, void *out, int kind)
{
	char *s = strdup(arg), *tok, *save = NULL;
	int n = 0;

	for (tok = strtok_r(s, ",", &save); tok && n < MAX_LIST;
	     tok = strtok_r(NULL, ",", &save)) {
		if (kind == 0) { /* sizes */
			size_t v = parse_size(tok, true);

			if (!v)
				goto bad;
			((size_t *)out)[n++] = v;
		} else {
			char *end;
			long v = strtol(tok, &end, 0);

			if (*end || v <= 0)
				goto bad;
			if (kind == 1)
				((int *)out)[n++] = (int)v;
			else
				((unsigned *)out)[n++] = (unsigned)v;
		}
	}
	free(s);
	return n;
bad:
	fprintf(stderr, "swiotlb-bench: bad list value '%s'\n", tok);
	free(s);
	return -1;
}

/* ------------------------------------------------------------------ */
/* time */

static double tsc_ns_per_cycle = 1.0;

static inline uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* CPU time of the calling thread: excludes the time the thread was not
 * running (this machine is shared with builds and tests). */
static inline uint64_t thread_cpu_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static inline uint64_t cycles(void)
{
#ifdef HAVE_TSC
	return __rdtsc();
#else
	return now_ns();
#endif
}

static void calibrate_tsc(void)
{
#ifdef HAVE_TSC
	struct timespec d = { 0, 50 * 1000 * 1000 };
	uint64_t t0 = now_ns(), c0 = cycles(), t1, c1;

	nanosleep(&d, NULL);
	t1 = now_ns();
	c1 = cycles();
	tsc_ns_per_cycle = (double)(t1 - t0) / (double)(c1 - c0);
#endif
}

static inline void cpu_relax(void)
{
#ifdef HAVE_TSC
	_mm_pause();
#endif
}

/* Spin-wait step for the --cross ring: pause, and give the CPU away now
 * and then (more threads than CPUs must not spin a whole time slice). */
static inline void ring_wait(unsigned *spins)
{
	if (++*spins & 255)
		cpu_relax();
	else
		sched_yield();
}

static void sleep_s(double s)
{
	struct timespec ts;

	if (s <= 0)
		return;
	ts.tv_sec = (time_t)s;
	ts.tv_nsec = (long)((s - (double)ts.tv_sec) * 1e9);
	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

/* ------------------------------------------------------------------ */
/* CPUs */

static int cpu_list[1024];
static int ncpu_list;

static void init_cpus(void)
{
	cpu_set_t set;
	int i;

	if (sched_getaffinity(0, sizeof(set), &set) == 0) {
		for (i = 0; i < CPU_SETSIZE && ncpu_list < 1024; i++)
			if (CPU_ISSET(i, &set))
				cpu_list[ncpu_list++] = i;
	}
	if (!ncpu_list) {
		cpu_list[0] = 0;
		ncpu_list = 1;
	}
}

static int pin_self(int slot)
{
	int cpu = cpu_list[slot % ncpu_list];
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
	return cpu;
}

/* ------------------------------------------------------------------ */
/* shared helpers (bench.h) */

void *bench_region_alloc(size_t len)
{
	void *p = mmap(NULL, len, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);

	if (p == MAP_FAILED) {
		perror("swiotlb-bench: mmap");
		abort();
	}
	memset(p, 0, len); /* pre-fault */
	return p;
}

void bench_region_free(void *p, size_t len)
{
	munmap(p, len);
}

unsigned bench_default_nareas(size_t region_size)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);
	unsigned a = 1;
	size_t slots = region_size / 2048;

	while ((long)a < n)
		a <<= 1;
	while (a > 1 && slots / a < 128)
		a >>= 1;
	return a;
}

/* ------------------------------------------------------------------ */
/* statistics */

struct lat {
	double avg, sd, p50, p99, p999;
	uint64_t n;
};

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

/* Sorts v in place. */
static struct lat lat_of(uint32_t *v, size_t n)
{
	struct lat l = { 0 };
	double sum = 0, sq = 0;
	size_t i;

	if (!n)
		return l;
	qsort(v, n, sizeof(*v), cmp_u32);
	for (i = 0; i < n; i++) {
		double x = (double)v[i] * tsc_ns_per_cycle;

		sum += x;
		sq += x * x;
	}
	l.n = n;
	l.avg = sum / (double)n;
	l.sd = sqrt(fmax(0.0, sq / (double)n - l.avg * l.avg));
	l.p50 = v[(size_t)(0.50 * (double)(n - 1))] * tsc_ns_per_cycle;
	l.p99 = v[(size_t)(0.99 * (double)(n - 1))] * tsc_ns_per_cycle;
	l.p999 = v[(size_t)(0.999 * (double)(n - 1))] * tsc_ns_per_cycle;
	return l;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double median(const double *v, int n)
{
	double t[64];
	int i;

	if (n <= 0)
		return 0;
	if (n > 64)
		n = 64;
	for (i = 0; i < n; i++)
		t[i] = v[i];
	qsort(t, (size_t)n, sizeof(*t), cmp_double);
	return n & 1 ? t[n / 2] : (t[n / 2 - 1] + t[n / 2]) / 2;
}

struct samples {
	uint32_t *v;
	size_t n, cap;
};

static void samples_init(struct samples *s, size_t cap)
{
	s->v = malloc(cap * sizeof(*s->v));
	if (!s->v)
		abort();
	s->n = 0;
	s->cap = cap;
}

static inline void sample_add(struct samples *s, uint64_t c)
{
	if (s->n < s->cap)
		s->v[s->n++] = c > UINT32_MAX ? UINT32_MAX : (uint32_t)c;
}

/* merge several threads' samples into one array */
static struct lat lat_merge(struct samples *s, int n)
{
	size_t total = 0, k = 0;
	uint32_t *all;
	struct lat l;
	int i;

	for (i = 0; i < n; i++)
		total += s[i].n;
	if (!total)
		return (struct lat){ 0 };
	all = malloc(total * sizeof(*all));
	if (!all)
		abort();
	for (i = 0; i < n; i++) {
		memcpy(all + k, s[i].v, s[i].n * sizeof(*all));
		k += s[i].n;
	}
	l = lat_of(all, total);
	free(all);
	return l;
}

/* ------------------------------------------------------------------ */
/* JSON writer */

struct jw {
	FILE *f;
	int depth;
	int count[32];
};

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

static void jw_open(struct jw *w, const char *key, char c)
{
	jw_sep(w, key);
	fputc(c, w->f);
	w->count[++w->depth] = 0;
}

static void jw_close(struct jw *w, char c)
{
	int i;

	w->depth--;
	fputc('\n', w->f);
	for (i = 0; i < w->depth; i++)
		fputs("  ", w->f);
	fputc(c, w->f);
}

static void jw_num(struct jw *w, const char *key, double v)
{
	jw_sep(w, key);
	if (isfinite(v))
		fprintf(w->f, "%.6g", v);
	else
		fputs("null", w->f);
}

static void jw_u64(struct jw *w, const char *key, uint64_t v)
{
	jw_sep(w, key);
	fprintf(w->f, "%llu", (unsigned long long)v);
}

static void jw_bool(struct jw *w, const char *key, bool v)
{
	jw_sep(w, key);
	fputs(v ? "true" : "false", w->f);
}

static void jw_str(struct jw *w, const char *key, const char *s)
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

static void jw_lat(struct jw *w, const char *key, const struct lat *l)
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

static void jw_machine(struct jw *w)
{
	char model[256] = "unknown", line[512];
	FILE *f = fopen("/proc/cpuinfo", "r");
	struct utsname u;
	time_t t = time(NULL);
	char date[64];

	if (f) {
		while (fgets(line, sizeof(line), f)) {
			char *c = strchr(line, ':');

			if (!strncmp(line, "model name", 10) && c) {
				snprintf(model, sizeof(model), "%s", c + 2);
				model[strcspn(model, "\n")] = 0;
				break;
			}
		}
		fclose(f);
	}
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
	{
		double la[3];

		if (getloadavg(la, 3) == 3)
			jw_num(w, "loadavg_1min_at_start", la[0]);
	}
	jw_close(w, '}');
}

/* ------------------------------------------------------------------ */
/* map/unmap benchmark */

struct run_result {
	double secs;      /* measured seconds (avg over threads) */
	double ops;
	double ops_per_s;
	double bytes_per_s;
	double cpu_ops_per_s; /* ops per second of thread CPU time */
	struct lat map, unmap, op;
	uint64_t errors;
};

struct bench_shared {
	const struct peer *peer;
	void *ctx;
	size_t size;
	int dir;
	uint64_t delay_cycles;
	_Atomic int phase;        /* 0 warm-up, 1 measure, 2 stop */
	pthread_barrier_t start;
};

struct ring {
	_Atomic uint64_t slot[RING];
	char *src;                /* RING source buffers of size bytes */
	_Atomic int mapper_done;
} __attribute__((aligned(64)));

enum role { ROLE_BOTH, ROLE_MAPPER, ROLE_UNMAPPER };

struct worker {
	pthread_t th;
	struct bench_shared *sh;
	int tid;
	enum role role;
	struct ring *ring;
	struct samples map_s, unmap_s, op_s;
	uint64_t ops, t_first, t_last, errors;
	uint64_t cpu_first, cpu_last;
	uint64_t warm_ops, warm_need;
	_Atomic int warm;          /* did warm_need ops in the warm-up */
} __attribute__((aligned(64))); /* no false sharing between workers */

static inline void spin_cycles(uint64_t c)
{
	uint64_t end;

	if (!c)
		return;
	end = cycles() + c;
	while (cycles() < end)
		cpu_relax();
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	struct bench_shared *sh = w->sh;
	const struct peer *p = sh->peer;
	int cpu = pin_self(w->tid);
	void *t = p->thread_init(sh->ctx, w->tid, cpu);
	size_t size = sh->size;
	char *src = NULL;
	unsigned head = 0;
	int ph;

	if (!t) {
		fprintf(stderr, "%s: thread_init failed\n", p->name);
		abort();
	}
	if (w->role == ROLE_BOTH) {
		src = aligned_alloc(4096, (size + 4095) & ~(size_t)4095);
		if (!src)
			abort();
		memset(src, 0x5a, size);
	}
	pthread_barrier_wait(&sh->start);

	while ((ph = atomic_load_explicit(&sh->phase, memory_order_relaxed)) != 2) {
		uint64_t t0 = now_ns(), t1, cpu0 = 0;
		unsigned done = 0, i;

		if (ph == 1 && !w->ops)
			cpu0 = thread_cpu_ns();

		for (i = 0; i < BATCH; i++) {
			bool s = ph == 1 && (i & SAMPLE_MASK) == 0;
			uint64_t c0 = 0, c1 = 0, c2 = 0, c3 = 0, h;

			if (w->role == ROLE_BOTH) {
				if (s)
					c0 = cycles();
				if (p->map(t, src, size, sh->dir, &h)) {
					w->errors++;
					continue;
				}
				if (s)
					c1 = cycles();
				spin_cycles(sh->delay_cycles);
				if (s)
					c2 = cycles();
				if (p->unmap(t, h, src, size, sh->dir))
					w->errors++;
				if (s) {
					c3 = cycles();
					sample_add(&w->map_s, c1 - c0);
					sample_add(&w->unmap_s, c3 - c2);
					sample_add(&w->op_s, c3 - c0);
				}
				done++;
			} else if (w->role == ROLE_MAPPER) {
				unsigned idx = head++ % RING;
				char *buf = w->ring->src + (size_t)idx * size;
				unsigned spins = 0;

				/* acquire: the unmapper's copy-back into buf
				 * happened before it freed the entry; pairs
				 * with the release stores of slot[idx] = 0 in
				 * worker_main()'s unmapper branch and drain */
				while (atomic_load_explicit(&w->ring->slot[idx],
							    memory_order_acquire)) {
					if (atomic_load_explicit(&sh->phase, memory_order_relaxed) == 2)
						goto out;
					ring_wait(&spins);
				}
				if (s)
					c0 = cycles();
				if (p->map(t, buf, size, sh->dir, &h)) {
					w->errors++;
					head--;
					continue;
				}
				if (s) {
					c1 = cycles();
					sample_add(&w->map_s, c1 - c0);
				}
				spin_cycles(sh->delay_cycles);
				/* relaxed hand-over: the library's own
				 * barriers must make the unmap find it */
				atomic_store_explicit(&w->ring->slot[idx], h + 1,
						      memory_order_relaxed);
				done++;
			} else {
				unsigned idx = head % RING;
				char *buf = w->ring->src + (size_t)idx * size;
				unsigned spins = 0;

				while (!(h = atomic_load_explicit(&w->ring->slot[idx],
								  memory_order_relaxed))) {
					if (atomic_load_explicit(&sh->phase, memory_order_relaxed) == 2)
						goto out;
					ring_wait(&spins);
				}
				head++;
				if (s)
					c2 = cycles();
				if (p->unmap(t, h - 1, buf, size, sh->dir))
					w->errors++;
				if (s) {
					c3 = cycles();
					sample_add(&w->unmap_s, c3 - c2);
				}
				/* pairs with the acquire load of slot[idx] in
				 * worker_main()'s mapper branch */
				atomic_store_explicit(&w->ring->slot[idx], 0,
						      memory_order_release);
				done++;
			}
		}
		t1 = now_ns();
		if (ph == 0 && !atomic_load_explicit(&w->warm, memory_order_relaxed)) {
			w->warm_ops += done;
			if (w->warm_ops >= w->warm_need || w->role == ROLE_UNMAPPER)
				atomic_store_explicit(&w->warm, 1, memory_order_relaxed);
		}
		if (ph == 1 && w->role != ROLE_MAPPER) {
			if (!w->ops) {
				w->t_first = t0;
				w->cpu_first = cpu0;
			}
			w->t_last = t1;
			w->ops += done;
		}
	}
out:
	w->cpu_last = thread_cpu_ns();
	if (w->role == ROLE_MAPPER) {
		/* pairs with the acquire load of mapper_done in the drain
		 * loop below (unmapper side of worker_main()) */
		atomic_store_explicit(&w->ring->mapper_done, 1, memory_order_release);
	} else if (w->role == ROLE_UNMAPPER) {
		unsigned spins = 0;

		/* drain what the mapper left */
		for (;;) {
			unsigned idx = head % RING;
			uint64_t h = atomic_load_explicit(&w->ring->slot[idx],
							  memory_order_relaxed);

			if (!h) {
				/* pairs with the release store of mapper_done
				 * above (mapper side of worker_main()) */
				if (atomic_load_explicit(&w->ring->mapper_done,
							 memory_order_acquire) &&
				    !atomic_load_explicit(&w->ring->slot[idx],
							  memory_order_relaxed))
					break;
				ring_wait(&spins);
				continue;
			}
			head++;
			if (p->unmap(t, h - 1, w->ring->src + (size_t)idx * size,
				     size, sh->dir))
				w->errors++;
			/* pairs with the acquire load of slot[idx] in
			 * worker_main()'s mapper branch */
			atomic_store_explicit(&w->ring->slot[idx], 0, memory_order_release);
		}
	}
	p->thread_fini(t);
	free(src);
	return NULL;
}

static int run_map_bench(const struct peer *p, size_t size, int nthreads,
			 struct run_result *r)
{
	struct peer_cfg cfg = {
		.region_size = o.pool_size,
		.nthreads = nthreads,
		.nareas = bench_default_nareas(o.pool_size),
		.dynamic = o.dynamic,
		.pools = o.pools,
		.strict_cursor = o.strict,
	};
	struct bench_shared sh = { .peer = p, .size = size, .dir = o.dir };
	int nw = nthreads, npairs = 0, i;
	struct worker *w;
	struct ring *rings = NULL;
	struct samples *ms, *us, *os;
	double rate = 0, secs = 0, cpu_rate = 0;

	memset(r, 0, sizeof(*r));
	sh.ctx = p->create(&cfg);
	if (!sh.ctx)
		return -1;
	sh.delay_cycles = (uint64_t)((double)o.delay_ns / tsc_ns_per_cycle);
	if (o.cross) {
		npairs = nthreads / 2 ? nthreads / 2 : 1;
		nw = npairs * 2;
		rings = aligned_alloc(64, sizeof(*rings) * (size_t)npairs);
		if (!rings)
			abort();
		memset(rings, 0, sizeof(*rings) * (size_t)npairs);
		for (i = 0; i < npairs; i++) {
			rings[i].src = aligned_alloc(4096, ((size * RING) + 4095) & ~(size_t)4095);
			if (!rings[i].src)
				abort();
			memset(rings[i].src, 0x5a, size * RING);
		}
	}
	w = aligned_alloc(64, sizeof(*w) * (size_t)nw);
	if (w)
		memset(w, 0, sizeof(*w) * (size_t)nw);
	ms = calloc((size_t)nw, sizeof(*ms));
	us = calloc((size_t)nw, sizeof(*us));
	os = calloc((size_t)nw, sizeof(*os));
	if (!w || !ms || !us || !os)
		abort();
	pthread_barrier_init(&sh.start, NULL, (unsigned)nw + 1);
	for (i = 0; i < nw; i++) {
		w[i].sh = &sh;
		w[i].tid = i;
		w[i].role = o.cross ? (i & 1 ? ROLE_UNMAPPER : ROLE_MAPPER) : ROLE_BOTH;
		w[i].ring = o.cross ? &rings[i / 2] : NULL;
		/* warm up over at least one pass of the pool (or region), so
		 * nobody pays first-touch page faults while measured */
		w[i].warm_need = o.pool_size / ((size + 2047) & ~(size_t)2047) + 1;
		samples_init(&w[i].map_s, MAX_SAMPLES);
		samples_init(&w[i].unmap_s, MAX_SAMPLES);
		samples_init(&w[i].op_s, o.cross ? 1 : MAX_SAMPLES);
		if (pthread_create(&w[i].th, NULL, worker_main, &w[i])) {
			perror("pthread_create");
			abort();
		}
	}
	pthread_barrier_wait(&sh.start);
	sleep_s(o.warmup);
	for (i = 0; i < nw * 5000; i++) { /* at most ~5 s more */
		int k, warm = 1;

		for (k = 0; k < nw; k++)
			warm &= atomic_load_explicit(&w[k].warm, memory_order_relaxed);
		if (warm)
			break;
		sleep_s(0.001);
	}
	/* phase only steers the workers (read relaxed); the results are
	 * read after pthread_join(): relaxed */
	atomic_store_explicit(&sh.phase, 1, memory_order_relaxed);
	sleep_s(o.seconds);
	atomic_store_explicit(&sh.phase, 2, memory_order_relaxed);
	for (i = 0; i < nw; i++) {
		pthread_join(w[i].th, NULL);
		if (w[i].ops && w[i].t_last > w[i].t_first) {
			double s = (double)(w[i].t_last - w[i].t_first) / 1e9;

			rate += (double)w[i].ops / s;
			secs += s;
			if (w[i].cpu_last > w[i].cpu_first)
				cpu_rate += (double)w[i].ops /
					((double)(w[i].cpu_last - w[i].cpu_first) / 1e9);
			r->ops += (double)w[i].ops;
		}
		r->errors += w[i].errors;
		ms[i] = w[i].map_s;
		us[i] = w[i].unmap_s;
		os[i] = w[i].op_s;
	}
	r->ops_per_s = rate;
	r->cpu_ops_per_s = cpu_rate;
	r->bytes_per_s = rate * (double)size;
	r->secs = secs / (o.cross ? npairs : nw);
	r->map = lat_merge(ms, nw);
	r->unmap = lat_merge(us, nw);
	r->op = lat_merge(os, nw);
	for (i = 0; i < nw; i++) {
		free(ms[i].v);
		free(us[i].v);
		free(os[i].v);
	}
	free(ms);
	free(us);
	free(os);
	free(w);
	if (rings) {
		for (i = 0; i < npairs; i++)
			free(rings[i].src);
		free(rings);
	}
	pthread_barrier_destroy(&sh.start);
	p->destroy(sh.ctx);
	return r->errors ? -1 : 0;
}

static const struct peer *all_peers[] = {
	&peer_swiotlb, &peer_memcpy, &peer_memcpy_hot, &peer_jemalloc,
	&peer_jemalloc_notcache, &peer_firstfit,
};
#define NPEERS (int)(sizeof(all_peers) / sizeof(all_peers[0]))

static void fmt_rate(char *buf, size_t n, double v, const char *unit)
{
	if (v >= 1e9)
		snprintf(buf, n, "%.2f G%s", v / 1e9, unit);
	else if (v >= 1e6)
		snprintf(buf, n, "%.2f M%s", v / 1e6, unit);
	else if (v >= 1e3)
		snprintf(buf, n, "%.2f k%s", v / 1e3, unit);
	else
		snprintf(buf, n, "%.2f %s", v, unit);
}

static void print_run(const char *tag, const char *name, size_t size, int threads,
		      const struct run_result *r)
{
	char ops[32], bytes[32];

	fmt_rate(ops, sizeof(ops), r->ops_per_s, "ops/s");
	fmt_rate(bytes, sizeof(bytes), r->bytes_per_s, "B/s");
	printf("%-6s %-17s %7zu B t%-2d %14s %13s | map avg %7.1f sd %7.1f | unmap avg %7.1f sd %7.1f",
	       tag, name, size, threads, ops, bytes, r->map.avg, r->map.sd,
	       r->unmap.avg, r->unmap.sd);
	if (r->op.n)
		printf(" | op p50 %.0f p99 %.0f p99.9 %.0f ns\n", r->op.p50,
		       r->op.p99, r->op.p999);
	else
		printf(" | map p50 %.0f p99 %.0f p99.9 %.0f ns\n", r->map.p50,
		       r->map.p99, r->map.p999);
}

struct series {
	const struct peer *peer;
	size_t size;
	int threads;
	struct run_result *runs;
	int nruns;
};

static void median_result(const struct series *s, struct run_result *m)
{
	double v[64] = { 0 };
	int i, n = s->nruns > 64 ? 64 : s->nruns;

	memset(m, 0, sizeof(*m));
#define MED(field) do { for (i = 0; i < n; i++) v[i] = s->runs[i].field; m->field = median(v, n); } while (0)
	MED(ops_per_s); MED(cpu_ops_per_s); MED(bytes_per_s); MED(secs); MED(ops);
	MED(map.avg); MED(map.sd); MED(map.p50); MED(map.p99); MED(map.p999);
	MED(unmap.avg); MED(unmap.sd); MED(unmap.p50); MED(unmap.p99); MED(unmap.p999);
	MED(op.avg); MED(op.sd); MED(op.p50); MED(op.p99); MED(op.p999);
#undef MED
	m->map.n = s->runs[0].map.n;
	m->unmap.n = s->runs[0].unmap.n;
	m->op.n = s->runs[0].op.n;
	for (i = 0; i < s->nruns; i++)
		m->errors += s->runs[i].errors;
}

static void jw_run(struct jw *w, const char *key, const struct run_result *r)
{
	jw_open(w, key, '{');
	jw_num(w, "ops_per_s", r->ops_per_s);
	jw_num(w, "bytes_per_s", r->bytes_per_s);
	jw_num(w, "cpu_ops_per_s", r->cpu_ops_per_s);
	jw_num(w, "ns_per_op", r->ops_per_s > 0 ? 1e9 / r->ops_per_s : NAN);
	jw_num(w, "seconds", r->secs);
	jw_num(w, "ops", r->ops);
	jw_u64(w, "errors", r->errors);
	jw_lat(w, "map", &r->map);
	jw_lat(w, "unmap", &r->unmap);
	jw_lat(w, "op", &r->op);
	jw_close(w, '}');
}

static bool peer_selected(const struct peer *p)
{
	const char *s = o.peers;
	size_t n = strlen(p->name);

	if (!s)
		return o.compare || p == &peer_swiotlb;
	while (*s) {
		size_t len = strcspn(s, ",");

		if (len == n && !strncmp(s, p->name, n))
			return true;
		s += len;
		if (*s)
			s++;
	}
	return false;
}

static int cmd_map(struct jw *w)
{
	struct series *ser;
	int nser = 0, i, j, k, run, rc = 0;
	const struct peer *sel[NPEERS];
	int nsel = 0;

	for (i = 0; i < NPEERS; i++)
		if (peer_selected(all_peers[i]))
			sel[nsel++] = all_peers[i];
	if (!nsel) {
		fprintf(stderr, "swiotlb-bench: no backend selected\n");
		return 2;
	}
	ser = calloc((size_t)(o.nsizes * o.nthreads * nsel), sizeof(*ser));
	if (!ser)
		abort();
	for (i = 0; i < o.nsizes; i++)
		for (j = 0; j < o.nthreads; j++)
			for (k = 0; k < nsel; k++) {
				struct series *s = &ser[nser++];

				s->peer = sel[k];
				s->size = o.sizes[i];
				s->threads = o.threads[j];
				s->runs = calloc((size_t)o.runs, sizeof(*s->runs));
				if (!s->runs)
					abort();
			}
	printf("# swiotlb-bench: dir %d, delay %llu ns, pool %zu B, %u pool(s)%s%s%s, %d run(s) of %.3g s (+%.3g s warm-up)\n",
	       o.dir, (unsigned long long)o.delay_ns, o.pool_size, o.pools,
	       o.dynamic ? ", dynamic" : "", o.strict ? ", strict cursor" : "",
	       o.cross ? ", cross-thread unmap" : "",
	       o.runs, o.seconds, o.warmup);
	printf("# latencies in ns (map/unmap avg and stddev of sampled calls, 1 in %d)\n",
	       SAMPLE_MASK + 1);
	/* runs interleaved: run r of every configuration, then run r+1 */
	for (run = 0; run < o.runs; run++) {
		for (i = 0; i < nser; i++) {
			struct series *s = &ser[i];
			char tag[16];

			if (s->size > 256 * 1024 && s->peer == &peer_swiotlb) {
				fprintf(stderr, "swiotlb: %zu B is over the max mapping size\n", s->size);
				rc = 1;
				continue;
			}
			if (run_map_bench(s->peer, s->size, s->threads, &s->runs[run])) {
				fprintf(stderr, "%s: %llu errors\n", s->peer->name,
					(unsigned long long)s->runs[run].errors);
				rc = 1;
			}
			s->nruns = run + 1;
			snprintf(tag, sizeof(tag), "run%d", run + 1);
			if (!o.quiet)
				print_run(tag, s->peer->name, s->size, s->threads, &s->runs[run]);
		}
	}
	printf("# medians of %d run(s)\n", o.runs);
	for (i = 0; i < nser; i++) {
		struct run_result m;

		if (!ser[i].nruns)
			continue;
		median_result(&ser[i], &m);
		print_run("median", ser[i].peer->name, ser[i].size, ser[i].threads, &m);
	}
	if (w) {
		jw_open(w, "peers", '{');
		for (k = 0; k < nsel; k++)
			jw_str(w, sel[k]->name, sel[k]->desc);
		jw_close(w, '}');
		jw_open(w, "results", '[');
		for (i = 0; i < nser; i++) {
			struct run_result m;

			if (!ser[i].nruns)
				continue;
			median_result(&ser[i], &m);
			jw_open(w, NULL, '{');
			jw_str(w, "peer", ser[i].peer->name);
			jw_u64(w, "size", ser[i].size);
			jw_u64(w, "threads", (uint64_t)ser[i].threads);
			jw_u64(w, "dir", (uint64_t)o.dir);
			jw_u64(w, "delay_ns", o.delay_ns);
			jw_bool(w, "cross", o.cross);
			jw_run(w, "median", &m);
			jw_open(w, "runs", '[');
			for (run = 0; run < ser[i].nruns; run++)
				jw_run(w, NULL, &ser[i].runs[run]);
			jw_close(w, ']');
			jw_close(w, '}');
		}
		jw_close(w, ']');
	}
	for (i = 0; i < nser; i++)
		free(ser[i].runs);
	free(ser);
	return rc;
}

/* ------------------------------------------------------------------ */
/* lookup benchmark */

#define NADDR 4096

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

static uint64_t rnd(void)
{
	uint64_t x = rng_state; /* xorshift64* */

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	rng_state = x;
	return x * 0x2545f4914f6cdd1dull;
}

enum lk_method { LK_OURS, LK_LINEAR, LK_CRITNIB, LK_NEVER, LK_BASE, LK_N };
static const char *lk_names[LK_N] = { "swiotlb", "linear", "critnib",
	"swiotlb-never-bounced", "call-baseline" };

/* The floor of the measurement loop: a call that is not inlined and does
 * one compare (no load behind a pointer). */
__attribute__((noinline)) static bool lk_baseline(const void *p, uint64_t addr)
{
	__asm__ volatile("" ::: "memory");
	return addr == (uint64_t)(uintptr_t)p;
}

struct lk_target {
	struct swiotlb_dev *dev, *never;
	struct lookup_linear *lin;
	struct lookup_critnib *crit;
};

static volatile uint64_t lk_sink;

/* ns per lookup over addrs, and the number of hits in one pass */
static double lk_measure(const struct lk_target *t, enum lk_method m,
			 const uint64_t *addrs, double budget, uint64_t *hits_out)
{
	uint64_t t0 = thread_cpu_ns(), t1, n = 0, hits = 0, pass_hits = 0;
	size_t i;

	do {
		hits = 0;
		switch (m) {
		case LK_OURS:
			for (i = 0; i < NADDR; i++)
				hits += swiotlb_is_bounce(t->dev, addrs[i]);
			break;
		case LK_NEVER:
			for (i = 0; i < NADDR; i++)
				hits += swiotlb_is_bounce(t->never, addrs[i]);
			break;
		case LK_LINEAR:
			for (i = 0; i < NADDR; i++)
				hits += lookup_linear_find(t->lin, addrs[i]);
			break;
		case LK_CRITNIB:
			for (i = 0; i < NADDR; i++)
				hits += lookup_critnib_find(t->crit, addrs[i]);
			break;
		case LK_BASE:
			for (i = 0; i < NADDR; i++)
				hits += lk_baseline(t, addrs[i]);
			break;
		default:
			break;
		}
		pass_hits = hits;
		lk_sink += hits;
		n += NADDR;
		t1 = thread_cpu_ns();
	} while ((double)(t1 - t0) < budget * 1e9);
	*hits_out = pass_hits;
	return (double)(t1 - t0) / (double)n;
}

static int cmd_lookup(struct jw *w)
{
	int pi, run, m, kind, rc = 0;
	double budget = o.seconds / 20 > 0.002 ? o.seconds / 20 : 0.002;

	pin_self(0);
	printf("# lookup: ns (thread CPU time) per lookup, %d addresses per pass, %d run(s), pool sizes %s\n",
	       NADDR, o.runs, bench_have_add_pool ? "mixed (_swiotlb_test_mem_add_pool)" :
	       "uniform (grown by mapping; no add_pool hook)");
	if (w)
		jw_open(w, "lookup", '[');
	for (pi = 0; pi < o.nlpools; pi++) {
		unsigned target = o.lpools[pi], got = 1, i;
		struct rec_provider *rp = rec_provider_create();
		struct swiotlb_mem_config mc = { 0 };
		struct swiotlb_dev_config dc = { .name = "lookup", .force_bounce = true };
		struct swiotlb_dev_config nc = { .name = "never" };
		struct swiotlb_mem *mem;
		struct lk_target t = { 0 };
		struct bench_range *r;
		size_t nr = 0, priv_len = 16u << 20;
		uint64_t *live = malloc(NADDR * sizeof(*live));
		uint64_t *non = malloc(NADDR * sizeof(*non));
		char *priv = bench_region_alloc(priv_len);
		double res[LK_N][2][64];
		uint64_t hits[LK_N][2];
		struct swiotlb_stats st;

		if (!rp || !live || !non)
			abort();
		mc.provider = rec_provider_get(rp);
		mc.dynamic = true;
		mc.size = 256 * 1024;
		mc.grow_size = 64 * 1024;
		mem = swiotlb_mem_create(&mc);
		if (!mem) {
			fprintf(stderr, "lookup: swiotlb_mem_create: %s\n", strerror(errno));
			return 1;
		}
		t.dev = swiotlb_dev_create(mem, &dc);
		t.never = swiotlb_dev_create(mem, &nc);
		if (!t.dev || !t.never) {
			fprintf(stderr, "lookup: swiotlb_dev_create: %s\n", strerror(errno));
			return 1;
		}
		if (target > 1) {
			if (bench_have_add_pool) {
				/* mixed sizes: 32 KiB .. 1 MiB in pages */
				for (i = 1; i < target; i++) {
					size_t sz = (size_t)(8 + rnd() % 249) * 4096;

					if (bench_add_pool(mem, sz))
						break;
				}
				got = i;
			} else {
				got = bench_force_pools(mem, t.dev, target, mc.grow_size);
			}
		}
		/* one bounce on t.dev, so that it is a device that has
		 * bounced (is_bounce is a single load for one that never
		 * did: t.never) */
		{
			static char buf[2048];
			swiotlb_addr_t a;

			if (swiotlb_map(t.dev, buf, sizeof(buf), SWIOTLB_TO_DEVICE, 0, &a) ||
			    swiotlb_unmap(t.dev, a, sizeof(buf), SWIOTLB_TO_DEVICE, 0)) {
				fprintf(stderr, "lookup: map/unmap failed\n");
				return 1;
			}
		}
		swiotlb_mem_stats(mem, &st);
		r = rec_provider_ranges(rp, &nr);
		if (!r || !nr)
			abort();
		t.lin = lookup_linear_create(r, nr);
		t.crit = lookup_critnib_create(r, nr);
		for (i = 0; i < NADDR; i++) {
			const struct bench_range *q = &r[rnd() % nr];

			live[i] = q->start + rnd() % (q->end - q->start);
			non[i] = (uint64_t)(uintptr_t)(priv + rnd() % priv_len);
		}
		printf("# %u pools requested, %llu shared pools, %zu provider ranges\n",
		       target, (unsigned long long)st.pools, nr);
		for (run = 0; run < o.runs; run++) {
			for (m = 0; m < LK_N; m++) {
				for (kind = 0; kind < 2; kind++) {
					res[m][kind][run] = lk_measure(&t, (enum lk_method)m,
						kind ? non : live, budget, &hits[m][kind]);
				}
			}
		}
		/* sanity: every method must agree on every address */
		for (m = 0; m < LK_N; m++) {
			uint64_t want_live = m >= LK_NEVER ? 0 : NADDR;

			if (hits[m][0] != want_live || hits[m][1] != 0) {
				fprintf(stderr, "lookup %s with %u pools: %llu/%d live hits, %llu/%d non-bounce hits (expected %llu and 0)\n",
					lk_names[m], target,
					(unsigned long long)hits[m][0], NADDR,
					(unsigned long long)hits[m][1], NADDR,
					(unsigned long long)want_live);
				rc = 1;
			}
		}
		for (m = 0; m < LK_N; m++)
			printf("lookup pools %5u  %-22s live %9.2f ns   non-bounce %9.2f ns\n",
			       (unsigned)nr, lk_names[m],
			       median(res[m][0], o.runs), median(res[m][1], o.runs));
		if (w) {
			jw_open(w, NULL, '{');
			jw_u64(w, "pools_requested", target);
			jw_u64(w, "pools", got);
			jw_u64(w, "shared_pools", st.pools);
			jw_u64(w, "ranges", nr);
			jw_bool(w, "mixed_sizes", bench_have_add_pool);
			for (m = 0; m < LK_N; m++) {
				jw_open(w, lk_names[m], '{');
				for (kind = 0; kind < 2; kind++) {
					jw_num(w, kind ? "non_bounce_ns" : "live_ns",
					       median(res[m][kind], o.runs));
					jw_open(w, kind ? "non_bounce_runs" : "live_runs", '[');
					for (run = 0; run < o.runs; run++)
						jw_num(w, NULL, res[m][kind][run]);
					jw_close(w, ']');
				}
				jw_bool(w, "correct", hits[m][0] == (m >= LK_NEVER ? 0 : NADDR) && hits[m][1] == 0);
				jw_close(w, '}');
			}
			jw_close(w, '}');
		}
		lookup_linear_destroy(t.lin);
		lookup_critnib_destroy(t.crit);
		free(r);
		swiotlb_dev_destroy(t.never);
		swiotlb_dev_destroy(t.dev);
		swiotlb_mem_destroy(mem);
		rec_provider_destroy(rp);
		bench_region_free(priv, priv_len);
		free(live);
		free(non);
	}
	if (w)
		jw_close(w, ']');
	return rc;
}

/* ------------------------------------------------------------------ */
/* growth run */

struct gsample {
	double t;
	double target_bytes;
	struct swiotlb_stats st;
};

struct gworker {
	pthread_t th;
	int tid, nthreads;
	struct swiotlb_dev *dev;
	size_t size;
	uint64_t c_start;          /* TSC at start */
	double dur_cycles;
	double base, peak;         /* bytes, whole memory */
	_Atomic int *stop;
	struct samples phase_s[3]; /* low, ramp, steady */
	uint64_t maps, failures, errors;
} __attribute__((aligned(64)));

/* phases: [0, .2) low at base; [.2, .6) ramp to peak; [.6, .8) settle at
 * peak; [.8, 1] steady at peak (the steady-state p50 comes from here) */
static double g_target(double f, double base, double peak, int *phase)
{
	if (f < 0.2) {
		*phase = 0;
		return base;
	}
	if (f < 0.6) {
		*phase = 1;
		return base + (peak - base) * (f - 0.2) / 0.4;
	}
	*phase = f < 0.8 ? -1 : 2;
	return peak;
}

static void *gworker_main(void *arg)
{
	struct gworker *g = arg;
	size_t cap = (size_t)(g->peak / (double)g->size / g->nthreads) + 16, head = 0, n = 0;
	swiotlb_addr_t *fifo = malloc(cap * sizeof(*fifo));
	char *src = aligned_alloc(4096, (g->size + 4095) & ~(size_t)4095);

	if (!fifo || !src)
		abort();
	memset(src, 0x3c, g->size);
	pin_self(g->tid);
	while (!atomic_load_explicit(g->stop, memory_order_relaxed)) {
		uint64_t c0 = cycles(), c1;
		double f = (double)(c0 - g->c_start) / g->dur_cycles;
		int phase;
		double target = g_target(f, g->base, g->peak, &phase) / g->nthreads;
		swiotlb_addr_t a;
		int err;

		if (f >= 1.0)
			break;
		if (n < cap) {
			c0 = cycles();
			err = swiotlb_map(g->dev, src, g->size, (enum swiotlb_dir)o.dir,
					  SWIOTLB_ATTR_NO_WARN, &a);
			c1 = cycles();
			if (err) {
				g->failures++;
			} else {
				g->maps++;
				fifo[(head + n++) % cap] = a;
				if (phase >= 0)
					sample_add(&g->phase_s[phase], c1 - c0);
			}
		}
		while (n && (double)n * (double)g->size > target) {
			if (swiotlb_unmap(g->dev, fifo[head], g->size,
					  (enum swiotlb_dir)o.dir, 0))
				g->errors++;
			head = (head + 1) % cap;
			n--;
		}
	}
	while (n) {
		if (swiotlb_unmap(g->dev, fifo[head], g->size, (enum swiotlb_dir)o.dir, 0))
			g->errors++;
		head = (head + 1) % cap;
		n--;
	}
	free(fifo);
	free(src);
	return NULL;
}

static int cmd_growth(struct jw *w)
{
	struct swiotlb_mem_config mc = { 0 };
	struct swiotlb_dev_config dc = { .name = "growth", .force_bounce = true };
	struct swiotlb_mem *mem;
	struct swiotlb_dev *dev;
	int nt = o.threads[0], i, ph, rc = 0;
	size_t size = o.sizes[0];
	size_t base_pool = o.pool_size_set ? o.pool_size : 4u << 20;
	struct gworker *g = aligned_alloc(64, sizeof(*g) * (size_t)nt);
	_Atomic int stop = 0;
	struct gsample *tl;
	size_t ntl = 0, captl;
	uint64_t t0, maps = 0, failures = 0, errors = 0;
	double dur = o.seconds;
	struct lat pl[3];
	struct swiotlb_stats st0, st;
	static const char *pnames[3] = { "low", "ramp", "steady" };
	double nontransient, ratio;

	if (!g)
		abort();
	memset(g, 0, sizeof(*g) * (size_t)nt);
	mc.size = base_pool;
	mc.dynamic = true;
	mem = swiotlb_mem_create(&mc);
	if (!mem) {
		fprintf(stderr, "growth: swiotlb_mem_create: %s\n", strerror(errno));
		return 1;
	}
	dev = swiotlb_dev_create(mem, &dc);
	if (!dev) {
		fprintf(stderr, "growth: swiotlb_dev_create: %s\n", strerror(errno));
		return 1;
	}
	captl = (size_t)(dur / 0.005) + 64;
	tl = calloc(captl, sizeof(*tl));
	if (!tl)
		abort();
	swiotlb_mem_stats(mem, &st0);
	printf("# growth: initial pool %zu B, live mappings of %zu B ramp from 0.5x to 4x the initial pool, %d thread(s), %.3g s\n",
	       base_pool, size, nt, dur);
	t0 = now_ns();
	for (i = 0; i < nt; i++) {
		g[i].tid = i;
		g[i].nthreads = nt;
		g[i].dev = dev;
		g[i].size = size;
		g[i].c_start = cycles();
		g[i].dur_cycles = dur * 1e9 / tsc_ns_per_cycle;
		g[i].base = 0.5 * (double)base_pool;
		g[i].peak = 4.0 * (double)base_pool;
		g[i].stop = &stop;
		for (ph = 0; ph < 3; ph++)
			samples_init(&g[i].phase_s[ph], 1u << 22);
		if (pthread_create(&g[i].th, NULL, gworker_main, &g[i]))
			abort();
	}
	/* sample the memory's stats every 5 ms */
	for (;;) {
		double t = (double)(now_ns() - t0) / 1e9;
		int dummy;

		if (ntl < captl) {
			tl[ntl].t = t;
			tl[ntl].target_bytes = g_target(t / dur, g[0].base, g[0].peak, &dummy);
			swiotlb_mem_stats(mem, &tl[ntl].st);
			ntl++;
		}
		if (t >= dur + 0.01)
			break;
		sleep_s(0.005);
	}
	/* stop flag only (read relaxed); results are read after pthread_join() */
	atomic_store_explicit(&stop, 1, memory_order_relaxed);
	for (i = 0; i < nt; i++) {
		pthread_join(g[i].th, NULL);
		maps += g[i].maps;
		failures += g[i].failures;
		errors += g[i].errors;
	}
	swiotlb_mem_stats(mem, &st);
	for (ph = 0; ph < 3; ph++) {
		struct samples s[64];

		for (i = 0; i < nt && i < 64; i++)
			s[i] = g[i].phase_s[ph];
		pl[ph] = lat_merge(s, nt < 64 ? nt : 64);
	}
	nontransient = st.maps ? 1.0 - (double)(st.transient_created - st0.transient_created) /
		(double)(st.maps - st0.maps) : 0;
	ratio = pl[2].p50 > 0 ? pl[1].p99 / pl[2].p50 : NAN;
	for (ph = 0; ph < 3; ph++)
		printf("growth %-6s map p50 %7.1f p99 %7.1f p99.9 %8.1f max-sampled %llu ns-samples\n",
		       pnames[ph], pl[ph].p50, pl[ph].p99, pl[ph].p999,
		       (unsigned long long)pl[ph].n);
	printf("growth: %llu maps (%llu by the threads), %llu transient pools created, %.4f%% from non-transient pools\n",
	       (unsigned long long)(st.maps - st0.maps), (unsigned long long)maps,
	       (unsigned long long)(st.transient_created - st0.transient_created),
	       100.0 * nontransient);
	printf("growth: pools %llu (grown %llu, grows %llu, failures %llu), pool bytes %llu = %.2fx initial, hiwater %llu slots\n",
	       (unsigned long long)st.pools, (unsigned long long)st.grown_pools,
	       (unsigned long long)st.grows, (unsigned long long)st.growth_failures,
	       (unsigned long long)st.pool_bytes, (double)st.pool_bytes / (double)base_pool,
	       (unsigned long long)st.hiwater_slots);
	printf("growth: ramp p99 / steady p50 = %.2f; map failures %llu, unmap errors %llu\n",
	       ratio, (unsigned long long)failures, (unsigned long long)errors);
	if (errors || failures)
		rc = 1;
	if (w) {
		jw_open(w, "growth", '{');
		jw_u64(w, "initial_pool_bytes", base_pool);
		jw_u64(w, "size", size);
		jw_u64(w, "threads", (uint64_t)nt);
		jw_num(w, "seconds", dur);
		jw_u64(w, "maps", st.maps - st0.maps);
		jw_u64(w, "transient_created", st.transient_created - st0.transient_created);
		jw_num(w, "nontransient_fraction", nontransient);
		jw_num(w, "ramp_p99_over_steady_p50", ratio);
		jw_u64(w, "map_failures", failures);
		jw_u64(w, "unmap_errors", errors);
		jw_u64(w, "final_pool_bytes", st.pool_bytes);
		jw_u64(w, "final_pools", st.pools);
		jw_u64(w, "grows", st.grows);
		jw_u64(w, "growth_failures", st.growth_failures);
		for (ph = 0; ph < 3; ph++)
			jw_lat(w, pnames[ph], &pl[ph]);
		jw_open(w, "timeline", '[');
		for (size_t k = 0; k < ntl; k++) {
			const struct swiotlb_stats *s = &tl[k].st;

			jw_open(w, NULL, '{');
			jw_num(w, "t", tl[k].t);
			jw_num(w, "target_bytes", tl[k].target_bytes);
			jw_u64(w, "total_slots", s->total_slots);
			jw_u64(w, "used_slots", s->used_slots);
			jw_u64(w, "pools", s->pools);
			jw_u64(w, "grown_pools", s->grown_pools);
			jw_u64(w, "transient_pools", s->transient_pools);
			jw_u64(w, "transient_slots", s->transient_slots);
			jw_u64(w, "transient_created", s->transient_created);
			jw_u64(w, "maps", s->maps);
			jw_u64(w, "pool_bytes", s->pool_bytes);
			jw_close(w, '}');
		}
		jw_close(w, ']');
		jw_close(w, '}');
	}
	for (i = 0; i < nt; i++)
		for (ph = 0; ph < 3; ph++)
			free(g[i].phase_s[ph].v);
	free(g);
	free(tl);
	if (swiotlb_dev_destroy(dev) || swiotlb_mem_destroy(mem))
		rc = 1;
	return rc;
}

/* ------------------------------------------------------------------ */

int main(int argc, char **argv)
{
	enum { O_POOLS = 256, O_DYNAMIC, O_CROSS, O_JSON, O_COMPARE, O_LOOKUP,
	       O_GROWTH, O_LPOOLS, O_PEERS, O_STRICT };
	static const struct option lo[] = {
		{ "pools", required_argument, NULL, O_POOLS },
		{ "dynamic", no_argument, NULL, O_DYNAMIC },
		{ "strict-cursor", no_argument, NULL, O_STRICT },
		{ "cross", no_argument, NULL, O_CROSS },
		{ "json", required_argument, NULL, O_JSON },
		{ "compare", no_argument, NULL, O_COMPARE },
		{ "peers", required_argument, NULL, O_PEERS },
		{ "lookup", no_argument, NULL, O_LOOKUP },
		{ "lookup-pools", required_argument, NULL, O_LPOOLS },
		{ "growth", no_argument, NULL, O_GROWTH },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct jw jw = { 0 }, *w = NULL;
	int c, rc = 0, i;
	char *end;

	while ((c = getopt_long(argc, argv, "t:s:g:d:x:r:p:w:qh", lo, NULL)) != -1) {
		switch (c) {
		case 't':
			o.nthreads = parse_list(optarg, o.threads, 1);
			if (o.nthreads <= 0)
				return 2;
			break;
		case 's':
			o.seconds = strtod(optarg, &end);
			if (*end || o.seconds <= 0) {
				fprintf(stderr, "swiotlb-bench: bad -s\n");
				return 2;
			}
			break;
		case 'g':
			o.nsizes = parse_list(optarg, o.sizes, 0);
			if (o.nsizes <= 0)
				return 2;
			break;
		case 'd':
			o.dir = (int)strtol(optarg, &end, 0);
			if (*end || o.dir < 0 || o.dir > 2) {
				fprintf(stderr, "swiotlb-bench: -d must be 0, 1 or 2\n");
				return 2;
			}
			break;
		case 'x':
			o.delay_ns = strtoull(optarg, &end, 0);
			if (*end) {
				fprintf(stderr, "swiotlb-bench: bad -x\n");
				return 2;
			}
			break;
		case 'r':
			o.runs = (int)strtol(optarg, &end, 0);
			if (*end || o.runs < 1 || o.runs > 64) {
				fprintf(stderr, "swiotlb-bench: -r must be 1..64\n");
				return 2;
			}
			break;
		case 'p':
			o.pool_size = parse_size(optarg, false);
			o.pool_size_set = true;
			if (o.pool_size < 2048) {
				fprintf(stderr, "swiotlb-bench: bad -p\n");
				return 2;
			}
			break;
		case 'w':
			o.warmup = strtod(optarg, &end);
			if (*end || o.warmup < 0) {
				fprintf(stderr, "swiotlb-bench: bad -w\n");
				return 2;
			}
			break;
		case 'q': o.quiet = true; break;
		case O_POOLS:
			o.pools = (unsigned)strtoul(optarg, &end, 0);
			if (*end || !o.pools) {
				fprintf(stderr, "swiotlb-bench: bad --pools\n");
				return 2;
			}
			break;
		case O_DYNAMIC: o.dynamic = true; break;
		case O_STRICT: o.strict = true; break;
		case O_CROSS: o.cross = true; break;
		case O_JSON: o.json = optarg; break;
		case O_COMPARE: o.compare = true; break;
		case O_PEERS: o.peers = optarg; break;
		case O_LOOKUP: o.lookup = true; break;
		case O_GROWTH: o.growth = true; break;
		case O_LPOOLS:
			o.nlpools = parse_list(optarg, o.lpools, 2);
			if (o.nlpools <= 0)
				return 2;
			break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind < argc) {
		usage(stderr);
		return 2;
	}
	if (!o.nthreads) {
		o.threads[0] = 1;
		o.nthreads = 1;
	}
	if (!o.nsizes) {
		o.sizes[0] = 4096;
		o.nsizes = 1;
	}
	if (!o.nlpools) {
		static const unsigned d[] = { 1, 64, 512, 4096 };

		for (i = 0; i < 4; i++)
			o.lpools[i] = d[i];
		o.nlpools = 4;
	}
	init_cpus();
	calibrate_tsc();
	if (o.json) {
		jw.f = fopen(o.json, "w");
		if (!jw.f) {
			perror(o.json);
			return 1;
		}
		w = &jw;
		fputc('{', jw.f);
		jw.depth = 1;
		jw_str(w, "tool", "swiotlb-bench");
		jw_str(w, "libswiotlb_version", "0.2");
		jw_machine(w);
		jw_open(w, "config", '{');
		jw_str(w, "mode", o.lookup ? "lookup" : o.growth ? "growth" : "map");
		jw_num(w, "seconds", o.seconds);
		jw_num(w, "warmup", o.warmup);
		jw_u64(w, "dir", (uint64_t)o.dir);
		jw_u64(w, "delay_ns", o.delay_ns);
		jw_u64(w, "runs", (uint64_t)o.runs);
		jw_u64(w, "pool_size", o.pool_size);
		jw_u64(w, "pools", o.pools);
		jw_bool(w, "dynamic", o.dynamic);
		jw_bool(w, "strict_cursor", o.strict);
		jw_bool(w, "cross", o.cross);
		jw_u64(w, "sample_every", SAMPLE_MASK + 1);
		jw_u64(w, "batch", BATCH);
		jw_close(w, '}');
	}
	if (o.lookup)
		rc |= cmd_lookup(w);
	if (o.growth)
		rc |= cmd_growth(w);
	if (!o.lookup && !o.growth)
		rc |= cmd_map(w);
	if (w) {
		jw_u64(w, "exit_status", (uint64_t)rc);
		fputs("\n}\n", jw.f);
		if (fclose(jw.f)) {
			perror(o.json);
			rc = 1;
		}
	}
	return rc;
}
