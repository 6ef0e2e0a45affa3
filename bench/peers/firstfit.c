/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Peer 3: a mutex-protected first-fit free list over the region, plus the
 * copies: the hand-rolled approach most projects use.  Free blocks are
 * kept in an address-ordered singly linked list whose nodes live in the
 * free blocks themselves; free coalesces with both neighbours.  Sizes are
 * rounded up to 64 bytes.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <pthread.h>
#include <stdlib.h>

#include "../bench.h"

#define FF_GRAIN 64u

struct ff_block {
	size_t size;
	struct ff_block *next;
};

struct ff_ctx {
	pthread_mutex_t lock;
	struct ff_block *free;
	char *region;
	size_t len;
};

static void *ff_create(const struct peer_cfg *cfg)
{
	struct ff_ctx *c = calloc(1, sizeof(*c));

	if (!c)
		return NULL;
	pthread_mutex_init(&c->lock, NULL);
	c->len = cfg->region_size;
	c->region = bench_region_alloc(c->len);
	c->free = (struct ff_block *)c->region;
	c->free->size = c->len;
	c->free->next = NULL;
	return c;
}

static void *ff_thread_init(void *ctx, int tid, int cpu)
{
	(void)tid; (void)cpu;
	return ctx;
}

static void *ff_alloc(struct ff_ctx *c, size_t need)
{
	struct ff_block **pp, *b, *rest;

	pthread_mutex_lock(&c->lock);
	for (pp = &c->free; (b = *pp); pp = &b->next) {
		if (b->size < need)
			continue;
		if (b->size == need) {
			*pp = b->next;
		} else {
			rest = (struct ff_block *)((char *)b + need);
			rest->size = b->size - need;
			rest->next = b->next;
			*pp = rest;
		}
		break;
	}
	pthread_mutex_unlock(&c->lock);
	return b;
}

static void ff_release(struct ff_ctx *c, void *p, size_t need)
{
	struct ff_block *b = p, *prev = NULL, *next;

	pthread_mutex_lock(&c->lock);
	for (next = c->free; next && next < b; next = next->next)
		prev = next;
	b->size = need;
	b->next = next;
	if (next && (char *)b + b->size == (char *)next) {
		b->size += next->size;
		b->next = next->next;
	}
	if (prev && (char *)prev + prev->size == (char *)b) {
		prev->size += b->size;
		prev->next = b->next;
	} else if (prev) {
		prev->next = b;
	} else {
		c->free = b;
	}
	pthread_mutex_unlock(&c->lock);
}

static int ff_map(void *tctx, void *cpu, size_t size, int dir, uint64_t *h)
{
	size_t need = (size + FF_GRAIN - 1) & ~(size_t)(FF_GRAIN - 1);
	void *p = ff_alloc(tctx, need);

	(void)dir;
	if (!p)
		return -1;
	memcpy(p, cpu, size);
	*h = (uint64_t)(uintptr_t)p;
	return 0;
}

static int ff_unmap(void *tctx, uint64_t h, void *cpu, size_t size, int dir)
{
	size_t need = (size + FF_GRAIN - 1) & ~(size_t)(FF_GRAIN - 1);
	void *p = (void *)(uintptr_t)h;

	if (bench_copies_back(dir))
		memcpy(cpu, p, size);
	ff_release(tctx, p, need);
	return 0;
}

static void ff_thread_fini(void *tctx)
{
	(void)tctx;
}

static void ff_destroy(void *ctx)
{
	struct ff_ctx *c = ctx;

	bench_region_free(c->region, c->len);
	pthread_mutex_destroy(&c->lock);
	free(c);
}

const struct peer peer_firstfit = {
	.name = "firstfit",
	.desc = "mutex-protected address-ordered first-fit free list with coalescing over a fixed region, plus the copies",
	.create = ff_create,
	.thread_init = ff_thread_init,
	.map = ff_map,
	.unmap = ff_unmap,
	.thread_fini = ff_thread_fini,
	.destroy = ff_destroy,
};
