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
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend_swiotlb.h"

/* The library's test hook _swiotlb_test_mem_add_pool() (src/testing.h):
 * add one pool of @size bytes to @mem. */
#include "testing.h"

int bench_add_pool(struct swiotlb_mem *mem, size_t size)
{
	return _swiotlb_test_mem_add_pool(mem, size);
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
	unsigned i;

	if (!c)
		return NULL;
	mc.size = cfg->region_size / pools;
	mc.dynamic = cfg->dynamic;
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
		if (swiotlb_mem_destroy(c->mem))
			fprintf(stderr, "swiotlb_mem_destroy failed\n");
		free(c);
		return NULL;
	}
	for (i = 1; i < pools; i++)
		if (bench_add_pool(c->mem, mc.size))
			break;
	if (i < pools)
		fprintf(stderr, "swiotlb: only %u of %u pools\n", i, pools);
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
