// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * swiotlb-bench map command: threads map and unmap through one backend
 * (libswiotlb or a peer) for a fixed time; throughput from the clock around
 * batches, latency from the TSC around one call in 16.  With --cross a
 * mapper thread hands each address to an unmapper thread through a ring
 * whose entries are stored relaxed: the library's own barriers must make
 * the unmap find the mapping.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"
#include "driver.h"

/* ------------------------------------------------------------------ */
/* one run: nthreads workers on one backend */

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
	_Atomic uint64_t slot[RING]; /* mapped handle + 1, 0 = free */
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
	unsigned head;             /* next ring entry (mapper, unmapper) */
	struct samples map_s, unmap_s, op_s;
	uint64_t ops, t_first, t_last, errors;
	uint64_t cpu_first, cpu_last;
	uint64_t warm_ops, warm_need;
	_Atomic int warm;          /* did warm_need ops in the warm-up */
} __attribute__((aligned(64))); /* no false sharing between workers */

static int phase_of(const struct bench_shared *sh)
{
	/* phase only steers the workers: relaxed */
	return atomic_load_explicit(&sh->phase, memory_order_relaxed);
}

/* Map and unmap src on this thread.  Returns the operations done (0 when
 * the map failed). */
static int op_both(struct worker *w, void *t, char *src, bool sample)
{
	const struct bench_shared *sh = w->sh;
	const struct peer *p = sh->peer;
	uint64_t c0 = 0, c1 = 0, c2 = 0, h;

	if (sample)
		c0 = cycles();
	if (p->map(t, src, sh->size, sh->dir, &h)) {
		w->errors++;
		return 0;
	}
	if (sample)
		c1 = cycles();
	spin_cycles(sh->delay_cycles);
	if (sample)
		c2 = cycles();
	if (p->unmap(t, h, src, sh->size, sh->dir))
		w->errors++;
	if (sample) {
		uint64_t c3 = cycles();

		sample_add(&w->map_s, c1 - c0);
		sample_add(&w->unmap_s, c3 - c2);
		sample_add(&w->op_s, c3 - c0);
	}
	return 1;
}

/* Map the next ring entry's buffer and hand the address over.  Returns 1,
 * 0 when the map failed, -1 when told to stop while the entry was busy. */
static int op_mapper(struct worker *w, void *t, bool sample)
{
	const struct bench_shared *sh = w->sh;
	unsigned idx = w->head % RING, spins = 0;
	char *buf = w->ring->src + (size_t)idx * sh->size;
	uint64_t c0 = 0, h;

	/* acquire: the unmapper's copy-back into buf happened before it freed
	 * the entry; pairs with the release store in free_entry() */
	while (atomic_load_explicit(&w->ring->slot[idx], memory_order_acquire)) {
		if (phase_of(sh) == 2)
			return -1;
		ring_wait(&spins);
	}
	if (sample)
		c0 = cycles();
	if (sh->peer->map(t, buf, sh->size, sh->dir, &h)) {
		w->errors++;
		return 0;
	}
	if (sample)
		sample_add(&w->map_s, cycles() - c0);
	w->head++;
	spin_cycles(sh->delay_cycles);
	/* relaxed hand-over: the library's own barriers must make the unmap
	 * find it */
	atomic_store_explicit(&w->ring->slot[idx], h + 1, memory_order_relaxed);
	return 1;
}

/* Unmap the buffer of ring entry idx, which holds handle h + 1. */
static void unmap_entry(struct worker *w, void *t, unsigned idx, uint64_t h)
{
	const struct bench_shared *sh = w->sh;

	if (sh->peer->unmap(t, h - 1, w->ring->src + (size_t)idx * sh->size, sh->size, sh->dir))
		w->errors++;
}

/* Give ring entry idx back to the mapper. */
static void free_entry(struct worker *w, unsigned idx)
{
	/* pairs with the acquire load of slot[idx] in op_mapper() */
	atomic_store_explicit(&w->ring->slot[idx], 0, memory_order_release);
}

/* Take the next address off the ring and unmap it.  Returns 1, or -1 when
 * told to stop while the ring was empty. */
static int op_unmapper(struct worker *w, void *t, bool sample)
{
	unsigned idx = w->head % RING, spins = 0;
	uint64_t c0 = 0, h;

	while (!(h = atomic_load_explicit(&w->ring->slot[idx], memory_order_relaxed))) {
		if (phase_of(w->sh) == 2)
			return -1;
		ring_wait(&spins);
	}
	w->head++;
	if (sample)
		c0 = cycles();
	unmap_entry(w, t, idx, h);
	if (sample)
		sample_add(&w->unmap_s, cycles() - c0);
	free_entry(w, idx);
	return 1;
}

/* After the mapper stopped: unmap what it left on the ring. */
static void drain(struct worker *w, void *t)
{
	unsigned spins = 0;

	for (;;) {
		unsigned idx = w->head % RING;
		uint64_t h = atomic_load_explicit(&w->ring->slot[idx], memory_order_relaxed);

		if (h) {
			w->head++;
			unmap_entry(w, t, idx, h);
			free_entry(w, idx);
			continue;
		}
		/* pairs with the release store of mapper_done in worker_main() */
		if (atomic_load_explicit(&w->ring->mapper_done, memory_order_acquire) &&
		    !atomic_load_explicit(&w->ring->slot[idx], memory_order_relaxed))
			break;
		ring_wait(&spins);
	}
}

/* BATCH operations of the worker's role; false when told to stop. */
static bool run_batch(struct worker *w, void *t, char *src, int ph, unsigned *done)
{
	for (unsigned i = 0; i < BATCH; i++) {
		bool sample = ph == 1 && (i & SAMPLE_MASK) == 0;
		int r;

		if (w->role == ROLE_BOTH)
			r = op_both(w, t, src, sample);
		else if (w->role == ROLE_MAPPER)
			r = op_mapper(w, t, sample);
		else
			r = op_unmapper(w, t, sample);
		if (r < 0)
			return false;
		*done += (unsigned)r;
	}
	return true;
}

/* Count a batch: toward the warm-up, or (measuring) toward the results.
 * A mapper's operations are counted by its unmapper. */
static void account_batch(struct worker *w, int ph, unsigned done, uint64_t t0, uint64_t t1,
			  uint64_t cpu0)
{
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

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	struct bench_shared *sh = w->sh;
	const struct peer *p = sh->peer;
	void *t = p->thread_init(sh->ctx, w->tid, pin_self(w->tid));
	char *src = NULL;
	int ph;

	if (!t) {
		fprintf(stderr, "%s: thread_init failed\n", p->name);
		abort();
	}
	if (w->role == ROLE_BOTH) {
		src = aligned_alloc(4096, (sh->size + 4095) & ~(size_t)4095);
		if (!src)
			abort();
		memset(src, 0x5a, sh->size);
	}
	pthread_barrier_wait(&sh->start);
	while ((ph = phase_of(sh)) != 2) {
		uint64_t t0 = util_now_ns(), cpu0 = 0;
		unsigned done = 0;

		if (ph == 1 && !w->ops)
			cpu0 = util_thread_cpu_ns();
		if (!run_batch(w, t, src, ph, &done))
			break;
		account_batch(w, ph, done, t0, util_now_ns(), cpu0);
	}
	w->cpu_last = util_thread_cpu_ns();
	if (w->role == ROLE_MAPPER)
		/* pairs with the acquire load of mapper_done in drain() */
		atomic_store_explicit(&w->ring->mapper_done, 1, memory_order_release);
	else if (w->role == ROLE_UNMAPPER)
		drain(w, t);
	p->thread_fini(t);
	free(src);
	return NULL;
}

/* The workers of one run and what they share. */
struct map_run {
	struct bench_shared sh;
	struct worker *w;
	int nw, npairs;
	struct ring *rings;        /* --cross: one per mapper/unmapper pair */
};

static void rings_alloc(struct map_run *m, size_t size)
{
	m->rings = aligned_alloc(64, sizeof(*m->rings) * (size_t)m->npairs);
	if (!m->rings)
		abort();
	memset(m->rings, 0, sizeof(*m->rings) * (size_t)m->npairs);
	for (int i = 0; i < m->npairs; i++) {
		m->rings[i].src = aligned_alloc(4096, ((size * RING) + 4095) & ~(size_t)4095);
		if (!m->rings[i].src)
			abort();
		memset(m->rings[i].src, 0x5a, size * RING);
	}
}

static void worker_start(struct map_run *m, int i, size_t size)
{
	struct worker *w = &m->w[i];

	w->sh = &m->sh;
	w->tid = i;
	w->role = opts.cross ? (i & 1 ? ROLE_UNMAPPER : ROLE_MAPPER) : ROLE_BOTH;
	w->ring = opts.cross ? &m->rings[i / 2] : NULL;
	/* warm up over at least one pass of the pool (or region), so nobody
	 * pays first-touch page faults while measured */
	w->warm_need = opts.pool_size / ((size + 2047) & ~(size_t)2047) + 1;
	samples_init(&w->map_s, MAX_SAMPLES);
	samples_init(&w->unmap_s, MAX_SAMPLES);
	samples_init(&w->op_s, opts.cross ? 1 : MAX_SAMPLES);
	if (pthread_create(&w->th, NULL, worker_main, w)) {
		perror("pthread_create");
		abort();
	}
}

/* Create the backend and start the workers (waiting at the barrier). */
static int run_setup(struct map_run *m, const struct peer *p, size_t size, int nthreads)
{
	struct peer_cfg cfg = {
		.region_size = opts.pool_size,
		.nthreads = nthreads,
		.nareas = bench_default_nareas(opts.pool_size),
		.dynamic = opts.dynamic,
		.pools = opts.pools,
		.strict_cursor = opts.strict,
	};

	memset(m, 0, sizeof(*m));
	m->sh.peer = p;
	m->sh.size = size;
	m->sh.dir = opts.dir;
	m->sh.ctx = p->create(&cfg);
	if (!m->sh.ctx)
		return -1;
	m->sh.delay_cycles = (uint64_t)((double)opts.delay_ns / tsc_ns_per_cycle);
	m->nw = nthreads;
	if (opts.cross) {
		m->npairs = nthreads / 2 ? nthreads / 2 : 1;
		m->nw = m->npairs * 2;
		rings_alloc(m, size);
	}
	m->w = aligned_alloc(64, sizeof(*m->w) * (size_t)m->nw);
	if (!m->w)
		abort();
	memset(m->w, 0, sizeof(*m->w) * (size_t)m->nw);
	pthread_barrier_init(&m->sh.start, NULL, (unsigned)m->nw + 1);
	for (int i = 0; i < m->nw; i++)
		worker_start(m, i, size);
	return 0;
}

static bool all_warm(const struct map_run *m)
{
	for (int k = 0; k < m->nw; k++)
		if (!atomic_load_explicit(&m->w[k].warm, memory_order_relaxed))
			return false;
	return true;
}

/* Warm up, then measure for opts.seconds, then stop the workers. */
static void run_measure(struct map_run *m)
{
	pthread_barrier_wait(&m->sh.start);
	util_sleep_s(opts.warmup);
	for (int i = 0; i < m->nw * 5000 && !all_warm(m); i++) /* at most ~5 s more */
		util_sleep_ms(1);
	/* phase only steers the workers (read relaxed); the results are read
	 * after pthread_join(): relaxed */
	atomic_store_explicit(&m->sh.phase, 1, memory_order_relaxed);
	util_sleep_s(opts.seconds);
	atomic_store_explicit(&m->sh.phase, 2, memory_order_relaxed);
}

/* Join the workers and sum their counts into r. */
static void run_collect(struct map_run *m, struct run_result *r)
{
	struct samples *ms = calloc((size_t)m->nw, sizeof(*ms));
	struct samples *us = calloc((size_t)m->nw, sizeof(*us));
	struct samples *os = calloc((size_t)m->nw, sizeof(*os));
	double rate = 0, secs = 0, cpu_rate = 0;

	if (!ms || !us || !os)
		abort();
	for (int i = 0; i < m->nw; i++) {
		struct worker *w = &m->w[i];

		pthread_join(w->th, NULL);
		if (w->ops && w->t_last > w->t_first) {
			double s = (double)(w->t_last - w->t_first) / 1e9;

			rate += (double)w->ops / s;
			secs += s;
			if (w->cpu_last > w->cpu_first)
				cpu_rate += (double)w->ops /
					((double)(w->cpu_last - w->cpu_first) / 1e9);
			r->ops += (double)w->ops;
		}
		r->errors += w->errors;
		ms[i] = w->map_s;
		us[i] = w->unmap_s;
		os[i] = w->op_s;
	}
	r->ops_per_s = rate;
	r->cpu_ops_per_s = cpu_rate;
	r->bytes_per_s = rate * (double)m->sh.size;
	r->secs = secs / (opts.cross ? m->npairs : m->nw);
	r->map = lat_merge(ms, m->nw);
	r->unmap = lat_merge(us, m->nw);
	r->op = lat_merge(os, m->nw);
	free(ms);
	free(us);
	free(os);
}

static void run_teardown(struct map_run *m)
{
	for (int i = 0; i < m->nw; i++) {
		samples_free(&m->w[i].map_s);
		samples_free(&m->w[i].unmap_s);
		samples_free(&m->w[i].op_s);
	}
	free(m->w);
	if (m->rings) {
		for (int i = 0; i < m->npairs; i++)
			free(m->rings[i].src);
		free(m->rings);
	}
	pthread_barrier_destroy(&m->sh.start);
	m->sh.peer->destroy(m->sh.ctx);
}

/* One measured run; -1 when the backend could not be created or an
 * operation failed. */
static int run_map_bench(const struct peer *p, size_t size, int nthreads, struct run_result *r)
{
	struct map_run m;

	memset(r, 0, sizeof(*r));
	if (run_setup(&m, p, size, nthreads))
		return -1;
	run_measure(&m);
	run_collect(&m, r);
	run_teardown(&m);
	return r->errors ? -1 : 0;
}

/* ------------------------------------------------------------------ */
/* the command: every selected backend x size x thread count, -r times */

static const struct peer *all_peers[] = {
	&peer_swiotlb, &peer_memcpy, &peer_memcpy_hot, &peer_jemalloc,
	&peer_jemalloc_notcache, &peer_firstfit,
};
#define NPEERS (int)(sizeof(all_peers) / sizeof(all_peers[0]))

/* One configuration and its runs. */
struct series {
	const struct peer *peer;
	size_t size;
	int threads;
	struct run_result *runs;
	int nruns;
};

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

/* Field by field median of a series' runs. */
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
	const char *s = opts.peers;
	size_t n = strlen(p->name);

	if (!s)
		return opts.compare || p == &peer_swiotlb;
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

/* Setup: one series per size x thread count x selected backend. */
static struct series *make_series(const struct peer **sel, int nsel, int *nser)
{
	struct series *ser = calloc((size_t)(opts.nsizes * opts.nthreads * nsel), sizeof(*ser));

	if (!ser)
		abort();
	*nser = 0;
	for (int i = 0; i < opts.nsizes; i++) {
		for (int j = 0; j < opts.nthreads; j++) {
			for (int k = 0; k < nsel; k++) {
				struct series *s = &ser[(*nser)++];

				s->peer = sel[k];
				s->size = opts.sizes[i];
				s->threads = opts.threads[j];
				s->runs = calloc((size_t)opts.runs, sizeof(*s->runs));
				if (!s->runs)
					abort();
			}
		}
	}
	return ser;
}

static void print_header(void)
{
	printf("# swiotlb-bench: dir %d, delay %llu ns, pool %zu B, %u pool(s)%s%s%s, %d run(s) of %.3g s (+%.3g s warm-up)\n",
	       opts.dir, (unsigned long long)opts.delay_ns, opts.pool_size, opts.pools,
	       opts.dynamic ? ", dynamic" : "", opts.strict ? ", strict cursor" : "",
	       opts.cross ? ", cross-thread unmap" : "",
	       opts.runs, opts.seconds, opts.warmup);
	printf("# latencies in ns (map/unmap avg and stddev of sampled calls, 1 in %d)\n",
	       SAMPLE_MASK + 1);
}

/* Measure and check: run r of every series, then run r + 1 (interleaved,
 * so that a disturbance of the machine does not hit one series only).
 * Returns 1 when a run had errors or could not run. */
static int measure_series(struct series *ser, int nser)
{
	int rc = 0;

	for (int run = 0; run < opts.runs; run++) {
		for (int i = 0; i < nser; i++) {
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
			if (!opts.quiet)
				print_run(tag, s->peer->name, s->size, s->threads, &s->runs[run]);
		}
	}
	return rc;
}

static void report_json(struct jw *w, const struct peer **sel, int nsel,
			const struct series *ser, int nser)
{
	jw_open(w, "peers", '{');
	for (int k = 0; k < nsel; k++)
		jw_str(w, sel[k]->name, sel[k]->desc);
	jw_close(w, '}');
	jw_open(w, "results", '[');
	for (int i = 0; i < nser; i++) {
		struct run_result m;

		if (!ser[i].nruns)
			continue;
		median_result(&ser[i], &m);
		jw_open(w, NULL, '{');
		jw_str(w, "peer", ser[i].peer->name);
		jw_u64(w, "size", ser[i].size);
		jw_u64(w, "threads", (uint64_t)ser[i].threads);
		jw_u64(w, "dir", (uint64_t)opts.dir);
		jw_u64(w, "delay_ns", opts.delay_ns);
		jw_bool(w, "cross", opts.cross);
		jw_run(w, "median", &m);
		jw_open(w, "runs", '[');
		for (int run = 0; run < ser[i].nruns; run++)
			jw_run(w, NULL, &ser[i].runs[run]);
		jw_close(w, ']');
		jw_close(w, '}');
	}
	jw_close(w, ']');
}

/* The series of peer p with the same size and thread count as s, or NULL. */
static const struct series *series_of(const struct series *ser, int nser, const struct series *s,
				      const struct peer *p)
{
	for (int i = 0; i < nser; i++)
		if (ser[i].peer == p && ser[i].size == s->size && ser[i].threads == s->threads &&
		    ser[i].nruns == s->nruns)
			return &ser[i];
	return NULL;
}

/* Ops per second of one run: thread CPU time with one thread (this machine
 * is shared: time a thread spent preempted is not ours), wall clock with
 * more (there it is the point). */
static double run_rate(const struct run_result *r, int threads)
{
	return threads == 1 && r->cpu_ops_per_s > 0 ? r->cpu_ops_per_s : r->ops_per_s;
}

/* Median over runs of rate(a) / rate(b): both measured in the same
 * interleaved round, so a disturbance hits both. */
static double ratio_median(const struct series *a, const struct series *b)
{
	double v[64];
	int n = a->nruns > 64 ? 64 : a->nruns;

	for (int i = 0; i < n; i++) {
		double rb = run_rate(&b->runs[i], b->threads);

		v[i] = rb > 0 ? run_rate(&a->runs[i], a->threads) / rb : NAN;
	}
	return median(v, n);
}

static double median_p50(const struct series *s)
{
	double v[64];
	int n = s->nruns > 64 ? 64 : s->nruns;

	for (int i = 0; i < n; i++)
		v[i] = s->runs[i].op.n ? s->runs[i].op.p50 : s->runs[i].map.p50;
	return median(v, n);
}

static double ns_median(const struct series *s)
{
	double v[64];
	int n = s->nruns > 64 ? 64 : s->nruns;

	for (int i = 0; i < n; i++) {
		double r = run_rate(&s->runs[i], s->threads);

		v[i] = r > 0 ? 1e9 * s->threads / r : NAN;
	}
	return median(v, n);
}

/*
 * --compare: the table of issue 10.  Per size and thread count: ns per
 * map+unmap (per thread) of libswiotlb, memcpy-hot and jemalloc; then
 * libswiotlb's time over memcpy-hot's and its throughput over jemalloc's
 * (medians of the per-round ratios), and the p50 of sampled map+unmap
 * latencies.
 */
static void report_ratios(const struct series *ser, int nser)
{
	bool head = false;

	for (int i = 0; i < nser; i++) {
		const struct series *s = &ser[i], *hot, *je;

		if (s->peer != &peer_swiotlb || !s->nruns)
			continue;
		hot = series_of(ser, nser, s, &peer_memcpy_hot);
		je = series_of(ser, nser, s, &peer_jemalloc);
		if (!hot && !je)
			continue;
		if (!head) {
			printf("# ratios (medians of per-round ratios; ns/op per thread, CPU time with 1 thread)\n");
			printf("#  size     thr | swiotlb ns | memcpy-hot ns | jemalloc ns | x memcpy-hot | vs jemalloc | p50 swiotlb/hot/jemalloc ns\n");
			head = true;
		}
		printf("ratio %7zu B t%-2d | %10.1f | %13.1f | %11.1f | %11.2fx | %10.2fx | %.0f / %.0f / %.0f\n",
		       s->size, s->threads, ns_median(s), hot ? ns_median(hot) : NAN,
		       je ? ns_median(je) : NAN, hot ? ratio_median(hot, s) : NAN,
		       je ? ratio_median(s, je) : NAN, s->runs[0].op.n ? median_p50(s) : NAN,
		       hot ? median_p50(hot) : NAN, je ? median_p50(je) : NAN);
	}
}

static void report(struct jw *w, const struct peer **sel, int nsel, const struct series *ser,
		   int nser)
{
	printf("# medians of %d run(s)\n", opts.runs);
	for (int i = 0; i < nser; i++) {
		struct run_result m;

		if (!ser[i].nruns)
			continue;
		median_result(&ser[i], &m);
		print_run("median", ser[i].peer->name, ser[i].size, ser[i].threads, &m);
	}
	report_ratios(ser, nser);
	if (w)
		report_json(w, sel, nsel, ser, nser);
}

int cmd_map(struct jw *w)
{
	const struct peer *sel[NPEERS];
	struct series *ser;
	int nsel = 0, nser, rc;

	for (int i = 0; i < NPEERS; i++)
		if (peer_selected(all_peers[i]))
			sel[nsel++] = all_peers[i];
	if (!nsel) {
		fprintf(stderr, "swiotlb-bench: no backend selected\n");
		return 2;
	}
	ser = make_series(sel, nsel, &nser);
	print_header();
	rc = measure_series(ser, nser);
	report(w, sel, nsel, ser, nser);
	for (int i = 0; i < nser; i++)
		free(ser[i].runs);
	free(ser);
	return rc;
}
