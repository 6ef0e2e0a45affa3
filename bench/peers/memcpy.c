/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Peer 1: memcpy alone, the physical limit for the bounce cost.
 *
 * "memcpy" cycles through destinations in a region of the same size as our
 * pool, the way libswiotlb's area cursor does: the region is split into
 * the same number of areas, a thread uses the area of the CPU it is pinned
 * to, and each map takes the next run of slots (2 KiB granules, page
 * aligned runs for sizes >= 4 KiB, never crossing a 256 KiB segment), so
 * the destinations are as cold (or as warm) as ours.  "memcpy-hot" always
 * copies to the same destination: the best case, shown for reference.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <stdlib.h>
#include <stdio.h>

#include "../bench.h"

#define SLOT 2048u
#define SEGMENT (128u * SLOT)

struct mc_ctx {
	char *region;
	size_t len;
	unsigned nareas;
	bool hot;
};

struct mc_thread {
	struct mc_ctx *c;
	char *area;       /* this thread's area */
	size_t area_len;
	size_t cursor;    /* byte offset in the area */
} __attribute__((aligned(64))); /* one cache line per thread */

static void *mc_create_common(const struct peer_cfg *cfg, bool hot)
{
	struct mc_ctx *c = calloc(1, sizeof(*c));

	if (!c)
		return NULL;
	c->len = cfg->region_size;
	c->region = bench_region_alloc(c->len);
	c->nareas = cfg->nareas ? cfg->nareas : 1;
	c->hot = hot;
	return c;
}

static void *mc_create(const struct peer_cfg *cfg)
{
	return mc_create_common(cfg, false);
}

static void *mc_create_hot(const struct peer_cfg *cfg)
{
	return mc_create_common(cfg, true);
}

static void *mc_thread_init(void *ctx, int tid, int cpu)
{
	struct mc_ctx *c = ctx;
	struct mc_thread *t = aligned_alloc(64, sizeof(*t));

	if (!t)
		return NULL;
	memset(t, 0, sizeof(*t));
	t->c = c;
	t->area_len = c->len / c->nareas;
	t->area = c->region + (size_t)((unsigned)cpu & (c->nareas - 1)) * t->area_len;
	if (c->hot) /* each thread its own hot destination */
		t->area = c->region + ((size_t)tid * SEGMENT) % c->len;
	return t;
}

static int mc_map(void *tctx, void *cpu, size_t size, int dir, uint64_t *h)
{
	struct mc_thread *t = tctx;
	size_t run, off;
	char *dst;

	(void)dir;
	if (t->c->hot) {
		dst = t->area;
	} else {
		run = (size + SLOT - 1) & ~(size_t)(SLOT - 1);
		off = t->cursor;
		if (size >= 4096)
			off = (off + 4095) & ~(size_t)4095;
		/* never cross a segment, wrap at the end of the area */
		if ((off & (SEGMENT - 1)) + run > SEGMENT)
			off = (off + SEGMENT - 1) & ~(size_t)(SEGMENT - 1);
		if (off + run > t->area_len)
			off = 0;
		t->cursor = off + run;
		dst = t->area + off;
	}
	memcpy(dst, cpu, size);
	*h = (uint64_t)(uintptr_t)dst;
	return 0;
}

static int mc_unmap(void *tctx, uint64_t h, void *cpu, size_t size, int dir)
{
	(void)tctx;
	if (bench_copies_back(dir))
		memcpy(cpu, (void *)(uintptr_t)h, size);
	return 0;
}

static void mc_thread_fini(void *tctx)
{
	free(tctx);
}

static void mc_destroy(void *ctx)
{
	struct mc_ctx *c = ctx;

	bench_region_free(c->region, c->len);
	free(c);
}

const struct peer peer_memcpy = {
	.name = "memcpy",
	.desc = "memcpy alone, destinations cycling through a region of the pool's size (like the area cursor)",
	.create = mc_create,
	.thread_init = mc_thread_init,
	.map = mc_map,
	.unmap = mc_unmap,
	.thread_fini = mc_thread_fini,
	.destroy = mc_destroy,
};

const struct peer peer_memcpy_hot = {
	.name = "memcpy-hot",
	.desc = "memcpy alone, always the same (cache-hot) destination",
	.create = mc_create_hot,
	.thread_init = mc_thread_init,
	.map = mc_map,
	.unmap = mc_unmap,
	.thread_fini = mc_thread_fini,
	.destroy = mc_destroy,
};
