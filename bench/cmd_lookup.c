// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * swiotlb-bench lookup command (--lookup): how long swiotlb_is_bounce()
 * takes for a memory of N pools, next to the kernel's list walk, libcritnib
 * and an empty call.  Every method looks up the same 4096 addresses inside
 * pools ("live") and 4096 in private memory ("non-bounce"), and must answer
 * each correctly.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "backend_swiotlb.h"
#include "bench.h"
#include "driver.h"

#define NADDR 4096

enum lk_method { LK_OURS, LK_LINEAR, LK_CRITNIB, LK_NEVER, LK_BASE, LK_N };
static const char *lk_names[LK_N] = { "swiotlb", "linear", "critnib",
	"swiotlb-never-bounced", "call-baseline" };

static uint64_t lk_rng = 0x9e3779b97f4a7c15ull;

/* The floor of the measurement loop: a call that is not inlined and does
 * one compare (no load behind a pointer). */
__attribute__((noinline)) static bool lk_baseline(const void *p, uint64_t addr)
{
	__asm__ volatile("" ::: "memory");
	return addr == (uint64_t)(uintptr_t)p;
}

/* One memory of N pools and the same ranges in each peer. */
struct lk_env {
	unsigned target, got;          /* pools asked for, pools made */
	struct util_prov prov;         /* records every pool's range */
	struct swiotlb_mem *mem;
	struct swiotlb_dev *dev;       /* has bounced once */
	struct swiotlb_dev *never;     /* never bounced: is_bounce is one load */
	struct lookup_linear *lin;
	struct lookup_critnib *crit;
	struct bench_range *r;
	size_t nr;
	struct swiotlb_stats st;
	uint64_t live[NADDR], non[NADDR];
	char *priv;                    /* private memory for non-bounce addresses */
	size_t priv_len;
};

/* Results of every method: ns per lookup per run, and the hits of a pass. */
struct lk_res {
	double ns[LK_N][2][64];        /* [method][live, non-bounce][run] */
	uint64_t hits[LK_N][2];
};

static volatile uint64_t lk_sink;

static uint64_t lk_pass(const struct lk_env *e, enum lk_method m, const uint64_t *addrs)
{
	uint64_t hits = 0;
	size_t i;

	switch (m) {
	case LK_OURS:
		for (i = 0; i < NADDR; i++)
			hits += swiotlb_is_bounce(e->dev, addrs[i]);
		break;
	case LK_NEVER:
		for (i = 0; i < NADDR; i++)
			hits += swiotlb_is_bounce(e->never, addrs[i]);
		break;
	case LK_LINEAR:
		for (i = 0; i < NADDR; i++)
			hits += lookup_linear_find(e->lin, addrs[i]);
		break;
	case LK_CRITNIB:
		for (i = 0; i < NADDR; i++)
			hits += lookup_critnib_find(e->crit, addrs[i]);
		break;
	case LK_BASE:
		for (i = 0; i < NADDR; i++)
			hits += lk_baseline(e, addrs[i]);
		break;
	default:
		break;
	}
	return hits;
}

/* ns per lookup over addrs (passes for at least budget seconds of thread
 * CPU time), and the number of hits in one pass */
static double lk_measure(const struct lk_env *e, enum lk_method m, const uint64_t *addrs,
			 double budget, uint64_t *hits_out)
{
	uint64_t t0 = util_thread_cpu_ns(), t1, n = 0, hits;

	do {
		hits = lk_pass(e, m, addrs);
		lk_sink += hits;
		n += NADDR;
		t1 = util_thread_cpu_ns();
	} while ((double)(t1 - t0) < budget * 1e9);
	*hits_out = hits;
	return (double)(t1 - t0) / (double)n;
}

/* Add pools of mixed sizes (32 KiB .. 1 MiB, in pages) until there are
 * e->target. */
static void lk_add_pools(struct lk_env *e)
{
	unsigned i;

	for (i = 1; i < e->target; i++) {
		size_t sz = (size_t)(8 + util_rand(&lk_rng) % 249) * 4096;

		if (bench_add_pool(e->mem, sz))
			break;
	}
	e->got = i;
}

/* One bounce on e->dev, so that it is a device that has bounced. */
static int lk_bounce_once(struct lk_env *e)
{
	static char buf[2048];
	swiotlb_addr_t a;

	if (swiotlb_map(e->dev, buf, sizeof(buf), SWIOTLB_TO_DEVICE, 0, &a) ||
	    swiotlb_unmap(e->dev, a, sizeof(buf), SWIOTLB_TO_DEVICE, 0)) {
		fprintf(stderr, "lookup: map/unmap failed\n");
		return -1;
	}
	return 0;
}

/* The pools' ranges, as the provider saw them, for the peers. */
static void lk_ranges(struct lk_env *e)
{
	struct util_range *u = util_prov_ranges(&e->prov, &e->nr);

	e->r = u && e->nr ? malloc(e->nr * sizeof(*e->r)) : NULL;
	if (!e->r)
		abort();
	for (size_t i = 0; i < e->nr; i++)
		e->r[i] = (struct bench_range){ u[i].addr, u[i].addr + u[i].len };
	free(u);
	e->lin = lookup_linear_create(e->r, e->nr);
	e->crit = lookup_critnib_create(e->r, e->nr);
}

static void lk_addresses(struct lk_env *e)
{
	for (size_t i = 0; i < NADDR; i++) {
		const struct bench_range *q = &e->r[util_rand(&lk_rng) % e->nr];

		e->live[i] = q->start + util_rand(&lk_rng) % (q->end - q->start);
		e->non[i] = (uint64_t)(uintptr_t)(e->priv + util_rand(&lk_rng) % e->priv_len);
	}
}

static int lk_setup(struct lk_env *e, unsigned target)
{
	struct swiotlb_mem_config mc = { .dynamic = true, .size = 256 * 1024,
					 .grow_size = 64 * 1024 };
	struct swiotlb_dev_config dc = { .name = "lookup", .force_bounce = true };
	struct swiotlb_dev_config nc = { .name = "never" };

	memset(e, 0, sizeof(*e));
	e->target = target;
	e->got = 1;
	util_prov_init(&e->prov, NULL);
	mc.provider = &e->prov.p;
	e->mem = swiotlb_mem_create(&mc);
	if (!e->mem) {
		fprintf(stderr, "lookup: swiotlb_mem_create: %s\n", strerror(errno));
		return -1;
	}
	e->dev = swiotlb_dev_create(e->mem, &dc);
	e->never = swiotlb_dev_create(e->mem, &nc);
	if (!e->dev || !e->never) {
		fprintf(stderr, "lookup: swiotlb_dev_create: %s\n", strerror(errno));
		return -1;
	}
	if (target > 1)
		lk_add_pools(e);
	if (lk_bounce_once(e))
		return -1;
	e->st = util_mem_stats(e->mem);
	lk_ranges(e);
	e->priv_len = 16u << 20;
	e->priv = bench_region_alloc(e->priv_len);
	lk_addresses(e);
	return 0;
}

static void lk_measure_all(const struct lk_env *e, struct lk_res *res)
{
	double budget = opts.seconds / 20 > 0.002 ? opts.seconds / 20 : 0.002;

	for (int run = 0; run < opts.runs; run++)
		for (int m = 0; m < LK_N; m++)
			for (int kind = 0; kind < 2; kind++)
				res->ns[m][kind][run] = lk_measure(e, (enum lk_method)m,
					kind ? e->non : e->live, budget, &res->hits[m][kind]);
}

static bool lk_correct(const struct lk_res *res, int m)
{
	uint64_t want_live = m >= LK_NEVER ? 0 : NADDR;

	return res->hits[m][0] == want_live && res->hits[m][1] == 0;
}

/* Every method must agree on every address.  Returns 1 when one did not. */
static int lk_check(const struct lk_env *e, const struct lk_res *res)
{
	int rc = 0;

	for (int m = 0; m < LK_N; m++) {
		if (lk_correct(res, m))
			continue;
		fprintf(stderr, "lookup %s with %u pools: %llu/%d live hits, %llu/%d non-bounce hits (expected %d and 0)\n",
			lk_names[m], e->target,
			(unsigned long long)res->hits[m][0], NADDR,
			(unsigned long long)res->hits[m][1], NADDR,
			m >= LK_NEVER ? 0 : NADDR);
		rc = 1;
	}
	return rc;
}

static void lk_report_json(struct jw *w, const struct lk_env *e, const struct lk_res *res)
{
	jw_open(w, NULL, '{');
	jw_u64(w, "pools_requested", e->target);
	jw_u64(w, "pools", e->got);
	jw_u64(w, "shared_pools", e->st.pools);
	jw_u64(w, "ranges", e->nr);
	jw_bool(w, "mixed_sizes", true);
	for (int m = 0; m < LK_N; m++) {
		jw_open(w, lk_names[m], '{');
		for (int kind = 0; kind < 2; kind++) {
			jw_num(w, kind ? "non_bounce_ns" : "live_ns", median(res->ns[m][kind], opts.runs));
			jw_open(w, kind ? "non_bounce_runs" : "live_runs", '[');
			for (int run = 0; run < opts.runs; run++)
				jw_num(w, NULL, res->ns[m][kind][run]);
			jw_close(w, ']');
		}
		jw_bool(w, "correct", lk_correct(res, m));
		jw_close(w, '}');
	}
	jw_close(w, '}');
}

static void lk_report(struct jw *w, const struct lk_env *e, const struct lk_res *res)
{
	for (int m = 0; m < LK_N; m++)
		printf("lookup pools %5u  %-22s live %9.2f ns   non-bounce %9.2f ns\n",
		       (unsigned)e->nr, lk_names[m],
		       median(res->ns[m][0], opts.runs), median(res->ns[m][1], opts.runs));
	if (w)
		lk_report_json(w, e, res);
}

/* 1 when the library refused to destroy something. */
static int lk_teardown(struct lk_env *e)
{
	int rc = 0;

	lookup_linear_destroy(e->lin);
	lookup_critnib_destroy(e->crit);
	free(e->r);
	if (swiotlb_dev_destroy(e->never) || swiotlb_dev_destroy(e->dev) ||
	    swiotlb_mem_destroy(e->mem)) {
		fprintf(stderr, "lookup: destroy failed\n");
		rc = 1;
	}
	util_prov_fini(&e->prov);
	bench_region_free(e->priv, e->priv_len);
	return rc;
}

int cmd_lookup(struct jw *w)
{
	struct lk_env *e = malloc(sizeof(*e));
	struct lk_res *res = malloc(sizeof(*res));
	int rc = 0;

	if (!e || !res)
		abort();
	pin_self(0);
	printf("# lookup: ns (thread CPU time) per lookup, %d addresses per pass, %d run(s), pool sizes mixed (_swiotlb_test_mem_add_pool)\n",
	       NADDR, opts.runs);
	if (w)
		jw_open(w, "lookup", '[');
	for (int pi = 0; pi < opts.nlpools; pi++) {
		if (lk_setup(e, opts.lpools[pi])) {
			rc = 2;
			break;
		}
		printf("# %u pools requested, %llu shared pools, %zu provider ranges\n",
		       e->target, (unsigned long long)e->st.pools, e->nr);
		lk_measure_all(e, res);
		rc |= lk_check(e, res);
		lk_report(w, e, res);
		rc |= lk_teardown(e);
	}
	if (w)
		jw_close(w, ']');
	free(e);
	free(res);
	return rc ? 1 : 0;
}
