// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * swiotlb-bench growth command (--growth): a dynamic memory of 4 MiB (or
 * -p) under a ramp of live mappings.  Each thread keeps a FIFO of live
 * mappings whose total follows the target: 0.5x the initial pool for the
 * first 20% of the time, a ramp to 4x until 60%, then 4x; the steady-state
 * p50 comes from the last 20%.  The memory's statistics are sampled every
 * 5 ms into the JSON timeline.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "driver.h"

enum { PH_LOW, PH_RAMP, PH_STEADY, NPH };
static const char *const ph_names[NPH] = { "low", "ramp", "steady" };

#define TIMELINE_STEP_S 0.005

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
	struct samples phase_s[NPH];
	uint64_t maps, failures, errors;
} __attribute__((aligned(64)));

/* A FIFO of one thread's live mappings. */
struct fifo {
	swiotlb_addr_t *a;
	size_t cap, head, n;
};

struct growth {
	struct swiotlb_mem *mem;
	struct swiotlb_dev *dev;
	struct gworker *g;
	int nt;
	size_t size, base_pool;
	double dur;
	_Atomic int stop;
	struct gsample *tl;        /* the timeline */
	size_t ntl, captl;
	struct swiotlb_stats st0, st;
	uint64_t maps, failures, errors;
	struct lat pl[NPH];
	double nontransient, ratio;
};

/* Target bytes of live mappings at fraction f of the run, and its phase
 * (-1: settling after the ramp, not sampled). */
static double g_target(double f, double base, double peak, int *phase)
{
	if (f < 0.2) {
		*phase = PH_LOW;
		return base;
	}
	if (f < 0.6) {
		*phase = PH_RAMP;
		return base + (peak - base) * (f - 0.2) / 0.4;
	}
	*phase = f < 0.8 ? -1 : PH_STEADY;
	return peak;
}

static void fifo_unmap_oldest(struct gworker *g, struct fifo *q)
{
	if (swiotlb_unmap(g->dev, q->a[q->head], g->size, (enum swiotlb_dir)opts.dir, 0))
		g->errors++;
	q->head = (q->head + 1) % q->cap;
	q->n--;
}

/* Map one buffer (timed) and queue it. */
static void g_map_one(struct gworker *g, struct fifo *q, char *src, int phase)
{
	uint64_t c0 = cycles(), c1;
	swiotlb_addr_t a;
	int err = swiotlb_map(g->dev, src, g->size, (enum swiotlb_dir)opts.dir,
			      SWIOTLB_ATTR_NO_WARN, &a);

	c1 = cycles();
	if (err) {
		g->failures++;
		return;
	}
	g->maps++;
	q->a[(q->head + q->n++) % q->cap] = a;
	if (phase >= 0)
		sample_add(&g->phase_s[phase], c1 - c0);
}

static void *gworker_main(void *arg)
{
	struct gworker *g = arg;
	struct fifo q = { .cap = (size_t)(g->peak / (double)g->size / g->nthreads) + 16 };
	char *src = aligned_alloc(4096, (g->size + 4095) & ~(size_t)4095);

	q.a = malloc(q.cap * sizeof(*q.a));
	if (!q.a || !src)
		abort();
	memset(src, 0x3c, g->size);
	pin_self(g->tid);
	/* stop flag only (read relaxed) */
	while (!atomic_load_explicit(g->stop, memory_order_relaxed)) {
		double f = (double)(cycles() - g->c_start) / g->dur_cycles;
		int phase;
		double target = g_target(f, g->base, g->peak, &phase) / g->nthreads;

		if (f >= 1.0)
			break;
		if (q.n < q.cap)
			g_map_one(g, &q, src, phase);
		while (q.n && (double)q.n * (double)g->size > target)
			fifo_unmap_oldest(g, &q);
	}
	while (q.n)
		fifo_unmap_oldest(g, &q);
	free(q.a);
	free(src);
	return NULL;
}

static int gr_setup(struct growth *gr)
{
	struct swiotlb_mem_config mc = { .dynamic = true };
	struct swiotlb_dev_config dc = { .name = "growth", .force_bounce = true };

	memset(gr, 0, sizeof(*gr));
	gr->nt = opts.threads[0];
	gr->size = opts.sizes[0];
	gr->base_pool = opts.pool_size_set ? opts.pool_size : 4u << 20;
	gr->dur = opts.seconds;
	gr->g = aligned_alloc(64, sizeof(*gr->g) * (size_t)gr->nt);
	gr->captl = (size_t)(gr->dur / TIMELINE_STEP_S) + 64;
	gr->tl = calloc(gr->captl, sizeof(*gr->tl));
	if (!gr->g || !gr->tl)
		abort();
	memset(gr->g, 0, sizeof(*gr->g) * (size_t)gr->nt);
	mc.size = gr->base_pool;
	gr->mem = swiotlb_mem_create(&mc);
	if (!gr->mem) {
		fprintf(stderr, "growth: swiotlb_mem_create: %s\n", strerror(errno));
		return -1;
	}
	gr->dev = swiotlb_dev_create(gr->mem, &dc);
	if (!gr->dev) {
		fprintf(stderr, "growth: swiotlb_dev_create: %s\n", strerror(errno));
		return -1;
	}
	gr->st0 = util_mem_stats(gr->mem);
	return 0;
}

static void gr_start(struct growth *gr)
{
	for (int i = 0; i < gr->nt; i++) {
		struct gworker *g = &gr->g[i];

		g->tid = i;
		g->nthreads = gr->nt;
		g->dev = gr->dev;
		g->size = gr->size;
		g->c_start = cycles();
		g->dur_cycles = gr->dur * 1e9 / tsc_ns_per_cycle;
		g->base = 0.5 * (double)gr->base_pool;
		g->peak = 4.0 * (double)gr->base_pool;
		g->stop = &gr->stop;
		for (int ph = 0; ph < NPH; ph++)
			samples_init(&g->phase_s[ph], 1u << 22);
		if (pthread_create(&g->th, NULL, gworker_main, g))
			abort();
	}
}

/* Sample the memory's statistics every 5 ms until the run is over. */
static void gr_sample_timeline(struct growth *gr, uint64_t t0)
{
	for (;;) {
		double t = (double)(util_now_ns() - t0) / 1e9;
		int phase;

		if (gr->ntl < gr->captl) {
			struct gsample *s = &gr->tl[gr->ntl++];

			s->t = t;
			s->target_bytes = g_target(t / gr->dur, gr->g[0].base, gr->g[0].peak, &phase);
			s->st = util_mem_stats(gr->mem);
		}
		if (t >= gr->dur + 0.01)
			break;
		util_sleep_s(TIMELINE_STEP_S);
	}
}

static void gr_join(struct growth *gr)
{
	/* stop flag only (read relaxed); results are read after pthread_join() */
	atomic_store_explicit(&gr->stop, 1, memory_order_relaxed);
	for (int i = 0; i < gr->nt; i++) {
		pthread_join(gr->g[i].th, NULL);
		gr->maps += gr->g[i].maps;
		gr->failures += gr->g[i].failures;
		gr->errors += gr->g[i].errors;
	}
	gr->st = util_mem_stats(gr->mem);
	for (int ph = 0; ph < NPH; ph++) {
		struct samples s[64];
		int n = gr->nt < 64 ? gr->nt : 64;

		for (int i = 0; i < n; i++)
			s[i] = gr->g[i].phase_s[ph];
		gr->pl[ph] = lat_merge(s, n);
	}
	gr->nontransient = gr->st.maps ?
		1.0 - (double)(gr->st.transient_created - gr->st0.transient_created) /
		(double)(gr->st.maps - gr->st0.maps) : 0;
	gr->ratio = gr->pl[PH_STEADY].p50 > 0 ? gr->pl[PH_RAMP].p99 / gr->pl[PH_STEADY].p50 : NAN;
}

static void gr_print(const struct growth *gr)
{
	const struct swiotlb_stats *st = &gr->st, *st0 = &gr->st0;

	for (int ph = 0; ph < NPH; ph++)
		printf("growth %-6s map p50 %7.1f p99 %7.1f p99.9 %8.1f max-sampled %llu ns-samples\n",
		       ph_names[ph], gr->pl[ph].p50, gr->pl[ph].p99, gr->pl[ph].p999,
		       (unsigned long long)gr->pl[ph].n);
	printf("growth: %llu maps (%llu by the threads), %llu transient pools created, %.4f%% from non-transient pools\n",
	       (unsigned long long)(st->maps - st0->maps), (unsigned long long)gr->maps,
	       (unsigned long long)(st->transient_created - st0->transient_created),
	       100.0 * gr->nontransient);
	printf("growth: pools %llu (grown %llu, grows %llu, failures %llu), pool bytes %llu = %.2fx initial, hiwater %llu slots\n",
	       (unsigned long long)st->pools, (unsigned long long)st->grown_pools,
	       (unsigned long long)st->grows, (unsigned long long)st->growth_failures,
	       (unsigned long long)st->pool_bytes, (double)st->pool_bytes / (double)gr->base_pool,
	       (unsigned long long)st->hiwater_slots);
	printf("growth: ramp p99 / steady p50 = %.2f; map failures %llu, unmap errors %llu\n",
	       gr->ratio, (unsigned long long)gr->failures, (unsigned long long)gr->errors);
}

static void gr_json_timeline(struct jw *w, const struct growth *gr)
{
	jw_open(w, "timeline", '[');
	for (size_t k = 0; k < gr->ntl; k++) {
		const struct swiotlb_stats *s = &gr->tl[k].st;

		jw_open(w, NULL, '{');
		jw_num(w, "t", gr->tl[k].t);
		jw_num(w, "target_bytes", gr->tl[k].target_bytes);
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
}

static void gr_json(struct jw *w, const struct growth *gr)
{
	const struct swiotlb_stats *st = &gr->st, *st0 = &gr->st0;

	jw_open(w, "growth", '{');
	jw_u64(w, "initial_pool_bytes", gr->base_pool);
	jw_u64(w, "size", gr->size);
	jw_u64(w, "threads", (uint64_t)gr->nt);
	jw_num(w, "seconds", gr->dur);
	jw_u64(w, "maps", st->maps - st0->maps);
	jw_u64(w, "transient_created", st->transient_created - st0->transient_created);
	jw_num(w, "nontransient_fraction", gr->nontransient);
	jw_num(w, "ramp_p99_over_steady_p50", gr->ratio);
	jw_u64(w, "map_failures", gr->failures);
	jw_u64(w, "unmap_errors", gr->errors);
	jw_u64(w, "final_pool_bytes", st->pool_bytes);
	jw_u64(w, "final_pools", st->pools);
	jw_u64(w, "grows", st->grows);
	jw_u64(w, "growth_failures", st->growth_failures);
	for (int ph = 0; ph < NPH; ph++)
		jw_lat(w, ph_names[ph], &gr->pl[ph]);
	gr_json_timeline(w, gr);
	jw_close(w, '}');
}

static int gr_teardown(struct growth *gr)
{
	int rc = 0;

	for (int i = 0; i < gr->nt; i++)
		for (int ph = 0; ph < NPH; ph++)
			samples_free(&gr->g[i].phase_s[ph]);
	free(gr->g);
	free(gr->tl);
	if (swiotlb_dev_destroy(gr->dev) || swiotlb_mem_destroy(gr->mem))
		rc = 1;
	return rc;
}

int cmd_growth(struct jw *w)
{
	struct growth gr;
	uint64_t t0;
	int rc;

	if (gr_setup(&gr))
		return 1;
	printf("# growth: initial pool %zu B, live mappings of %zu B ramp from 0.5x to 4x the initial pool, %d thread(s), %.3g s\n",
	       gr.base_pool, gr.size, gr.nt, gr.dur);
	t0 = util_now_ns();
	gr_start(&gr);
	gr_sample_timeline(&gr, t0);
	gr_join(&gr);
	/* check: every map served (transient pools at worst), every unmap ok */
	rc = gr.errors || gr.failures;
	gr_print(&gr);
	if (w)
		gr_json(w, &gr);
	return gr_teardown(&gr) | rc;
}
