/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Peer 2: jemalloc with an arena whose extent hooks hand out memory from
 * one fixed device-reachable region, plus the copies.
 *
 * What a user would write: mallctl("arenas.create") with the hooks, then
 * mallocx(size, MALLOCX_ARENA(a) | MALLOCX_TCACHE(tc)) with a thread cache
 * created per thread by mallctl("tcache.create").  The explicit tcache is
 * the fast path that is also correct: the thread's automatic tcache may
 * return objects of another arena (memory the device cannot reach) to a
 * MALLOCX_ARENA() request, so a careful user must not use it.
 * "jemalloc-notcache" uses MALLOCX_TCACHE_NONE (every call goes to the
 * arena, under its bin lock), the other safe choice.
 *
 * The hooks are a bump allocator over the region; dalloc opts out (returns
 * true) so jemalloc keeps and reuses what it got, and split/merge succeed
 * since the region is one mapping.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <jemalloc/jemalloc.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

#include "../bench.h"

struct je_ctx {
	extent_hooks_t hooks;   /* first: the hooks pointer is the ctx */
	pthread_mutex_t lock;
	char *region;
	size_t len, used;
	unsigned arena;
	bool tcache;
};

struct je_thread {
	struct je_ctx *c;
	int flags;
	unsigned tc;
};

static void *je_extent_alloc(extent_hooks_t *h, void *new_addr, size_t size,
			     size_t alignment, bool *zero, bool *commit,
			     unsigned arena_ind)
{
	struct je_ctx *c = (struct je_ctx *)h;
	void *ret = NULL;
	size_t off;

	(void)arena_ind;
	if (new_addr)
		return NULL;
	pthread_mutex_lock(&c->lock);
	off = (c->used + alignment - 1) & ~(alignment - 1);
	if (off <= c->len && size <= c->len - off) {
		ret = c->region + off;
		c->used = off + size;
	}
	pthread_mutex_unlock(&c->lock);
	if (ret) {
		*zero = true;   /* fresh region memory is zero */
		*commit = true;
	}
	return ret;
}

static bool je_extent_dalloc(extent_hooks_t *h, void *addr, size_t size,
			     bool committed, unsigned arena_ind)
{
	(void)h; (void)addr; (void)size; (void)committed; (void)arena_ind;
	return true; /* opt out: jemalloc retains the extent */
}

static void je_extent_destroy(extent_hooks_t *h, void *addr, size_t size,
			      bool committed, unsigned arena_ind)
{
	(void)h; (void)addr; (void)size; (void)committed; (void)arena_ind;
}

static bool je_extent_commit(extent_hooks_t *h, void *addr, size_t size,
			     size_t offset, size_t length, unsigned arena_ind)
{
	(void)h; (void)addr; (void)size; (void)offset; (void)length; (void)arena_ind;
	return false; /* always committed */
}

static bool je_extent_decommit(extent_hooks_t *h, void *addr, size_t size,
			       size_t offset, size_t length, unsigned arena_ind)
{
	(void)h; (void)addr; (void)size; (void)offset; (void)length; (void)arena_ind;
	return true; /* refuse */
}

static bool je_extent_split(extent_hooks_t *h, void *addr, size_t size,
			    size_t size_a, size_t size_b, bool committed,
			    unsigned arena_ind)
{
	(void)h; (void)addr; (void)size; (void)size_a; (void)size_b;
	(void)committed; (void)arena_ind;
	return false;
}

static bool je_extent_merge(extent_hooks_t *h, void *addr_a, size_t size_a,
			    void *addr_b, size_t size_b, bool committed,
			    unsigned arena_ind)
{
	(void)h; (void)addr_a; (void)size_a; (void)addr_b; (void)size_b;
	(void)committed; (void)arena_ind;
	return false;
}

static void *je_create_common(const struct peer_cfg *cfg, bool tcache)
{
	struct je_ctx *c = calloc(1, sizeof(*c));
	extent_hooks_t *hp;
	size_t sz = sizeof(c->arena);
	int err;

	if (!c)
		return NULL;
	c->hooks.alloc = je_extent_alloc;
	c->hooks.dalloc = je_extent_dalloc;
	c->hooks.destroy = je_extent_destroy;
	c->hooks.commit = je_extent_commit;
	c->hooks.decommit = je_extent_decommit;
	c->hooks.split = je_extent_split;
	c->hooks.merge = je_extent_merge;
	pthread_mutex_init(&c->lock, NULL);
	c->len = cfg->region_size;
	c->region = bench_region_alloc(c->len);
	c->tcache = tcache;
	hp = &c->hooks;
	err = mallctl("arenas.create", &c->arena, &sz, &hp, sizeof(hp));
	if (err) {
		fprintf(stderr, "jemalloc: arenas.create: %s\n", strerror(err));
		bench_region_free(c->region, c->len);
		free(c);
		return NULL;
	}
	return c;
}

static void *je_create(const struct peer_cfg *cfg)
{
	return je_create_common(cfg, true);
}

static void *je_create_notcache(const struct peer_cfg *cfg)
{
	return je_create_common(cfg, false);
}

static void *je_thread_init(void *ctx, int tid, int cpu)
{
	struct je_ctx *c = ctx;
	struct je_thread *t = calloc(1, sizeof(*t));
	size_t sz = sizeof(t->tc);

	(void)tid; (void)cpu;
	if (!t)
		return NULL;
	t->c = c;
	t->flags = MALLOCX_ARENA(c->arena) | MALLOCX_TCACHE_NONE;
	if (c->tcache) {
		if (mallctl("tcache.create", &t->tc, &sz, NULL, 0)) {
			free(t);
			return NULL;
		}
		t->flags = MALLOCX_ARENA(c->arena) | MALLOCX_TCACHE(t->tc);
	}
	return t;
}

static int je_map(void *tctx, void *cpu, size_t size, int dir, uint64_t *h)
{
	struct je_thread *t = tctx;
	void *p = mallocx(size, t->flags);

	(void)dir;
	if (!p)
		return -1;
	memcpy(p, cpu, size);
	*h = (uint64_t)(uintptr_t)p;
	return 0;
}

static int je_unmap(void *tctx, uint64_t h, void *cpu, size_t size, int dir)
{
	struct je_thread *t = tctx;
	void *p = (void *)(uintptr_t)h;

	if (bench_copies_back(dir))
		memcpy(cpu, p, size);
	sdallocx(p, size, t->flags);
	return 0;
}

static void je_thread_fini(void *tctx)
{
	struct je_thread *t = tctx;

	if (t->c->tcache)
		mallctl("tcache.destroy", NULL, NULL, &t->tc, sizeof(t->tc));
	free(t);
}

static void je_destroy(void *ctx)
{
	struct je_ctx *c = ctx;
	char cmd[64];

	/* arena.<i>.destroy would call our (no-op) destroy hook; the region
	 * itself is unmapped here, so the arena must not be used again. */
	snprintf(cmd, sizeof(cmd), "arena.%u.destroy", c->arena);
	mallctl(cmd, NULL, NULL, NULL, 0);
	bench_region_free(c->region, c->len);
	pthread_mutex_destroy(&c->lock);
	free(c);
}

const struct peer peer_jemalloc = {
	.name = "jemalloc",
	.desc = "jemalloc 5 arena with extent hooks over a fixed region, mallocx(MALLOCX_ARENA|MALLOCX_TCACHE(per-thread tcache)), plus the copies",
	.create = je_create,
	.thread_init = je_thread_init,
	.map = je_map,
	.unmap = je_unmap,
	.thread_fini = je_thread_fini,
	.destroy = je_destroy,
};

const struct peer peer_jemalloc_notcache = {
	.name = "jemalloc-notcache",
	.desc = "same arena, mallocx(MALLOCX_ARENA|MALLOCX_TCACHE_NONE), plus the copies",
	.create = je_create_notcache,
	.thread_init = je_thread_init,
	.map = je_map,
	.unmap = je_unmap,
	.thread_fini = je_thread_fini,
	.destroy = je_destroy,
};
