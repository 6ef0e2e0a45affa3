/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libswiotlb as a swiotlb-bench backend: one memory of the region size (or
 * --pools N pools of region/N each), one device with force_bounce (the
 * source buffers are private memory the device cannot reach).
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "backend_swiotlb.h"

#ifdef SWIOTLB_BENCH_HAVE_ADD_POOL
#include "testing.h"
const bool bench_have_add_pool = true;
int bench_add_pool(struct swiotlb_mem *mem, size_t size)
{
	return _swiotlb_test_mem_add_pool(mem, size);
}
#else
const bool bench_have_add_pool = false;
int bench_add_pool(struct swiotlb_mem *mem, size_t size)
{
	(void)mem; (void)size;
	return -ENOSYS;
}
#endif

/* ---- recording provider ---- */

struct rec_provider {
	struct swiotlb_provider p;
	const struct swiotlb_provider *inner;
	pthread_mutex_t lock;
	struct bench_range *r;
	size_t n, cap;
};

static int rec_alloc(void *ctx, size_t len, size_t align, swiotlb_addr_t limit,
		     void **cpu, swiotlb_addr_t *addr)
{
	struct rec_provider *rp = ctx;
	int err = rp->inner->alloc(rp->inner->ctx, len, align, limit, cpu, addr);

	if (err)
		return err;
	pthread_mutex_lock(&rp->lock);
	if (rp->n == rp->cap) {
		size_t cap = rp->cap ? rp->cap * 2 : 256;
		struct bench_range *r = realloc(rp->r, cap * sizeof(*r));

		if (!r) {
			pthread_mutex_unlock(&rp->lock);
			rp->inner->free(rp->inner->ctx, *cpu, *addr, len);
			return -ENOMEM;
		}
		rp->r = r;
		rp->cap = cap;
	}
	rp->r[rp->n].start = *addr;
	rp->r[rp->n].end = *addr + len;
	rp->n++;
	pthread_mutex_unlock(&rp->lock);
	return 0;
}

static void rec_free(void *ctx, void *cpu, swiotlb_addr_t addr, size_t len)
{
	struct rec_provider *rp = ctx;
	size_t i;

	pthread_mutex_lock(&rp->lock);
	for (i = 0; i < rp->n; i++) {
		if (rp->r[i].start == addr) {
			rp->r[i] = rp->r[--rp->n];
			break;
		}
	}
	pthread_mutex_unlock(&rp->lock);
	rp->inner->free(rp->inner->ctx, cpu, addr, len);
}

struct rec_provider *rec_provider_create(void)
{
	struct rec_provider *rp = calloc(1, sizeof(*rp));

	if (!rp)
		return NULL;
	rp->inner = swiotlb_provider_mmap(0);
	if (!rp->inner) {
		free(rp);
		return NULL;
	}
	pthread_mutex_init(&rp->lock, NULL);
	rp->p.version = SWIOTLB_PROVIDER_VERSION;
	rp->p.name = "bench-recording-mmap";
	rp->p.ctx = rp;
	rp->p.alloc = rec_alloc;
	rp->p.free = rec_free;
	return rp;
}

const struct swiotlb_provider *rec_provider_get(struct rec_provider *rp)
{
	return &rp->p;
}

struct bench_range *rec_provider_ranges(struct rec_provider *rp, size_t *n)
{
	struct bench_range *r;

	pthread_mutex_lock(&rp->lock);
	r = malloc((rp->n ? rp->n : 1) * sizeof(*r));
	if (r) {
		memcpy(r, rp->r, rp->n * sizeof(*r));
		*n = rp->n;
	}
	pthread_mutex_unlock(&rp->lock);
	return r;
}

void rec_provider_destroy(struct rec_provider *rp)
{
	if (!rp)
		return;
	pthread_mutex_destroy(&rp->lock);
	free(rp->r);
	free(rp);
}

/* ---- forcing growth ---- */

static void sleep_us(unsigned us)
{
	struct timespec ts = { .tv_sec = us / 1000000, .tv_nsec = (long)(us % 1000000) * 1000 };

	nanosleep(&ts, NULL);
}

unsigned bench_force_pools(struct swiotlb_mem *mem, struct swiotlb_dev *dev,
			   unsigned target, size_t chunk)
{
	struct swiotlb_stats st;
	swiotlb_addr_t *live = NULL;
	size_t nlive = 0, cap = 0, i;
	size_t maxmap = swiotlb_max_mapping_size(dev);
	char *src;
	unsigned stalls = 0;

	if (chunk > maxmap)
		chunk = maxmap;
	src = calloc(1, chunk);
	if (!src)
		abort();
	swiotlb_mem_stats(mem, &st);
	while (st.pools < target && stalls < 2000) {
		uint64_t grows = st.grows;
		swiotlb_addr_t a;
		int err;

		if (nlive == cap) {
			cap = cap ? cap * 2 : 1024;
			live = realloc(live, cap * sizeof(*live));
			if (!live)
				abort();
		}
		err = swiotlb_map(dev, src, chunk, SWIOTLB_TO_DEVICE,
				  SWIOTLB_ATTR_NO_WARN, &a);
		if (!err)
			live[nlive++] = a;
		swiotlb_mem_stats(mem, &st);
		if (err || st.transient_pools) {
			/* full: let the background thread grow a pool */
			for (i = 0; i < 2000 && st.grows == grows; i++) {
				sleep_us(20);
				swiotlb_mem_stats(mem, &st);
			}
			stalls = st.grows == grows ? stalls + 1 : 0;
		}
	}
	for (i = 0; i < nlive; i++)
		swiotlb_unmap(dev, live[i], chunk, SWIOTLB_TO_DEVICE, 0);
	free(live);
	free(src);
	swiotlb_mem_stats(mem, &st);
	return (unsigned)st.pools;
}

/* ---- the backend ---- */

struct sw_ctx {
	struct swiotlb_mem *mem;
	struct swiotlb_dev *dev;
};

static void *sw_create(const struct peer_cfg *cfg)
{
	struct sw_ctx *c = calloc(1, sizeof(*c));
	struct swiotlb_mem_config mc = { 0 };
	struct swiotlb_dev_config dc = { 0 };
	unsigned pools = cfg->pools ? cfg->pools : 1;
	unsigned i, got;

	if (!c)
		return NULL;
	mc.size = cfg->region_size / pools;
	mc.dynamic = cfg->dynamic || (pools > 1 && !bench_have_add_pool);
	mc.grow_size = mc.size;
	mc.strict_cursor = cfg->strict_cursor;
	c->mem = swiotlb_mem_create(&mc);
	if (!c->mem) {
		fprintf(stderr, "swiotlb_mem_create: %s\n", strerror(errno));
		free(c);
		return NULL;
	}
	dc.name = "bench";
	dc.force_bounce = true;
	c->dev = swiotlb_dev_create(c->mem, &dc);
	if (!c->dev) {
		fprintf(stderr, "swiotlb_dev_create: %s\n", strerror(errno));
		swiotlb_mem_destroy(c->mem);
		free(c);
		return NULL;
	}
	if (pools > 1) {
		if (bench_have_add_pool) {
			for (i = 1; i < pools; i++)
				if (bench_add_pool(c->mem, mc.size))
					break;
			got = i;
		} else {
			got = bench_force_pools(c->mem, c->dev, pools, mc.size);
		}
		if (got < pools)
			fprintf(stderr, "swiotlb: only %u of %u pools\n", got, pools);
	}
	return c;
}

static void *sw_thread_init(void *ctx, int tid, int cpu)
{
	(void)tid; (void)cpu;
	return ctx;
}

static int sw_map(void *tctx, void *cpu, size_t size, int dir, uint64_t *h)
{
	struct sw_ctx *c = tctx;
	swiotlb_addr_t a;
	int err = swiotlb_map(c->dev, cpu, size, (enum swiotlb_dir)dir, 0, &a);

	*h = a;
	return err;
}

static int sw_unmap(void *tctx, uint64_t h, void *cpu, size_t size, int dir)
{
	struct sw_ctx *c = tctx;

	(void)cpu;
	return swiotlb_unmap(c->dev, h, size, (enum swiotlb_dir)dir, 0);
}

static void sw_thread_fini(void *tctx)
{
	(void)tctx;
}

static void sw_destroy(void *ctx)
{
	struct sw_ctx *c = ctx;
	int err = swiotlb_dev_destroy(c->dev);

	if (err)
		fprintf(stderr, "swiotlb_dev_destroy: %s\n", swiotlb_strerror(err));
	err = swiotlb_mem_destroy(c->mem);
	if (err)
		fprintf(stderr, "swiotlb_mem_destroy: %s\n", swiotlb_strerror(err));
	free(c);
}

struct swiotlb_mem *bench_swiotlb_mem(void *ctx)
{
	return ((struct sw_ctx *)ctx)->mem;
}

const struct peer peer_swiotlb = {
	.name = "swiotlb",
	.desc = "libswiotlb: swiotlb_map/swiotlb_unmap on a force_bounce device",
	.create = sw_create,
	.thread_init = sw_thread_init,
	.map = sw_map,
	.unmap = sw_unmap,
	.thread_fini = sw_thread_fini,
	.destroy = sw_destroy,
};
